/**
 * The task queue (`ports/taskQueue.ts`) on pg-boss in the team's PostgreSQL (schema `pgboss`): the only
 * place that talks to the job queue. Queue `orch-tasks` holds session tasks, `orch-merges` session merges.
 * A job's lease is pg-boss's expiry (`expireInSeconds` on the queue): a job left active longer (its worker
 * died, or hangs) is failed by the supervisor and delivered again, up to `retryLimit` times. Each process
 * checks expiries every quarter lease (1–60 s).
 */
import { PgBoss } from 'pg-boss';
import { withDeadline } from '../deadline';
import { mergeJobSchema, parseJob, taskJobSchema, type MergeJob, type TaskJob } from '../../domain/workers/taskJob';
import type { JobHandler, QueueSettings, TaskQueuePort, WorkOptions } from '../../ports/taskQueue';

export const taskQueueName = 'orch-tasks';
export const mergeQueueName = 'orch-merges';

export interface PgBossTaskQueueOptions {
  url: string;
  /** The lease this process expects: sets how often it checks for expired jobs. */
  leaseSeconds: number;
  /** Seconds between polls when idle (≥ 0.5). */
  pollSeconds?: number;
  /** Connections to PostgreSQL. */
  poolSize?: number;
  onError?: (e: Error) => void;
  /** The deadline of starting and of each queueing call (default 60 s). */
  startMs?: number;
}

export class PgBossTaskQueue implements TaskQueuePort {
  private readonly boss: PgBoss;
  private started?: Promise<void>;

  constructor(private readonly opts: PgBossTaskQueueOptions) {
    const check = Math.min(60, Math.max(1, Math.ceil(opts.leaseSeconds / 4)));
    this.boss = new PgBoss({
      connectionString: opts.url,
      max: opts.poolSize ?? 4,
      supervise: true,
      schedule: false,
      superviseIntervalSeconds: check,
      monitorIntervalSeconds: check,
    });
    this.boss.on('error', (e: Error) => opts.onError?.(e));
  }

  private start(): Promise<void> {
    this.started ??= withDeadline(
      this.boss.start().then(() => undefined),
      this.opts.startMs ?? 60_000,
      'starting the job queue (pg-boss)',
    );
    return this.started;
  }

  async ensureQueues(s: QueueSettings, o: { onlyMissing?: boolean } = {}): Promise<void> {
    await this.start();
    const options = { expireInSeconds: s.leaseSeconds, retryLimit: s.retryLimit, retryDelay: 2 };
    for (const name of [taskQueueName, mergeQueueName]) {
      if (await this.boss.getQueue(name)) {
        if (!o.onlyMissing) await this.boss.updateQueue(name, options);
      } else
        await this.boss.createQueue(name, options).catch(async (e: unknown) => {
          // Another process created it between the check and here.
          if (!(await this.boss.getQueue(name))) throw e;
          if (!o.onlyMissing) await this.boss.updateQueue(name, options);
        });
    }
  }

  async enqueueTasks(jobs: readonly TaskJob[]): Promise<string[]> {
    await this.start();
    const checked = jobs.map((j, i) => parseJob(taskJobSchema, j, `task #${i}`));
    const ids: string[] = [];
    for (let i = 0; i < checked.length; i += 500) {
      // A deadline: a hung connection must not hold the caller's task forever (it then records the task ended).
      const r = await withDeadline(
        this.boss.insert(
          taskQueueName,
          checked.slice(i, i + 500).map((data) => ({ data })),
        ),
        this.opts.startMs ?? 60_000,
        'queueing tasks',
      );
      ids.push(...(r ?? []));
    }
    return ids;
  }

  async enqueueMerge(job: MergeJob): Promise<void> {
    await this.start();
    await withDeadline(
      this.boss.send(mergeQueueName, parseJob(mergeJobSchema, job, 'merge')),
      this.opts.startMs ?? 60_000,
      'queueing a merge',
    );
  }

  async work(handlers: { task: JobHandler<TaskJob>; merge: JobHandler<MergeJob> }, o: WorkOptions): Promise<void> {
    await this.start();
    const poll = Math.max(0.5, this.opts.pollSeconds ?? 0.5);
    await this.boss.work<unknown>(
      taskQueueName,
      { batchSize: 1, localConcurrency: o.concurrency, pollingIntervalSeconds: poll },
      async ([job]) => {
        await handlers.task(parseJob(taskJobSchema, job.data, 'task'), { jobId: job.id, retryCount: job.retryCount });
      },
    );
    await this.boss.work<unknown>(mergeQueueName, { batchSize: 1, localConcurrency: 1, pollingIntervalSeconds: poll }, async ([job]) => {
      await handlers.merge(parseJob(mergeJobSchema, job.data, 'merge'), { jobId: job.id, retryCount: job.retryCount });
    });
  }

  async stop(timeoutMs: number): Promise<void> {
    if (!this.started) return;
    await withDeadline(this.boss.stop({ graceful: true, timeout: timeoutMs }), timeoutMs + 5_000, 'stopping the job queue').catch(
      () => undefined,
    );
  }
}
