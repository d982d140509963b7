/**
 * A deadline on a promise, and the typed error it rejects with, so callers tell "our deadline passed"
 * from any other failure by type (never by matching an error message's text).
 */

/** `what` did not settle within `ms`. */
export class DeadlineError extends Error {
  constructor(
    readonly what: string,
    readonly ms: number,
  ) {
    super(`${what} took longer than ${ms} ms`);
    this.name = 'DeadlineError';
  }

  static is(e: unknown): e is DeadlineError {
    return e instanceof DeadlineError;
  }
}

/** Settles like `p`, or rejects with `DeadlineError` once `ms` passed first. The timer never outlives the race. */
export function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, rej) => (t = setTimeout(() => rej(new DeadlineError(what, ms)), ms)))]).finally(() =>
    clearTimeout(t),
  );
}
