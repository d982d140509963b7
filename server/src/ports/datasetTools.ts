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
  count(text: string): number;
}
