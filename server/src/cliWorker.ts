/**
 * `orchestrator worker --store postgres://… --remote GIT_URL --data DIR`: one worker of a team (issue 15,
 * design.md §8). It takes session tasks from the job queue in the team's PostgreSQL (pg-boss), runs each in
 * a worktree of its own clone of the remote with the configured ACP agents, pushes the task branch, records
 * the outcome in the task ledger, and merges a session once all its tasks are recorded (one worker at a time).
 * Prints `worker ID ready` on stdout once it takes jobs; stops on SIGTERM or SIGINT (running tasks get 30 s).
 */
import os from 'node:os';
import path from 'node:path';
import { AcpAgents } from './acpAgents';
import { RealPathResolver } from './adapters/fs/realPathResolver';
import { RemoteClone } from './adapters/git/remoteClone';
import { PgTaskLedger } from './adapters/postgres/pgTaskLedger';
import { PgBossTaskQueue } from './adapters/queue/pgBossTaskQueue';
import { BubblewrapSandbox, detectBubblewrap } from './adapters/sandbox/bubblewrap';
import type { AgentSettings } from './agents';
import { CliUsageError } from './cliArgs';
import { redactUrlUserinfo } from './domain/redact';
import type { TurnTimeouts } from './ports/agentRuntime';
import type { Logger } from './ports/logger';
import { TaskBusyError, WorkerService } from './services/workerService';

export interface WorkerArgs {
  store: string | undefined;
  remote: string | undefined;
  data: string | undefined;
  concurrency: number | undefined;
  leaseSeconds: number | undefined;
  agentSettings: AgentSettings;
}

/**
 * Deliveries of a job after the first: a task whose lease ran out while its worker still runs it comes back
 * (busy) every 2 s until that worker ends it, so the limit is high; failed tasks are outcomes, not retries.
 */
const retryLimit = 1000;

function checkArgs(a: WorkerArgs): { store: string; remote: string; data: string } {
  let url: URL | undefined;
  try {
    url = a.store ? new URL(a.store) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || !['postgres:', 'postgresql:'].includes(url.protocol) || !url.hostname)
    throw new CliUsageError(
      `worker needs --store postgres://USER:PASSWORD@HOST:PORT/DATABASE (got ${JSON.stringify(redactUrlUserinfo(a.store ?? ''))})`,
      'worker',
    );
  if (!a.remote) throw new CliUsageError('worker needs --remote GIT_URL, the git remote tasks are cloned from and pushed to', 'worker');
  if (!a.data) throw new CliUsageError("worker needs --data DIR, this worker's own folder (clone, worktrees)", 'worker');
  if (a.leaseSeconds !== undefined && a.leaseSeconds > 86_400)
    throw new CliUsageError('--lease-seconds must be at most 86400 (a day)', 'worker');
  if (!a.agentSettings.acpAgents?.length)
    throw new CliUsageError('worker needs at least one ACP agent in the config file (acpAgents), see docs/team-server.md', 'worker');
  return { store: a.store!, remote: a.remote, data: path.resolve(a.data) };
}

export async function runWorker(a: WorkerArgs, logger: Logger): Promise<number> {
  const { store, remote, data } = checkArgs(a);
  const leaseSeconds = a.leaseSeconds ?? 900;
  const workerId = `${os.hostname()}-${process.pid}`;
  const timeouts = a.agentSettings.timeouts as Partial<TurnTimeouts> | undefined;
  const detection = await detectBubblewrap({ mode: a.agentSettings.sandbox ?? 'auto' });
  const sandbox =
    detection.bwrap && detection.bash
      ? new BubblewrapSandbox(path.join(data, 'agents', 'sandbox'), { bwrap: detection.bwrap, bash: detection.bash })
      : undefined;
  const agents = new AcpAgents(data, logger, () => undefined);
  agents.init(a.agentSettings.acpAgents ?? [], timeouts, sandbox);
  const ledger = new PgTaskLedger({ url: store, poolSize: 2 + (a.concurrency ?? 2) });
  const queue = new PgBossTaskQueue({ url: store, leaseSeconds, onError: (e) => logger.warn(`job queue: ${e.message}`) });
  const clone = new RemoteClone(data, remote);
  const service = new WorkerService({
    workerId,
    ledger,
    queue,
    repoFor: (r) => {
      if (r !== remote) throw new Error(`this worker serves the remote ${redactUrlUserinfo(remote)}, not ${redactUrlUserinfo(r)}`);
      return clone;
    },
    agentFor: (id) => agents.runtime(id),
    logger,
    paths: new RealPathResolver(),
  });
  try {
    await ledger.ensure();
    await queue.ensureQueues({ leaseSeconds, retryLimit });
    await queue.work(
      {
        task: async (job, d) => {
          try {
            await service.runTask(job, d.retryCount + 1);
          } catch (e) {
            if (!(e instanceof TaskBusyError))
              logger.warn(`task ${job.sessionId}/${job.taskId}: ${redactUrlUserinfo(String(e))} (it goes back to the queue)`);
            throw e;
          }
        },
        merge: async (job) => {
          try {
            logger.info(`merge of session ${job.sessionId}: ${await service.mergeSession(job)}`);
          } catch (e) {
            logger.warn(`merge of session ${job.sessionId}: ${redactUrlUserinfo(String(e))} (it goes back to the queue)`);
            throw e;
          }
        },
      },
      { concurrency: a.concurrency ?? 2 },
    );
    process.stdout.write(`worker ${workerId} ready\n`);
    await new Promise<void>((resolve) => {
      for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => resolve());
    });
  } finally {
    await queue.stop(30_000);
    await agents.dispose();
    await ledger.close();
  }
  return 0;
}
