/**
 * Per session, its worktree clean-ups one at a time (a chain of promises), and bounded waits for them.
 * A retry re-adds worktrees and a dispatch creates one only after the clean-up under way is over: a
 * `git worktree remove` still running would otherwise take the folder the retried work is about to use
 * (or make its `worktree add` fail with "already exists").
 */
import type { Logger } from '../ports/logger';

/** How long a retry or a dispatch waits for its session's worktree clean-up (each git call has its own deadline too). */
export const cleanupWaitMs = 60_000;

export class CleanupChains {
  /** Per session: the tail of its clean-ups. */
  private readonly tails = new Map<string, Promise<void>>();
  /** Sessions whose end's clean-up (all their worktrees) is under way. */
  private readonly ends = new Map<string, Promise<void>>();

  constructor(private readonly logger: Pick<Logger, 'warn'>) {}

  /** Runs `fn` after the session's earlier clean-ups; `whole`: the end's clean-up of all its worktrees. */
  run(sessionId: string, fn: () => Promise<void>, whole = false): Promise<void> {
    const next = (this.tails.get(sessionId) ?? Promise.resolve()).then(fn);
    const tail = next.catch(() => undefined);
    this.tails.set(sessionId, tail);
    if (whole) this.ends.set(sessionId, tail);
    void tail.then(() => {
      if (this.tails.get(sessionId) === tail) this.tails.delete(sessionId);
      if (this.ends.get(sessionId) === tail) this.ends.delete(sessionId);
    });
    return next;
  }

  /** Resolves once every clean-up of the session queued so far is over, or after `ms` (logged). */
  settled(sessionId: string, ms = cleanupWaitMs): Promise<void> {
    return this.waitAtMost(this.tails.get(sessionId), ms, sessionId);
  }

  /** Resolves once the session's end clean-up under way (if any) is over, or after `ms` (logged). */
  endSettled(sessionId: string, ms = cleanupWaitMs): Promise<void> {
    return this.waitAtMost(this.ends.get(sessionId), ms, sessionId);
  }

  /** `p` (never rejects: its failures are logged where it runs), or a warning and on after `ms`: a slow git never stalls a retry or a dispatch. */
  private async waitAtMost(p: Promise<void> | undefined, ms: number, sessionId: string): Promise<void> {
    if (!p) return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), ms)));
    const r = await Promise.race([p.then(() => 'done' as const), late]).finally(() => clearTimeout(timer));
    if (r === 'late') this.logger.warn(`session ${sessionId}: its worktree clean-up took more than ${Math.round(ms / 1000)} s; going on`);
  }
}
