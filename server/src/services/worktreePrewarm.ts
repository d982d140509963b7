/**
 * Pre-warmed worktrees (issue 13): a task that is ready but waits for a free slot, or belongs to a draft's first
 * wave (no dependencies) while the plan awaits approval, gets its worktree
 * (`orchestrator/<session>/<planId>`, branched from the integration branch as it is then, or from HEAD for a
 * draft: approval makes the integration branch there) created in the
 * background, one at a time, off the critical path; the agent may also open its per-folder state there
 * (`warmAgent`, e.g. OpenCode's project instance). When the task is dispatched, `claim` hands the worktree
 * over: if the integration branch has not moved since, the attempt starts there without a reset; if it moved,
 * the caller resets as for any attempt. Only tasks that never ran are pre-warmed (no branch, no attempt), so a
 * claimed worktree holds nothing but a clean checkout. A pre-warmed task that ends before dispatch (cancelled,
 * skipped, session ended or deleted, a draft's plan replaced) loses its worktree and branch at the next `update`.
 * The pre-warm of a task waiting for a slot starts only once every task dispatched so far has had its first model
 * request go out (`FirstRequestGate`: or its turn ended, or `holdMs` passed), so it never competes with a
 * dispatch's critical path; a draft's first wave (nothing of it is dispatched yet) is pre-warmed at once. A task
 * dispatched while its pre-warm is still held takes no pre-warmed worktree: its dispatch makes it as usual.
 */
import { isTaskTerminal } from '../domain/orchestration/taskState';
import type { Logger } from '../ports/logger';
import { FirstRequestGate } from './firstRequestGate';
import type { WorkspacePort } from '../ports/workspace';
import type { OrchestrationState, StoredSession, StoredTask } from './sessionRecords';
import { taskBranchOf, taskWorktreeOf } from './sessionLayout';

export interface PrewarmDeps {
  workspace: WorkspacePort;
  worktreeRoot: string;
  logger: Logger;
  /** How many waiting tasks may hold a pre-warmed worktree at once (0: off). */
  ahead(): number;
  /** Optional: let the agent open the folder now (best effort; errors are logged). */
  warmAgent?(cwd: string): Promise<void>;
  /** Deadline of `warmAgent` (a dispatch claiming the worktree waits at most this long for it); default 30 s. */
  warmAgentMs?: number;
  /** How long after its dispatch a task without a first request still holds waiting tasks' pre-warms; default 20 s. */
  holdMs?: number;
}

interface Warm {
  sessionId: string;
  repo: string;
  dir: string;
  branch: string;
  /** The integration commit the worktree was created at; undefined while it is being created or when that failed. */
  base?: string;
  ready: Promise<void>;
  /** Set while the pre-warm waits for the gate: starts it now (queued on the chain). */
  release?: () => void;
  /** Nothing to make any more (claimed or dropped while held). */
  skip?: boolean;
  /** Removes the held pre-warm's `release` from the gate's waiters. */
  forget?: () => void;
}

export class WorktreePrewarmer {
  private readonly warm = new Map<string, Warm>();
  private chain: Promise<void> = Promise.resolve();
  /** Folders whose pre-warmed worktree is queued for removal. */
  private readonly dropping = new Map<string, Promise<void>>();

  private readonly gate: FirstRequestGate;
  /** The server is stopping: no pre-warm starts any more. */
  private stopped = false;

  constructor(private readonly d: PrewarmDeps) {
    this.gate = new FirstRequestGate(d.holdMs ?? 20_000);
  }

  /** The server is stopping: queued and held pre-warms make nothing (removals still run). */
  stop(): void {
    this.stopped = true;
  }

  /** A task was dispatched: waiting tasks' pre-warms are held until its first request (`firstRequest`). */
  dispatched(taskId: string): void {
    this.gate.dispatched(taskId);
  }

  /** The dispatched task's first model request went out, or its turn ended (idempotent). */
  firstRequest(taskId: string): void {
    this.gate.passed(taskId);
  }

  /** Task ids holding a pre-warmed worktree (or one being created). */
  held(): string[] {
    return [...this.warm.keys()];
  }

  /**
   * Drops the worktrees of tasks that ended (or vanished) before dispatch, then (with `queue`) queues new
   * ones for ready tasks of running sessions, up to `ahead()`. Call it with `queue` only after the scheduler
   * decided, so tasks about to be dispatched are not pre-warmed in their own way.
   */
  update(st: OrchestrationState, executing: ReadonlySet<string>, queue = true): void {
    const tasks = new Map(st.tasks.map((t) => [t.id, t]));
    for (const [id, w] of this.warm) {
      const t = tasks.get(id);
      if (t && !isTaskTerminal(t.state)) continue;
      this.warm.delete(id);
      this.queueDrop(w, id);
    }
    const ahead = this.d.ahead();
    if (!queue || ahead <= 0) return;
    // A draft's first wave (tasks without dependencies) is pre-warmed while the plan awaits approval.
    const running = new Map(st.sessions.filter((s) => s.state === 'running' || s.state === 'draft').map((s) => [s.id, s]));
    for (const t of st.tasks) {
      if (this.warm.size >= ahead) return;
      const s = running.get(t.sessionId);
      if (!s || !this.wanted(t, s, executing)) continue;
      this.start(s, t);
    }
  }

  /**
   * Hands the task's pre-warmed worktree to its dispatch (waiting for it when it is still being created):
   * the integration commit it was created at, or undefined when it has none (the caller does the full set-up).
   */
  async claim(taskId: string, dir?: string): Promise<string | undefined> {
    const w = this.warm.get(taskId);
    if (!w) {
      // A worktree of the same folder being dropped (a replaced draft plan reuses plan ids): not under this task.
      await (dir ? this.dropping.get(dir) : undefined);
      return undefined;
    }
    this.warm.delete(taskId);
    if (w.release) {
      // Still held: nothing made yet; the dispatch makes the worktree itself rather than wait for the gate
      // (after a drop of the same folder still queued: a cancelled, then retried, task).
      w.skip = true;
      w.forget?.();
      w.release();
      await this.dropping.get(w.dir);
      return undefined;
    }
    await w.ready;
    return w.base;
  }

  /** Drops every pre-warmed worktree of a session (deleted), then waits for the queue to settle. */
  async dropSession(sessionId: string): Promise<void> {
    for (const [id, w] of this.warm) {
      if (w.sessionId !== sessionId) continue;
      this.warm.delete(id);
      this.queueDrop(w, id);
    }
    await this.settled();
  }

  /** Resolves once every queued creation and removal has run (tests, shutdown). */
  async settled(): Promise<void> {
    let seen: Promise<void>;
    do {
      seen = this.chain;
      await seen;
    } while (seen !== this.chain);
  }

  private wanted(t: StoredTask, s: StoredSession, executing: ReadonlySet<string>): boolean {
    const draftFirst = s.state === 'draft' && t.state === 'pending' && t.dependsOn.length === 0;
    return (
      (t.state === 'ready' || draftFirst) &&
      t.mode !== 'read' &&
      t.attempts === 0 &&
      !t.branch &&
      !executing.has(t.id) &&
      !this.warm.has(t.id) &&
      (!!s.integrationBranch || s.state === 'draft')
    );
  }

  private start(s: StoredSession, t: StoredTask): void {
    const w: Warm = {
      sessionId: s.id,
      repo: s.cwd,
      dir: taskWorktreeOf(this.d.worktreeRoot, s.id, t.planId),
      branch: taskBranchOf(s.id, t.planId),
      ready: Promise.resolve(),
    };
    const integration = s.integrationBranch;
    const work = async () => {
      if (w.skip || this.stopped) return;
      try {
        // A draft has no integration branch yet: approval makes it at HEAD, so the worktree starts there.
        const base = integration ? await this.d.workspace.resolveRef(s.cwd, integration) : await this.d.workspace.headCommit(s.cwd);
        if (!base || (await this.d.workspace.branchExists(s.cwd, w.branch))) return;
        await this.d.workspace.addWorktree(s.cwd, w.dir, w.branch, base);
        w.base = base;
        this.d.logger.debug(`pre-warmed the worktree of task ${t.id} at ${base.slice(0, 8)}`);
        if (this.d.warmAgent) await this.warmAgent(this.d.warmAgent, w.dir);
      } catch (e) {
        this.d.logger.warn(`pre-warming the worktree of task ${t.id} failed: ${String(e)}`);
      }
    };
    const queue = () => {
      w.release = undefined;
      const done = this.chain.then(work);
      this.chain = done;
      return done;
    };
    this.warm.set(t.id, w);
    // A draft's first wave: nothing of it is dispatched, so it is warmed at once; a waiting task waits for the gate.
    if (s.state === 'draft' || this.gate.open()) {
      w.ready = queue();
      return;
    }
    w.ready = new Promise<void>((resolve) => {
      const release = () => {
        if (w.release === release) resolve(queue());
      };
      w.release = release;
      w.forget = this.gate.whenOpen(release);
    });
    this.d.logger.debug(`pre-warm of task ${t.id} held until the dispatched tasks' first requests`);
  }

  /** The agent's warm-up of `dir`, bounded: past its deadline the worktree is handed over as it is. */
  private async warmAgent(warm: (cwd: string) => Promise<void>, dir: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const ms = this.d.warmAgentMs ?? 30_000;
    const deadline = new Promise<void>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    });
    const started = Date.now();
    try {
      await Promise.race([warm(dir), deadline]);
      this.d.logger.debug(`pre-warmed the agent in ${dir} (${Date.now() - started} ms)`);
    } catch (e) {
      this.d.logger.debug(`pre-warming the agent in ${dir}: ${String(e)}`);
    } finally {
      clearTimeout(timer);
    }
  }

  private queueDrop(w: Warm, taskId: string): void {
    if (w.release) {
      w.skip = true;
      w.forget?.();
      w.release();
    }
    const done = this.chain.then(() => this.drop(w, taskId));
    this.chain = done;
    this.dropping.set(w.dir, done);
    void done.then(() => {
      if (this.dropping.get(w.dir) === done) this.dropping.delete(w.dir);
    });
  }

  private async drop(w: Warm, taskId: string): Promise<void> {
    await w.ready;
    if (!w.base) return; // nothing was created
    await this.d.workspace.removeWorktree(w.repo, w.dir).catch(() => undefined);
    await this.d.workspace.deleteBranch?.(w.repo, w.branch).catch(() => undefined);
    this.d.logger.debug(`removed the pre-warmed worktree of task ${taskId} (ended before dispatch)`);
  }
}
