/** Runs dispatched work with bounded concurrency (p-queue behind adapters/queue). */
export interface Executor {
  /** Queue `job`; lower `priority` numbers run first (0 = highest). */
  add(job: () => Promise<void>, priority: number): void;
  /** Jobs running plus waiting. */
  readonly load: number;
  /** Resolves when nothing runs and nothing waits. */
  onIdle(): Promise<void>;
}
