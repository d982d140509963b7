/**
 * When the server process dies, restart it, but give up after `maxCrashes` crashes inside `windowMs`
 * (the languageclient default shape: 5 crashes in 3 minutes). Pure, so it is unit-tested without VS Code.
 */
export interface RestartDecision {
  restart: boolean;
  crashesInWindow: number;
}

export class RestartPolicy {
  private crashes: number[] = [];

  constructor(
    private readonly maxCrashes = 5,
    private readonly windowMs = 3 * 60_000,
  ) {}

  /** From the `orchestrator.server.maxRestarts` setting: 0 means never restart automatically; unset means 5. */
  static fromSetting(maxRestarts: number | undefined): RestartPolicy {
    return new RestartPolicy(maxRestarts ?? 5);
  }

  onCrash(nowMs: number): RestartDecision {
    this.crashes = this.crashes.filter((t) => nowMs - t < this.windowMs);
    this.crashes.push(nowMs);
    return { restart: this.crashes.length < this.maxCrashes, crashesInWindow: this.crashes.length };
  }

  /** A manual restart clears the history. */
  reset(): void {
    this.crashes = [];
  }
}
