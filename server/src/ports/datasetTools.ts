/**
 * What dataset curation needs from third-party libraries: a secret scanner (secretlint in
 * adapters/secrets) and a tokenizer (gpt-tokenizer in adapters/tokens). Both report, never change text;
 * the pure pipeline (domain/dataset) does the replacing and the counting per example.
 */
import type { TextFinding } from '../domain/dataset/pii';

export interface SecretScannerPort {
  /** Ranges of secrets in `text`, with the kind that found them (a rule id). Never returns the secret itself. */
  scan(text: string): Promise<TextFinding[]>;
}

export interface TokenCounterPort {
  /** The encoding's name (e.g. `o200k_base`), recorded with token counts. */
  readonly encoding: string;
  /** Loads the tokenizer (it is large); resolves at once when loaded. */
  ready(): Promise<void>;
  /** Tokens of `text`; throws before `ready()` resolved. */
  count(text: string): number;
}

export interface DatasetFile {
  /** Relative path inside the dataset's folder (`/`-separated, no `..`). */
  path: string;
  content: string;
}

/** Dataset folders under `<dataDir>/datasets/<name>/`: written once, all files at once, never changed. */
export interface DatasetFolderPort {
  /**
   * Writes every file into a temporary folder (each file synced), then renames it to `name` in one step:
   * a reader sees the whole folder or none of it. Throws DomainError('conflict') when `name` exists;
   * on any failure nothing is left behind.
   */
  create(name: string, files: readonly DatasetFile[]): Promise<string>;
  /** A file of dataset `name`, or undefined when the dataset or the file does not exist. */
  read(name: string, file: string): Promise<string | undefined>;
  /** The absolute folder of dataset `name` (whether or not it exists). */
  path(name: string): string;
  /** Names of the datasets, sorted. */
  list(): Promise<string[]>;
}
