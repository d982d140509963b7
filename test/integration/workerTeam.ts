/**
 * A team of `orchestrator worker` processes for tests and the bench (issue 15): a real PostgreSQL database, a
 * bare git repository on this machine standing in for the team's remote, the scripted model, and the
 * project's fixture ACP agent (its `MODEL` command asks the scripted model, then writes the answer through a
 * permission-checked `fs/write_text_file`). Each worker has its own data folder and reaches the code only
 * through the remote. Tasks are queued through the real pg-boss adapter. Every wait has a deadline.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { PgBossTaskQueue } from '../../server/src/adapters/queue/pgBossTaskQueue';
import { startScriptedModel, textOf, type ScriptedModel } from '../../server/src/adapters/scriptedModel/scriptedModel';
import type { TaskJob } from '../../server/src/domain/workers/taskJob';
import { cliJs, tempDir } from './serverProcess';

const fixture = path.resolve(__dirname, '../fixtures/acp/fixtureAgent.mjs');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface WorkerProc {
  name: string;
  child: ChildProcess;
  dataDir: string;
  /** The id the worker records in the ledger (`host-pid`). */
  id: string;
  stderr(): string;
  /** SIGTERM, then SIGKILL after the deadline. */
  stop(): Promise<void>;
  /** kill -9. */
  kill9(): Promise<void>;
}

export interface WorkerTeam {
  url: string;
  remote: string;
  baseCommit: string;
  /** The config file naming the fixture ACP agent (`acpAgents`), as workers get it. */
  configFile: string;
  model: ScriptedModel;
  sql: pg.Client;
  queue: PgBossTaskQueue;
  startWorker(name: string, o?: { concurrency?: number; leaseSeconds?: number }): Promise<WorkerProc>;
  /** Queues `tasks` tasks in each session (one file each, `out/<task>.txt`); the agent waits `delayMs` first. */
  enqueue(tenantId: string, sessionIds: string[], tasks: number, delayMs?: number): Promise<TaskJob[]>;
  /** Waits until every session has its merge recorded. */
  waitMerged(tenantId: string, sessionIds: string[], ms: number): Promise<void>;
  /** Model requests per `tenant/session/task`, counted at the scripted model. */
  modelCalls(): Map<string, number>;
  close(): Promise<void>;
}

const git = (cwd: string, ...a: string[]) =>
  execFileSync('git', ['-c', 'user.email=t@example.invalid', '-c', 'user.name=test', ...a], {
    cwd,
    encoding: 'utf8',
    timeout: 60_000,
  }).trim();

/** Starts the team's parts on the database `url`; `leaseSeconds` is the queue's lease. */
export async function startWorkerTeam(url: string, leaseSeconds: number): Promise<WorkerTeam> {
  const root = tempDir('orch-workers-');
  // The team's remote: a bare repository with one commit, pushed from a seed clone.
  const remote = path.join(root, 'remote.git');
  git(root, 'init', '-q', '--bare', '-b', 'main', remote);
  const seed = path.join(root, 'seed');
  git(root, 'clone', '-q', remote, seed);
  fs.writeFileSync(path.join(seed, 'README.md'), '# team repo\n');
  git(seed, 'add', '-A');
  git(seed, 'commit', '-qm', 'init');
  git(seed, 'push', '-q', 'origin', 'HEAD:main');
  const baseCommit = git(seed, 'rev-parse', 'HEAD');

  const model = await startScriptedModel();
  const configFile = path.join(root, 'config.json');
  fs.writeFileSync(
    configFile,
    JSON.stringify({
      sandbox: 'off',
      acpAgents: [
        {
          descriptor: {
            id: 'fixture-agent',
            name: 'Fixture agent',
            version: '1.0.0',
            description: 'The project-owned ACP fixture agent',
            _meta: { orchestrator: { command: { path: process.execPath, args: [fixture] }, env: { pass: ['FIXTURE_MODEL_URL'] } } },
          },
        },
      ],
    }),
  );
  const sql = new pg.Client({ connectionString: url, query_timeout: 30_000 });
  await sql.connect();
  const queue = new PgBossTaskQueue({ url, leaseSeconds });
  await queue.ensureQueues({ leaseSeconds, retryLimit: 1000 });
  const workers: WorkerProc[] = [];

  const startWorker = async (name: string, o: { concurrency?: number; leaseSeconds?: number } = {}): Promise<WorkerProc> => {
    const dataDir = path.join(root, `worker-${name}`);
    const args = [cliJs, 'worker', '--store', url, '--remote', remote, '--data', dataDir, '--config', configFile, '--log-level', 'info'];
    args.push('--concurrency', String(o.concurrency ?? 4), '--lease-seconds', String(o.leaseSeconds ?? leaseSeconds));
    const child = spawn(process.execPath, args, {
      env: { ...process.env, FIXTURE_MODEL_URL: model.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-200_000)));
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const end = Date.now() + 90_000;
    while (!/worker (\S+) ready/.test(out)) {
      if (child.exitCode !== null) throw new Error(`worker ${name} exited ${child.exitCode}: ${err.slice(-2000)}`);
      if (Date.now() > end) throw new Error(`worker ${name} not ready within 90 s: ${err.slice(-2000)}`);
      await sleep(100);
    }
    const w: WorkerProc = {
      name,
      child,
      dataDir,
      id: /worker (\S+) ready/.exec(out)![1],
      stderr: () => err,
      stop: async () => {
        if (child.exitCode !== null || child.signalCode) return;
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 45_000);
        await exited;
        clearTimeout(t);
      },
      kill9: async () => {
        child.kill('SIGKILL');
        await exited;
      },
    };
    workers.push(w);
    return w;
  };

  const enqueue = async (tenantId: string, sessionIds: string[], tasks: number, delayMs = 0): Promise<TaskJob[]> => {
    const jobs: TaskJob[] = sessionIds.flatMap((sessionId) =>
      Array.from({ length: tasks }, (_, i) => {
        const taskId = `t${String(i + 1).padStart(3, '0')}`;
        return {
          tenantId,
          sessionId,
          taskId,
          remote,
          baseCommit,
          prompt: `MODEL out/${taskId}.txt ${delayMs} task=${tenantId}/${sessionId}/${taskId} summarise the task`,
          agent: 'fixture-agent',
          order: i,
          sessionTasks: tasks,
        };
      }),
    );
    await queue.enqueueTasks(jobs);
    return jobs;
  };

  const waitMerged = async (tenantId: string, sessionIds: string[], ms: number): Promise<void> => {
    const end = Date.now() + ms;
    for (;;) {
      const r = await sql.query<{ n: number }>(
        `select count(*)::int as n from orch_worker_merges where tenant_id = $1 and session_id = any($2::text[])`,
        [tenantId, sessionIds],
      );
      if (r.rows[0].n >= sessionIds.length) return;
      if (Date.now() > end) {
        const done = await sql.query(`select count(*)::int as n from orch_worker_task_outcomes where tenant_id = $1`, [tenantId]);
        throw new Error(
          `${r.rows[0].n}/${sessionIds.length} sessions merged after ${ms} ms (${done.rows[0].n} tasks recorded); ` +
            workers.map((w) => `worker ${w.name}: ${w.stderr().slice(-1500)}`).join('\n'),
        );
      }
      await sleep(250);
    }
  };

  const modelCalls = (): Map<string, number> => {
    const m = new Map<string, number>();
    for (const r of model.requests) {
      const k = /task=(\S+)/.exec((r.body?.messages ?? []).map((x) => textOf(x.content)).join(' '))?.[1];
      if (k) m.set(k, (m.get(k) ?? 0) + 1);
    }
    return m;
  };

  return {
    url,
    remote,
    baseCommit,
    configFile,
    model,
    sql,
    queue,
    startWorker,
    enqueue,
    waitMerged,
    modelCalls,
    close: async () => {
      await Promise.all(workers.map((w) => w.stop()));
      await queue.stop(5_000);
      await sql.end().catch(() => undefined);
      await model.close();
      fs.rmSync(root, { recursive: true, force: true, maxRetries: 5 });
    },
  };
}

/** The branches on the remote (`git ls-remote --heads`), without `refs/heads/`. */
export function remoteBranches(remote: string): Set<string> {
  return new Set(
    git(path.dirname(remote), 'ls-remote', '--heads', remote)
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('\t')[1].replace(/^refs\/heads\//, '')),
  );
}

export { git };
