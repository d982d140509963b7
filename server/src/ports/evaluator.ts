/**
 * The evaluator port: scores a model version (base + adapter) and its base alone on held-out validation
 * examples, as a subprocess with a deadline (the `local` provider: adapters/training/localEvaluator).
 */
import type { EvaluationResult } from '../domain/finetune/evaluation';

export type { EvaluationResult };

export interface EvaluationSpec {
  /** The dataset version's `openai/validation.jsonl` (absolute). */
  validationFile: string;
  baseDir: string;
  adapterDir: string;
  maxSeqLength: number;
  /** Where the evaluator writes its config and results (created if missing). */
  workDir: string;
}

export type EvaluationOutcome =
  | { kind: 'succeeded'; result: EvaluationResult }
  | { kind: 'failed'; reason: 'evaluator_failed' | 'bad_data' | 'timeout'; message: string };

export interface EvaluatorPort {
  /** Settles once, when the evaluator process has exited (never rejects). */
  evaluate(spec: EvaluationSpec): Promise<EvaluationOutcome>;
  /** Kills every running evaluator (server exit). */
  dispose(): Promise<void>;
}
