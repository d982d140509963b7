/**
 * A worker's use cases (issue 15, design.md §8): run one queued session task, and merge a session once all
 * its tasks are recorded. Sequences ports only: the ledger (PostgreSQL), the remote clone (git) and the
 * agent runtime.
 *
 * Task: already recorded → nothing (a re-delivered job of a finished task). Held by another live worker →
 * the job fails and comes back later. Otherwise: worktree at the base commit on `orchestrator/<session>/<task>`,
 * one agent turn, commit, push, record the outcome (the same row the first check reads). A failed turn is a
 * failed task with the agent's stderr tail. The last task of a session queues its merge.
 * Any other error of the run (git: commit, push, a refused branch) is a failed task too, recorded once: a
 * redelivery would run the agent again. Pushes replace only what the remote held when the task started.
 * Merge: under the session's advisory lock, once: the succeeded tasks' recorded commits in plan order onto
 * `orchestrator/<session>/integration` at the base commit, pushed; failed tasks are named in the merge record.
 */
import { defaultAllowedCommands, type PolicyRequest } from '../domain/permissionPolicy';
import { redactUrlUserinfo } from '../domain/redact';
import { mergeOrder, type MergeJob, type TaskJob } from '../domain/workers/taskJob';
import type { AgentRuntime, PermissionPolicy } from '../ports/agentRuntime';
import type { Logger } from '../ports/logger';
import type { PathResolverPort } from '../ports/pathResolver';
import type { RemoteRepoPort } from '../ports/remoteRepo';
import type { TaskLedgerPort, WorkerUsage } from '../ports/taskLedger';
import type { TaskQueuePort } from '../ports/taskQueue';
import { decideResolved } from './policyInput';
import { integrationBranchOf, taskBranchOf } from './sessionLayout';

/** The task is being run by another live worker: the job comes back later. */
export class TaskBusyError extends Error {
  constructor(readonly taskId: string) {
    super(`task ${taskId} is running on another worker`);
    this.name = 'TaskBusyError';
  }
}

export interface WorkerServiceDeps {
  workerId: string;
  ledger: TaskLedgerPort;
  queue: TaskQueuePort;
  /** The clone of a job's remote (one per remote URL). */
  repoFor(remote: string): RemoteRepoPort;
  /** The agent runtime of an agent id; undefined when this worker has no such agent. */
  agentFor(id: string): AgentRuntime | undefined;
  logger: Logger;
  /** Where paths really are (symlinks followed) and the home folder, for the permission policy. */
  paths: PathResolverPort;
  /** How long a merge waits for another worker's merge of the same session. */
  mergeLockWaitMs?: number;
}

/**
 * The worker's policy for a task in `worktree`, with nobody to ask: the real permission policy's `allow` on
 * the resolved request (a symlink in the worktree is judged by where it points), everything else denied.
 */
export function workerPolicy(worktree: string, paths: PathResolverPort): PermissionPolicy {
  return async (req) => {
    const filepath = typeof req.metadata?.filepath === 'string' ? req.metadata.filepath : undefined;
    const base: PolicyRequest = {
      permission: req.permission,
      patterns: req.patterns,
      cwd: worktree,
      repoRoot: worktree,
      patternBase: worktree,
      ...(filepath ? { filepath } : {}),
    };
    const v = await decideResolved(base, paths, { allowedCommands: defaultAllowedCommands });
    return v.decision === 'allow' ? 'allow' : 'deny';
  };
}

/** A turn's usage as recorded in the outcome row. */
export function turnUsage(
  agent: string,
  u: { inputTokens: number; outputTokens: number; reasoningTokens?: number; cacheReadTokens?: number; cost?: number },
  model?: string,
): WorkerUsage {
  return {
    inputTokens: u.inputTokens,
    outputTokens: u.outputTokens,
    reasoningTokens: u.reasoningTokens ?? 0,
    cacheReadTokens: u.cacheReadTokens ?? 0,
    cost: u.cost ?? 0,
    agent,
    ...(model ? { model } : {}),
  };
}

export class WorkerService {
  constructor(private readonly d: WorkerServiceDeps) {}

  async runTask(job: TaskJob, attempt: number): Promise<'done' | 'already_done'> {
    const key = { tenantId: job.tenantId, sessionId: job.sessionId, taskId: job.taskId };
    if (await this.d.ledger.outcome(key)) return this.afterTask(job, 'already_done');
    const claim = await this.d.ledger.claim(key);
    if (!claim) throw new TaskBusyError(job.taskId);
    try {
      // Re-read under the claim: another worker may have finished it between the check and the claim.
      if (await this.d.ledger.outcome(key)) return await this.afterTask(job, 'already_done');
      await this.d.ledger.recordStart(key, this.d.workerId, attempt);
      const branch = taskBranchOf(job.sessionId, job.taskId);
      const t0 = Date.now();
      const { ms, ...outcome } = await this.execute(job, branch).catch((e: unknown) => ({
        // A git error (commit, push, a refused branch) fails the task once: a redelivery would run the agent again.
        state: 'failed' as const,
        error: `worker error: ${redactUrlUserinfo(e instanceof Error ? e.message : String(e))}`,
        ms: { agent: 0, git: 0 },
      }));
      const recorded = await this.d.ledger.recordOutcome(key, { ...outcome, branch, order: job.order, workerId: this.d.workerId });
      // The server decided the task first (a cancel or a deadline): the turn ran all the same, so its usage is
      // added to that row (the server counts it against the owner's quotas; see `workerDispatch.ts`).
      const usage = 'usage' in outcome ? outcome.usage : undefined;
      if (!recorded && usage) {
        const added = await this.d.ledger.recordUsage(key, usage).catch((e: unknown) => {
          this.d.logger.error(`task ${job.sessionId}/${job.taskId}: recording its turn's usage failed: ${String(e)}`);
          return true;
        });
        if (!added) this.d.logger.warn(`task ${job.sessionId}/${job.taskId}: its outcome row has usage already; this turn's was not added`);
      }
      this.d.logger.info(
        `task ${job.sessionId}/${job.taskId}: ${outcome.state}${recorded ? '' : ' (already recorded)'} in ${Date.now() - t0} ms (agent ${ms.agent} ms, git ${ms.git} ms)`,
      );
    } finally {
      await claim.release();
    }
    return this.afterTask(job, 'done');
  }

  private async execute(
    job: TaskJob,
    branch: string,
  ): Promise<{ state: 'succeeded' | 'failed'; commit?: string; error?: string; usage?: WorkerUsage; ms: { agent: number; git: number } }> {
    const ms = { agent: 0, git: 0 };
    const agent = this.d.agentFor(job.agent);
    if (!agent) return { state: 'failed', error: `this worker has no agent ${JSON.stringify(job.agent)} (see its --config)`, ms };
    const repo = this.d.repoFor(job.remote);
    const worktree = repo.worktreeOf(job.tenantId, job.sessionId, job.taskId);
    let t = Date.now();
    await repo.ensureCommit(job.baseCommit);
    await repo.addWorktree(worktree, branch, job.baseCommit);
    // What the remote's task branch holds now (a dead attempt's push, or nothing): the push replaces only that.
    const before = await repo.remoteHead(branch);
    ms.git += Date.now() - t;
    const runId = `${job.sessionId}.${job.taskId}.${this.d.workerId}`;
    try {
      t = Date.now();
      const result = await agent.prompt(
        { runId, cwd: worktree, prompt: job.prompt, permissionPolicy: workerPolicy(worktree, this.d.paths) },
        () => undefined,
      );
      ms.agent = Date.now() - t;
      // The turn's usage goes in the outcome row: the team server counts it against the owner's quotas.
      const usage = turnUsage(job.agent, result.usage);
      if (result.status !== 'succeeded') {
        const e = result.error;
        const tail = e?.stderrTail ? `\n--- agent stderr (tail) ---\n${e.stderrTail}` : '';
        return { state: 'failed', error: `${e?.reason ?? result.status}: ${e?.message ?? result.stopReason}${tail}`, usage, ms };
      }
      t = Date.now();
      try {
        const commit = await repo.commitAll(worktree, `${job.taskId}: ${job.prompt.split('\n')[0].slice(0, 72)}`);
        await repo.push(worktree, branch, before);
        ms.git += Date.now() - t;
        return { state: 'succeeded', commit, usage, ms };
      } catch (e) {
        // As `runTask`'s catch, but the turn's usage is kept: the agent ran.
        return { state: 'failed', error: `worker error: ${redactUrlUserinfo(e instanceof Error ? e.message : String(e))}`, usage, ms };
      }
    } finally {
      agent.release?.(runId);
      t = Date.now();
      await repo.removeWorktree(worktree).catch((e: unknown) => this.d.logger.warn(`removing ${worktree}: ${String(e)}`));
      ms.git += Date.now() - t;
    }
  }

  /** Queues the session's merge when every task is recorded (any worker may see it first; merges run once). */
  private async afterTask<R>(job: TaskJob, r: R): Promise<R> {
    const done = await this.d.ledger.doneTasks(job.tenantId, job.sessionId);
    if (done.length >= job.sessionTasks && !(await this.d.ledger.mergeOf(job.tenantId, job.sessionId)))
      await this.d.queue.enqueueMerge({
        tenantId: job.tenantId,
        sessionId: job.sessionId,
        remote: job.remote,
        baseCommit: job.baseCommit,
        sessionTasks: job.sessionTasks,
      });
    return r;
  }

  async mergeSession(job: MergeJob): Promise<'merged' | 'conflict' | 'moved' | 'already_merged' | 'incomplete'> {
    const { tenantId, sessionId } = job;
    return this.d.ledger.withMergeLock(tenantId, sessionId, this.d.mergeLockWaitMs ?? 120_000, async () => {
      if (await this.d.ledger.mergeOf(tenantId, sessionId)) return 'already_merged';
      const done = mergeOrder(await this.d.ledger.doneTasks(tenantId, sessionId));
      if (done.length < job.sessionTasks) return 'incomplete';
      const tasks = done.filter((t) => t.state === 'succeeded');
      const failed = done.filter((t) => t.state !== 'succeeded').map((t) => t.taskId);
      const withFailed = failed.length ? { failed } : {};
      const repo = this.d.repoFor(job.remote);
      await repo.ensureCommit(job.baseCommit);
      await repo.fetchBranches(tasks.map((t) => t.branch));
      const branch = integrationBranchOf(sessionId);
      const worktree = repo.worktreeOf(tenantId, sessionId, '_integration');
      await repo.addWorktree(worktree, branch, job.baseCommit);
      try {
        const before = await repo.remoteHead(branch);
        for (const t of tasks) {
          const r = await repo.merge(worktree, t.branch, t.commit ?? '', `Merge ${t.taskId} into ${sessionId}`);
          if (r !== 'merged') {
            await this.d.ledger.recordMerge(tenantId, sessionId, { state: r, workerId: this.d.workerId, taskId: t.taskId, ...withFailed });
            this.d.logger.warn(
              `session ${sessionId}: ${t.taskId} ${r === 'conflict' ? 'conflicts' : `is no longer at its recorded commit ${t.commit ?? '(none)'} on the remote`}; the integration branch was not pushed`,
            );
            return r;
          }
        }
        await repo.push(worktree, branch, before);
        const commit = await repo.head(worktree);
        await this.d.ledger.recordMerge(tenantId, sessionId, { state: 'merged', commit, workerId: this.d.workerId, ...withFailed });
        this.d.logger.info(
          `session ${sessionId}: ${tasks.length} task branches merged and pushed (${commit})${failed.length ? `; failed, not merged: ${failed.join(', ')}` : ''}`,
        );
        return 'merged';
      } finally {
        await repo.removeWorktree(worktree).catch((e: unknown) => this.d.logger.warn(`removing ${worktree}: ${String(e)}`));
      }
    });
  }
}
