/**
 * The sessions whose apply was refused over the user's uncommitted edits, kept in the workspace's state so a
 * window reload does not forget that they still wait on the user. Pure: the store is the memento's shape.
 */

/** The part of `vscode.Memento` used here. */
export interface StateStore {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): Thenable<void>;
}

export const refusedAppliesKey = 'orchestrator.applyRefused';

export class RefusedApplies {
  private readonly set: Set<string>;

  constructor(private readonly store?: StateStore) {
    const kept = store?.get<unknown>(refusedAppliesKey);
    this.set = new Set(Array.isArray(kept) ? kept.filter((x): x is string => typeof x === 'string') : []);
  }

  ids(): string[] {
    return [...this.set];
  }

  /** True when the session was not already waiting. */
  add(sessionId: string): boolean {
    if (this.set.has(sessionId)) return false;
    this.set.add(sessionId);
    this.persist();
    return true;
  }

  /** True when the session was waiting. */
  delete(sessionId: string): boolean {
    if (!this.set.delete(sessionId)) return false;
    this.persist();
    return true;
  }

  private persist(): void {
    void this.store?.update(refusedAppliesKey, [...this.set]);
  }
}
