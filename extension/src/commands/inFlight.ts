/**
 * One operation per key at a time (e.g. approving one session's plan): a second call while the first is in
 * flight does not run and says so. Pure: no `vscode`.
 */
export class InFlight {
  private readonly keys = new Set<string>();

  has(key: string): boolean {
    return this.keys.has(key);
  }

  /** Runs `fn` unless `key` is already in flight (then `{ busy: true }`); the key is free again when `fn` settles. */
  async run<T>(key: string, fn: () => Promise<T>): Promise<{ busy: true } | { busy: false; value: T }> {
    if (this.keys.has(key)) return { busy: true };
    this.keys.add(key);
    try {
      return { busy: false, value: await fn() };
    } finally {
      this.keys.delete(key);
    }
  }
}
