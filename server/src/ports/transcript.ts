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

export interface TranscriptPort {
  append(folder: string, runId: string, entry: TranscriptEntry): Promise<void>;
  read(folder: string, runId: string): Promise<TranscriptEntry[]>;
}
