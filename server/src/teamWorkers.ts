/**
 * `orchestrator serve --workers --remote GIT_URL` (needs `--store postgres://…`): session tasks run on
 * `orchestrator worker` processes, not in the server (docs/team-server.md, Workers). Builds the parts the
 * team server shares between its tenants: the job queue, the task ledger and the dispatch that follows them.
 */
import { TeamRemoteGit } from './adapters/git/teamRemote';
import { PgTaskLedger } from './adapters/postgres/pgTaskLedger';
import { PgBossTaskQueue } from './adapters/queue/pgBossTaskQueue';
import { CliUsageError } from './cliArgs';
import { usageLine, type UsageLine } from './domain/auth/usageReport';
import { redactUrlUserinfo } from './domain/redact';
import type { Logger } from './ports/logger';
import { WorkerDispatch, type WorkerUsageEvent } from './services/workerDispatch';

export interface TeamWorkersOptions {
  /** The team's git remote the workers serve. */
  remote: string;
  /** The one tenant whose sessions go to the workers (one remote per tenant); others run in the server. */
  tenant: string;
  /** Seconds before a task no worker took shows as waiting (default 60). */
  warnSeconds?: number;
  /** Seconds before a task (or a merge) no worker took fails (default 1800). */
  pickupSeconds?: number;
}

/** Checks `serve --workers` options: the remote is required, and the PostgreSQL store. */
export function checkWorkersOptions(o: {
  workers: boolean;
  remote: string | undefined;
  tenant?: string;
  storeUrl: string | undefined;
  warnSeconds?: number;
  pickupSeconds?: number;
}): TeamWorkersOptions | undefined {
  if (!o.workers) {
    if (o.remote || o.tenant || o.warnSeconds !== undefined || o.pickupSeconds !== undefined)
      throw new CliUsageError('--remote, --workers-tenant, --worker-warn-seconds and --worker-deadline-seconds go with --workers', 'serve');
    return undefined;
  }
  if (!o.storeUrl)
    throw new CliUsageError('serve --workers needs --store postgres://… (the queue and the task ledger live there)', 'serve');
  if (!o.remote) throw new CliUsageError("serve --workers needs --remote GIT_URL, the team's git remote the workers serve", 'serve');
  // Workers serve one remote and keep one clone of it: sessions of two tenants would share both.
  if (!o.tenant)
    throw new CliUsageError(
      'serve --workers needs --workers-tenant ID, the one tenant whose sessions go to the workers (one remote per tenant)',
      'serve',
    );
  if (o.warnSeconds !== undefined && o.pickupSeconds !== undefined && o.warnSeconds >= o.pickupSeconds)
    throw new CliUsageError('--worker-warn-seconds must be below --worker-deadline-seconds', 'serve');
  return { remote: o.remote, tenant: o.tenant, warnSeconds: o.warnSeconds, pickupSeconds: o.pickupSeconds };
}

export interface TeamWorkers {
  dispatch: WorkerDispatch;
  /** The tenant whose sessions go to the workers. */
  tenant: string;
  close(): Promise<void>;
}

/**
 * Connects to the queue and the ledger (creating what is missing; the workers' queue settings are kept). The
 * server's git calls to the remote run in its own repository under `dataDir` (`TeamRemoteGit`).
 */
export async function openTeamWorkers(storeUrl: string, dataDir: string, o: TeamWorkersOptions, logger: Logger): Promise<TeamWorkers> {
  const ledger = new PgTaskLedger({ url: storeUrl, poolSize: 4 });
  const queue = new PgBossTaskQueue({ url: storeUrl, leaseSeconds: 900, onError: (e) => logger.warn(`job queue: ${e.message}`) });
  await ledger.ensure();
  // The same defaults as `orchestrator worker`; a worker that starts later sets its own lease.
  await queue.ensureQueues({ leaseSeconds: 900, retryLimit: 1000 }, { onlyMissing: true });
  const git = new TeamRemoteGit(o.remote, dataDir);
  const dispatch = new WorkerDispatch({
    queue,
    ledger,
    remote: o.remote,
    pushBase: (cwd, commit, branch) => git.pushBase(cwd, commit, branch),
    changedFiles: (cwd, branch, base, commit) => git.changedFiles(cwd, branch, base, commit),
    mergeDependencies: (cwd, base, deps, branch) => git.mergeDependencies(cwd, base, deps, branch),
    fetchInto: (cwd, branch, base, commit) => git.fetchInto(cwd, branch, base, commit),
    logger,
    now: Date.now,
    ...(o.warnSeconds !== undefined ? { warnMs: o.warnSeconds * 1000 } : {}),
    ...(o.pickupSeconds !== undefined ? { pickupMs: o.pickupSeconds * 1000 } : {}),
  });
  logger.info(`team server: session tasks of tenant ${o.tenant} go to workers of ${redactUrlUserinfo(o.remote)}`);
  return {
    dispatch,
    tenant: o.tenant,
    close: async () => {
      await dispatch.close();
      await queue.stop(5_000);
      await ledger.close();
    },
  };
}

/**
 * A worker turn's usage as a line of the tenant's usage ledger, attributed to the session's owner like a local
 * run's (`usageLine`): the ledger keeps one line per `usageId`, so a re-read outcome is counted once.
 */
export function workerUsageLine(e: WorkerUsageEvent, owner: { userId: string; userName?: string; keyId?: string } | undefined): UsageLine {
  return usageLine(
    {
      id: e.usageId,
      agent: e.usage.agent,
      ...(e.usage.model ? { model: e.usage.model } : {}),
      sessionId: e.sessionId,
      usage: {
        inputTokens: e.usage.inputTokens,
        outputTokens: e.usage.outputTokens,
        reasoningTokens: e.usage.reasoningTokens ?? 0,
        cost: e.usage.cost ?? 0,
      },
    },
    e.atMs,
    owner && { userId: owner.userId, userName: owner.userName ?? owner.userId, ...(owner.keyId ? { keyId: owner.keyId } : {}) },
  );
}
