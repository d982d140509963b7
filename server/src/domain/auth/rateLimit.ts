/**
 * A fixed-window counter per key (a remote address for failed sign-ins, an API key for requests), pure:
 * the caller passes the time. Old windows are dropped as they are met, so memory stays bounded by the
 * keys seen in one window.
 */
export interface RateDecision {
  allowed: boolean;
  /** When the window ends (ms from now), for `retryAfterMs`. */
  retryAfterMs: number;
}

export class RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    readonly limit: number,
    readonly windowMs: number,
  ) {}

  /** Counts one event for `key`; refused once `limit` events happened in the current window. */
  hit(key: string, now: number): RateDecision {
    const w = this.current(key, now);
    w.count++;
    return { allowed: w.count <= this.limit, retryAfterMs: w.start + this.windowMs - now };
  }

  /** Would the next event be refused? Does not count. */
  blocked(key: string, now: number): RateDecision {
    const w = this.current(key, now);
    return { allowed: w.count < this.limit, retryAfterMs: w.start + this.windowMs - now };
  }

  private current(key: string, now: number): { start: number; count: number } {
    if (this.windows.size > 10_000) for (const [k, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(k);
    let w = this.windows.get(key);
    if (!w || now - w.start >= this.windowMs) {
      w = { start: now, count: 0 };
      this.windows.set(key, w);
    }
    return w;
  }
}
