/**
 * The task queue port: session tasks handed to worker processes that may run on other machines (issue 15,
 * design.md §8). The adapter is `adapters/queue/pgBossTaskQueue.ts` (pg-boss on the team's PostgreSQL).
 *
 * Contract:
 * - A job is delivered to one worker at a time. A worker that dies (or whose lease, `leaseSeconds`, runs
 *   out) has its job delivered again to another worker: at-least-once delivery. Exactly-once effect is the
 *   worker's job (`TaskLedgerPort`): a task that is already done is not run again.
 * - A handler that resolves completes the job; one that rejects fails it (retried up to `retryLimit`).
 */
import type { MergeJob, TaskJob } from '../domain/workers/taskJob';

export interface QueueSettings {
  /** How long a delivered job may stay unfinished before it goes to another worker (seconds, ≥ 1). */
  leaseSeconds: number;
  /** Deliveries after the first one before a job is failed for good. */
  retryLimit: number;
}

export interface WorkOptions {
  /** Jobs this process runs at once. */
  concurrency: number;
}

export type JobHandler<J> = (job: J, delivery: { jobId: string; retryCount: number }) => Promise<void>;

export interface TaskQueuePort {
  /**
   * Creates the queues (or updates their settings). Idempotent. `onlyMissing`: leaves existing queues' settings
   * as they are (the team server queues jobs; the workers set the lease).
   */
  ensureQueues(settings: QueueSettings, options?: { onlyMissing?: boolean }): Promise<void>;
  /** Queues tasks (one job each); returns the job ids in order. */
  enqueueTasks(jobs: readonly TaskJob[]): Promise<string[]>;
  /** Queues a session's merge (after its last task is done). Duplicates are harmless. */
  enqueueMerge(job: MergeJob): Promise<void>;
  /** Starts taking task and merge jobs. Bad job data fails that job with a message naming the field. */
  work(handlers: { task: JobHandler<TaskJob>; merge: JobHandler<MergeJob> }, options: WorkOptions): Promise<void>;
  /** Stops taking jobs, waits for running handlers up to `timeoutMs`, closes the connection. */
  stop(timeoutMs: number): Promise<void>;
}
