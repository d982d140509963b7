/**
 * Append-only transcripts, one JSONL file per run, in a folder per session (`run-<id>` for a single run). An append resolves only once the line is on disk
 * (that is what "acknowledged" means); entries are redacted before they are written.
 */
export interface TranscriptEntry {
  seq: number;
  at: string;
  kind: string;
  [key: string]: unknown;
}

/** `E`: what the transcript holds (the run service keeps `AgentEvent`s). */
export interface TranscriptPort<E extends { seq: number } = TranscriptEntry> {
  /**
   * Lines of one run are written in call order, also when an append is called before the previous one resolved
   * (the run service issues each event's append as the event arrives).
   */
  append(folder: string, runId: string, entry: E): Promise<void>;
  /** The entries written so far, in order (a torn last line is skipped). */
  read(folder: string, runId: string): Promise<E[]>;
}
