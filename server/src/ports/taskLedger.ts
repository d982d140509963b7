/**
 * The task ledger port: where workers record that a queued task started and finished, in the team's
 * PostgreSQL (`adapters/postgres/pgTaskLedger.ts`). The check that a task is done and the record that it is
 * done are the same row, so a re-delivered job of a finished task does nothing (exactly-once effect).
 */
export interface TaskKey {
  tenantId: string;
  sessionId: string;
  taskId: string;
}

export interface TaskOutcome {
  /** `cancelled`: recorded by the team server (session or task cancelled, no worker in time): workers skip it. */
  state: 'succeeded' | 'failed' | 'cancelled';
  /** The task branch's commit on the remote (succeeded). */
  commit?: string;
  branch: string;
  /** The plan's order of the task in its session: merges follow it. */
  order: number;
  workerId: string;
  /** Why it failed, with the agent's stderr tail when there is one. */
  error?: string;
  /** What the worker's agent turn used (absent: no turn ran, or rows written before usage was recorded). */
  usage?: WorkerUsage;
  /** When the outcome was recorded (read back from the ledger; ignored when recording). */
  finishedAtMs?: number;
}

/** A worker turn's usage, as the agent reported it: the team server adds it to the tenant's usage ledger once. */
export interface WorkerUsage {
  inputTokens: number;
  outputTokens: number;
  reasoningTokens?: number;
  cacheReadTokens?: number;
  /** Money, when the agent reports it (0 otherwise). */
  cost?: number;
  /** The agent id the task ran with. */
  agent: string;
  /** `provider/model`, when known. */
  model?: string;
}

export interface DoneTask extends TaskOutcome {
  taskId: string;
}

export interface TaskClaim {
  /** Gives the task up (its connection-held lock is released). */
  release(): Promise<void>;
}

export interface MergeRecord {
  /** `moved`: a task branch no longer held the commit its outcome recorded (nothing was merged or pushed). */
  state: 'merged' | 'conflict' | 'moved';
  commit?: string;
  workerId: string;
  /** The task whose branch did not merge (conflict, moved). */
  taskId?: string;
  /** The session's failed tasks, in merge order: recorded, never merged. */
  failed?: string[];
}

export interface TaskLedgerPort {
  /** Creates the ledger's tables when missing. Idempotent. */
  ensure(): Promise<void>;
  /**
   * Holds the task while it runs, for as long as this worker's connection lives (a PostgreSQL session
   * advisory lock): undefined when another live worker holds it.
   */
  claim(key: TaskKey): Promise<TaskClaim | undefined>;
  /** The task's outcome, if it has one. */
  outcome(key: TaskKey): Promise<TaskOutcome | undefined>;
  /** Records that `workerId` started the task (every start, for audits and tests). */
  recordStart(key: TaskKey, workerId: string, attempt: number): Promise<void>;
  /** The worker that first started the task, if one did. */
  startedBy(key: TaskKey): Promise<string | undefined>;
  /** Records the outcome once; false when the task already had one (nothing changed). */
  recordOutcome(key: TaskKey, outcome: TaskOutcome): Promise<boolean>;
  /**
   * Adds a turn's usage to the task's outcome row when that row has none (the server decided the outcome, e.g.
   * a cancel, while a worker ran the turn): false when there is no row or it has usage already (nothing changed).
   */
  recordUsage(key: TaskKey, usage: WorkerUsage): Promise<boolean>;
  /** The session's recorded tasks, in plan order. */
  doneTasks(tenantId: string, sessionId: string): Promise<DoneTask[]>;
  /**
   * Runs `fn` while holding the session's merge lock (one worker at a time per session); rejects with a
   * deadline error when the lock is not free within `waitMs`.
   */
  withMergeLock<T>(tenantId: string, sessionId: string, waitMs: number, fn: () => Promise<T>): Promise<T>;
  mergeOf(tenantId: string, sessionId: string): Promise<MergeRecord | undefined>;
  recordMerge(tenantId: string, sessionId: string, record: MergeRecord): Promise<void>;
  close(): Promise<void>;
}
