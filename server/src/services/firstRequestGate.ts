/**
 * Holds background work (the pre-warm of tasks waiting for a slot, issue 13) while a dispatched task has not yet
 * had its first model request go out: on a machine with few cores, a worktree and an agent warm-up made in
 * that window compete with the dispatch's own critical path (measured: a first wave started with `approve`
 * 1.4–1.5× slower, docs/performance.md). A dispatch stops holding the gate at its run's first reply event, at
 * its turn's end, or `holdMs` after it was dispatched, whichever comes first: nothing waits forever.
 */
export class FirstRequestGate {
  /** Dispatched tasks whose first request has not been seen, with their deadline timers. */
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private readonly waiters: (() => void)[] = [];

  constructor(private readonly holdMs: number) {}

  /** Whether held work may start now (no dispatch is before its first request). */
  open(): boolean {
    return this.pending.size === 0;
  }

  /** A task was dispatched: the gate closes until `passed(taskId)` or its deadline. */
  dispatched(taskId: string): void {
    clearTimeout(this.pending.get(taskId));
    const timer = setTimeout(() => this.passed(taskId), this.holdMs);
    timer.unref();
    this.pending.set(taskId, timer);
  }

  /** The task's first request went out (or its turn ended, or its dispatch failed). Idempotent. */
  passed(taskId: string): void {
    const timer = this.pending.get(taskId);
    if (!timer) return;
    clearTimeout(timer);
    this.pending.delete(taskId);
    if (!this.open()) return;
    for (const w of this.waiters.splice(0)) w();
  }

  /** Calls `fn` once the gate is open (at once when it is); the function returned forgets it (a claimed or dropped pre-warm). */
  whenOpen(fn: () => void): () => void {
    if (this.open()) {
      fn();
      return () => undefined;
    }
    this.waiters.push(fn);
    return () => {
      const i = this.waiters.indexOf(fn);
      if (i >= 0) this.waiters.splice(i, 1);
    };
  }
}
