/**
 * Append-only transcripts, one JSONL file per task. An append resolves only once the line is on disk
 * (that is what "acknowledged" means); entries are redacted before they are written.
 */
export interface TranscriptEntry {
  seq: number;
  at: string;
  kind: string;
  [key: string]: unknown;
}

export interface TranscriptPort {
  append(sessionId: string, taskId: string, entry: TranscriptEntry): Promise<void>;
  read(sessionId: string, taskId: string): Promise<TranscriptEntry[]>;
}
