/**
 * The trainer port: runs one fine-tune as a subprocess (the `local` provider: adapters/training/localTrainer).
 * It streams the trainer's events and settles once, with the outcome; `cancel` stops it.
 */
import type { BaseModel, LoraHyperparameters } from '../../../protocol/finetune';
import type { TrainerEvent, TrainerMetrics } from '../domain/finetune/job';

export interface TrainingSpec {
  jobId: string;
  /** The dataset version's OpenAI chat JSONL files (absolute). */
  trainFile: string;
  validationFile?: string;
  /** Where the trainer writes base/, adapter/ and metrics.json (created if missing). */
  outputDir: string;
  baseModel: BaseModel;
  hyperparameters: LoraHyperparameters;
  /** Hosted providers: resume polling this remote job instead of creating one (server restart). */
  remoteJobId?: string;
}

export type TrainingOutcome =
  | {
      kind: 'succeeded';
      metrics: TrainerMetrics;
      adapterDir: string;
      baseDir: string;
      /** Hosted providers: the provider's id of the trained model (nothing is downloaded). */
      providerModelId?: string;
    }
  | { kind: 'failed'; reason: 'trainer_failed' | 'timeout'; message: string }
  | { kind: 'cancelled' };

export interface TrainingHandle {
  /** Settles once, when the trainer process has exited (never rejects). */
  readonly outcome: Promise<TrainingOutcome>;
  /** SIGTERM, then SIGKILL after a grace period; the outcome becomes `cancelled`. */
  cancel(): void;
  /** Trainers that can: stop where it is (false when there is nothing to pause); the deadline clock stops. */
  pause?(): boolean;
  /** Continue after pause (false when it was not paused). */
  resume?(): boolean;
}

export interface TrainerPort {
  start(spec: TrainingSpec, onEvent: (e: TrainerEvent) => void): TrainingHandle;
  /** Kills every running trainer (server exit). */
  dispose(): Promise<void>;
}
