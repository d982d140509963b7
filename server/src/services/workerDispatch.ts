/**
 * The team server's side of workers (`serve --workers`, design.md §8): a dispatched session task is not run
 * in the server; it is queued for the workers (pg-boss) and followed through the ledger rows they write.
 * Sequences ports only: the task queue, the task ledger and a push of the session's base commit.
 *
 * Deadlines (every wait has one):
 * - no worker has started the task `warnMs` after it was queued (default 60 s): `waiting` is told (the
 *   session shows the task waiting for a worker, with why), and again when a worker takes it;
 * - none has started it `pickupMs` after it was queued (default 30 min): the task fails, and a `cancelled`
 *   outcome is recorded so a worker that comes later skips it;
 * - a started task is followed for `runMs` (default 6 h; a dead worker's task goes to another after its
 *   lease): then it fails the same way;
 * - a merge not recorded `pickupMs` after it was queued: the merge is reported as not done.
 * A ledger read that fails is logged and tried again at the next poll, until those deadlines: a passing database
 * error does not fail a task whose job is queued. On giving up, the `cancelled` outcome is recorded as above.
 * A cancelled task (the session or the task cancelled) gets a `cancelled` outcome at once: a worker that has
 * not started it skips it; one that runs it now finishes, and its outcome is not recorded over this one.
 *
 * Usage: a worker's outcome carries its turn's usage. Each time an outcome with usage is read, it is handed
 * to the tenant's `onUsage` handler (the team server's usage ledger, which keeps one line per `usageId`, so
 * re-reading the row, also after a restart, counts it once) before the task's end is returned.
 * A turn that ends after the server decided its task (a cancel or a deadline wrote the `cancelled` row first)
 * still ran: its worker adds the usage to that row (`recordUsage`). The server follows such a row until its
 * usage is there (while a worker runs the task, up to `runMs`; when none had started it, `warnMs`), and the
 * session's merge reads every row's usage again: the same `usageId`, so it is counted once.
 */
import { mergeOrder } from '../domain/workers/taskJob';
import type { Logger } from '../ports/logger';
import type { MergeRecord, TaskKey, TaskLedgerPort, TaskOutcome, WorkerUsage } from '../ports/taskLedger';
import type { TaskQueuePort } from '../ports/taskQueue';
import { integrationBranchOf, sessionBranchPrefix } from './sessionLayout';

export interface WorkerDispatchDeps {
  queue: TaskQueuePort;
  ledger: TaskLedgerPort;
  /** The team's git remote the workers serve. */
  remote: string;
  /** Pushes `commit` of the repository `cwd` to the remote as `branch` (a no-op when it is there already). */
  pushBase(cwd: string, commit: string, branch: string): Promise<void>;
  /** `base` with each dependency's result merged in turn, pushed as `branch`; returns that commit. */
  mergeDependencies(
    cwd: string,
    base: string,
    deps: readonly { name: string; branch: string; commit: string }[],
    branch: string,
  ): Promise<string>;
  /** The files a task branch's `commit` changed since `base` (fetched from the remote into `cwd`). */
  changedFiles(cwd: string, branch: string, base: string, commit: string): Promise<string[]>;
  /** Brings the remote's `branch` at `commit` (made on `base`) into the repository `cwd` as its local `branch`. */
  fetchInto(cwd: string, branch: string, base: string, commit: string): Promise<void>;
  logger: Logger;
  now(): number;
  /** Between two looks at the ledger (default 1 s). */
  pollMs?: number;
  warnMs?: number;
  pickupMs?: number;
  runMs?: number;
}

export interface WorkerTaskInput {
  tenantId: string;
  sessionId: string;
  /** The repository the session runs on, on the server's machine (its base commit is pushed from there). */
  cwd: string;
  baseCommit: string;
  /** The plan's task id (names the branch `orchestrator/<session>/<taskId>`). */
  taskId: string;
  agent: string;
  prompt: string;
  order: number;
  sessionTasks: number;
  /** The plan ids of the tasks it depends on (all succeeded): the task starts from their results. */
  dependsOn: readonly string[];
  /** False once the task was cancelled (or otherwise no longer runs). */
  wanted(): boolean;
  /** Why the task waits (undefined: it no longer waits, a worker took it). */
  waiting(note: string | undefined): void;
}

export interface WorkerTaskEnd {
  state: 'succeeded' | 'failed' | 'cancelled';
  error?: string;
  workerId?: string;
  commit?: string;
  /** Succeeded: the files the task changed (empty when they could not be read). */
  changedFiles?: string[];
  /** What the worker's turn used (absent when no turn ran). */
  usage?: WorkerUsage;
}

/** A worker turn's usage, for the tenant's usage ledger. */
export interface WorkerUsageEvent {
  /** The ledger line's id: one per task outcome (`worker:<session>/<task>`). */
  usageId: string;
  sessionId: string;
  taskId: string;
  workerId: string;
  /** When the worker recorded the outcome. */
  atMs: number;
  usage: WorkerUsage;
}

/** The usage ledger id of a task's worker outcome. */
export const workerUsageId = (sessionId: string, taskId: string): string => `worker:${sessionId}/${taskId}`;

/** The session's merge as the workers recorded it, or `timeout` when none was within the deadline. */
export type WorkerMergeEnd = MergeRecord | { state: 'timeout'; message: string } | { state: 'nothing' };

/** The session's base commit on the remote (plan ids start with a letter or digit: no task branch is named so). */
export const baseBranchOf = (sessionId: string): string => `${sessionBranchPrefix(sessionId)}_base`;
/** A dependent task's start: the session's base with its dependencies' results merged. */
export const dependencyBaseBranchOf = (sessionId: string, taskId: string): string => `${sessionBranchPrefix(sessionId)}_deps/${taskId}`;

const sec = (ms: number) => `${Math.round(ms / 1000)} s`;

export class WorkerDispatch {
  private readonly pushed = new Map<string, Promise<void>>();
  private readonly usageHandlers = new Map<string, (u: WorkerUsageEvent) => Promise<void>>();
  /** Follows of decided rows for their late usage (see `followUsage`). */
  private readonly follows = new Set<Promise<void>>();
  private closed = false;
  private readonly pollMs: number;
  readonly warnMs: number;
  readonly pickupMs: number;
  readonly runMs: number;

  constructor(private readonly d: WorkerDispatchDeps) {
    this.pollMs = d.pollMs ?? 1_000;
    this.warnMs = d.warnMs ?? 60_000;
    this.pickupMs = d.pickupMs ?? 30 * 60_000;
    this.runMs = d.runMs ?? 6 * 3_600_000;
  }

  private pushBase(i: WorkerTaskInput): Promise<void> {
    const k = `${i.tenantId}/${i.sessionId}`;
    let p = this.pushed.get(k);
    if (!p) {
      p = this.d.pushBase(i.cwd, i.baseCommit, baseBranchOf(i.sessionId));
      this.pushed.set(k, p);
      p.catch(() => this.pushed.delete(k));
    }
    return p;
  }

  /** Where a tenant's worker usage goes (the team server's usage ledger); replaces an earlier handler. */
  onUsage(tenantId: string, handler: ((u: WorkerUsageEvent) => Promise<void>) | undefined): void {
    if (handler) this.usageHandlers.set(tenantId, handler);
    else this.usageHandlers.delete(tenantId);
  }

  /** A worker's outcome read from the ledger: its usage recorded (a failure to record is logged), then its end. */
  private async ended(key: TaskKey, o: TaskOutcome): Promise<WorkerTaskEnd> {
    await this.recordUsage(key, o);
    // A row the server decided (before a restart): a worker may still add its turn's usage.
    if (o.workerId === 'team-server' && !o.usage) this.followUsage(key);
    return end(o);
  }

  /** The row's usage (if any) handed to the tenant's handler; `workerId` names the worker when the server wrote the row. */
  private async recordUsage(key: TaskKey, o: TaskOutcome, workerId?: string): Promise<void> {
    const h = this.usageHandlers.get(key.tenantId);
    if (h && o.usage)
      await h({
        usageId: workerUsageId(key.sessionId, key.taskId),
        sessionId: key.sessionId,
        taskId: key.taskId,
        workerId: workerId ?? o.workerId,
        atMs: o.finishedAtMs ?? this.d.now(),
        usage: o.usage,
      }).catch((e: unknown) => this.d.logger.error(`task ${key.sessionId}/${key.taskId}: recording its usage failed: ${msg(e)}`));
  }

  /**
   * The server decided the task's outcome: a worker that runs it now adds its turn's usage to that row when the
   * turn ends. Follows the row (in the background) until the usage is there and records it; gives up `runMs`
   * after the stop when a worker had started the task, `warnMs` after it when none had.
   */
  private followUsage(key: TaskKey): void {
    const f = (async () => {
      const since = this.d.now();
      let by: string | undefined;
      while (!this.closed) {
        const r = await this.read(`task ${key.sessionId}/${key.taskId}: reading its late usage`, () => this.d.ledger.outcome(key));
        if (r.ok && r.value?.usage) return this.recordUsage(key, r.value, r.value.workerId === 'team-server' ? by : undefined);
        if (!by) {
          const b = await this.read(`task ${key.sessionId}/${key.taskId}: reading its start`, () => this.d.ledger.startedBy(key));
          by = b.ok ? b.value : undefined;
        }
        if (this.d.now() - since >= (by ? this.runMs : this.warnMs)) return;
        await new Promise((res) => setTimeout(res, this.pollMs * 5));
      }
    })().catch((e: unknown) => this.d.logger.error(`task ${key.sessionId}/${key.taskId}: following its late usage failed: ${msg(e)}`));
    this.follows.add(f);
    void f.finally(() => this.follows.delete(f));
  }

  /** Resolves when the follows of late usage started so far ended. */
  async settled(): Promise<void> {
    await Promise.all([...this.follows]);
  }

  /** Ends the follows of late usage (the server stops; the session's merge or a restart reads the rows again). */
  async close(): Promise<void> {
    this.closed = true;
    await this.settled();
  }

  /** Queues the task and follows it until a worker recorded its outcome, it was cancelled, or a deadline passed. */
  async run(i: WorkerTaskInput): Promise<WorkerTaskEnd> {
    const key: TaskKey = { tenantId: i.tenantId, sessionId: i.sessionId, taskId: i.taskId };
    let base = i.baseCommit;
    const known = await this.readUntil(`task ${i.sessionId}/${i.taskId}: reading its outcome`, () => this.d.ledger.outcome(key));
    if (!known.ok) return this.stop(key, 'failed', `the task ledger could not be read within ${sec(this.pickupMs)}: ${known.error}`);
    if (known.value) return this.withFiles(i, base, await this.ended(key, known.value));
    try {
      await this.pushBase(i);
    } catch (e) {
      return { state: 'failed', error: `pushing the session's base commit to the team's remote failed: ${msg(e)}` };
    }
    if (i.dependsOn.length) {
      try {
        base = await this.dependencyBase(i);
      } catch (e) {
        return this.stop(key, 'failed', `starting from its dependencies' results failed: ${msg(e)}`);
      }
    }
    // Started before a restart of the server: its job is queued already (a worker has it); follow it.
    const startedBefore = await this.read(`task ${i.sessionId}/${i.taskId}: reading its start`, () => this.d.ledger.startedBy(key));
    if (!startedBefore.ok || !startedBefore.value)
      try {
        await this.d.queue.enqueueTasks([
          {
            tenantId: i.tenantId,
            sessionId: i.sessionId,
            taskId: i.taskId,
            remote: this.d.remote,
            baseCommit: base,
            prompt: i.prompt,
            agent: i.agent,
            order: i.order,
            sessionTasks: i.sessionTasks,
          },
        ]);
      } catch (e) {
        return this.stop(key, 'failed', `queueing the task for the workers failed: ${msg(e)}`);
      }
    const queuedAt = this.d.now();
    let startedAt: number | undefined;
    let warned = false;
    for (;;) {
      if (!i.wanted()) return this.stop(key, 'cancelled', 'cancelled');
      const r = await this.read(`task ${i.sessionId}/${i.taskId}: reading its outcome`, () => this.d.ledger.outcome(key));
      const o = r.ok ? r.value : undefined;
      if (o) {
        if (warned) i.waiting(undefined);
        return this.withFiles(i, base, await this.ended(key, o));
      }
      const now = this.d.now();
      if (startedAt === undefined) {
        const b = await this.read(`task ${i.sessionId}/${i.taskId}: reading its start`, () => this.d.ledger.startedBy(key));
        const by = b.ok ? b.value : undefined;
        if (by) {
          startedAt = now;
          if (warned) i.waiting(undefined);
          warned = false;
          this.d.logger.info(`task ${i.sessionId}/${i.taskId}: taken by worker ${by}`);
        } else if (now - queuedAt >= this.pickupMs) {
          return this.stop(key, 'failed', `no worker took the task within ${sec(this.pickupMs)} of queueing it; is a worker running?`);
        } else if (!warned && now - queuedAt >= this.warnMs) {
          warned = true;
          i.waiting(
            `queued for a worker ${sec(now - queuedAt)} ago and no worker has taken it: is an \`orchestrator worker --remote …\` running ` +
              `for this remote? It fails ${sec(this.pickupMs)} after queueing`,
          );
          this.d.logger.warn(`task ${i.sessionId}/${i.taskId}: no worker has taken it for ${sec(now - queuedAt)}`);
        }
      } else if (now - startedAt >= this.runMs) {
        return this.stop(key, 'failed', `the worker did not finish the task within ${sec(this.runMs)}`);
      }
      await new Promise((r) => setTimeout(r, this.pollMs));
    }
  }

  /** The session's base with the dependencies' recorded commits merged in plan order, on the remote. */
  private async dependencyBase(i: WorkerTaskInput): Promise<string> {
    const done = mergeOrder(await this.d.ledger.doneTasks(i.tenantId, i.sessionId));
    const deps = i.dependsOn.map((id) => {
      const t = done.find((x) => x.taskId === id);
      if (t?.state !== 'succeeded' || !t.commit) throw new Error(`dependency ${id} has no succeeded outcome in the ledger`);
      return t;
    });
    const ordered = done.filter((t) => deps.includes(t)).map((t) => ({ name: t.taskId, branch: t.branch, commit: t.commit! }));
    return this.d.mergeDependencies(i.cwd, i.baseCommit, ordered, dependencyBaseBranchOf(i.sessionId, i.taskId));
  }

  private async withFiles(i: WorkerTaskInput, base: string, e: WorkerTaskEnd): Promise<WorkerTaskEnd> {
    if (e.state !== 'succeeded' || !e.commit) return e;
    const branch = `${sessionBranchPrefix(i.sessionId)}${i.taskId}`;
    const changedFiles = await this.d.changedFiles(i.cwd, branch, base, e.commit).catch((x: unknown) => {
      this.d.logger.warn(`task ${i.sessionId}/${i.taskId}: reading its changed files from the remote failed: ${msg(x)}`);
      return [];
    });
    return { ...e, changedFiles };
  }

  /** A ledger read; a failure is logged and returned (the caller tries again at its next poll, until its deadline). */
  private async read<T>(what: string, fn: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: string }> {
    try {
      return { ok: true, value: await fn() };
    } catch (e) {
      this.d.logger.warn(`${what} from the task ledger failed (tried again): ${msg(e)}`);
      return { ok: false, error: msg(e) };
    }
  }

  /** `read` tried at each poll until it succeeds or `pickupMs` passed. */
  private async readUntil<T>(what: string, fn: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: string }> {
    const since = this.d.now();
    for (;;) {
      const r = await this.read(what, fn);
      if (r.ok || this.d.now() - since >= this.pickupMs) return r;
      await new Promise((res) => setTimeout(res, this.pollMs));
    }
  }

  /**
   * A merged session's result, brought from the remote into the session's repository as its local integration
   * branch (so its diff, review and apply see it). Logs and returns false when it could not be.
   */
  async fetchResult(cwd: string, sessionId: string, base: string, commit: string): Promise<boolean> {
    try {
      await this.d.fetchInto(cwd, integrationBranchOf(sessionId), base, commit);
      return true;
    } catch (e) {
      this.d.logger.warn(`session ${sessionId}: fetching its merged result from the team's remote failed: ${msg(e)}`);
      return false;
    }
  }

  /** Records that the task ends here (workers skip it); a worker's outcome recorded first wins. */
  private async stop(key: TaskKey, state: 'failed' | 'cancelled', error: string): Promise<WorkerTaskEnd> {
    const recorded = await this.d.ledger
      .recordOutcome(key, { state: 'cancelled', branch: '', order: 0, workerId: 'team-server', error })
      .catch((e: unknown) => {
        this.d.logger.warn(`task ${key.sessionId}/${key.taskId}: recording it as ${state} failed: ${msg(e)}`);
        return true;
      });
    if (!recorded) {
      const o = await this.d.ledger.outcome(key).catch(() => undefined);
      if (o && o.workerId !== 'team-server') return this.ended(key, o);
    }
    this.followUsage(key);
    return { state, error };
  }

  /**
   * Queues the session's merge (the recorded tasks', succeeded ones merged in plan order onto
   * `orchestrator/<session>/integration` by one worker) and waits for its record.
   */
  async merge(tenantId: string, sessionId: string, baseCommit: string): Promise<WorkerMergeEnd> {
    const failed = (e: string) => ({
      state: 'timeout' as const,
      message: `the task ledger could not be read within ${sec(this.pickupMs)}: ${e}`,
    });
    const recorded = await this.readUntil(`session ${sessionId}: reading its tasks`, () => this.d.ledger.doneTasks(tenantId, sessionId));
    if (!recorded.ok) return failed(recorded.error);
    const done = mergeOrder(recorded.value);
    // Usage a worker added to a row the server had decided (its follow may have ended, e.g. by a restart).
    for (const t of done) await this.recordUsage({ tenantId, sessionId, taskId: t.taskId }, t);
    if (!done.some((t) => t.state === 'succeeded')) return { state: 'nothing' };
    const existing = await this.readUntil(`session ${sessionId}: reading its merge`, () => this.d.ledger.mergeOf(tenantId, sessionId));
    if (!existing.ok) return failed(existing.error);
    if (existing.value) return existing.value;
    await this.d.queue.enqueueMerge({ tenantId, sessionId, remote: this.d.remote, baseCommit, sessionTasks: done.length });
    const queuedAt = this.d.now();
    for (;;) {
      const r = await this.read(`session ${sessionId}: reading its merge`, () => this.d.ledger.mergeOf(tenantId, sessionId));
      const m = r.ok ? r.value : undefined;
      if (m) return m;
      if (this.d.now() - queuedAt >= this.pickupMs)
        return { state: 'timeout', message: `no worker merged the session within ${sec(this.pickupMs)} of queueing its merge` };
      await new Promise((r) => setTimeout(r, this.pollMs));
    }
  }
}

function end(o: TaskOutcome): WorkerTaskEnd {
  return {
    state: o.state,
    workerId: o.workerId,
    ...(o.error ? { error: o.error } : {}),
    ...(o.commit ? { commit: o.commit } : {}),
    ...(o.usage ? { usage: o.usage } : {}),
  };
}

function msg(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
