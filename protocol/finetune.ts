/**
 * `finetune/*`: fine-tuning jobs on a curated dataset version (`dataset/*`). The `local` provider trains a
 * LoRA adapter on CPU as a subprocess of the server (a tiny base model built locally, never downloaded),
 * streaming step, training loss and validation loss. A job that succeeds registers a new version of its
 * model in the registry (`model/*`) with its lineage. States: `queued → running → succeeded | failed |
 * cancelled`. A server restart fails running jobs (`error.reason: 'server_restart'`).
 */
import { z } from 'zod';
import { defineNotification, defineRequest } from './messages';
import { id } from './session';

/** Base models the local trainer can build (no download). */
export const baseModels = ['tiny-llama'] as const;
export type BaseModel = (typeof baseModels)[number];

export const fineTuneStates = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type FineTuneState = (typeof fineTuneStates)[number];

const datasetName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, 'must be 1–100 letters, digits, _ . - (starting with a letter or digit)');
const modelName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, 'must be 1–64 lower-case letters, digits, _ . - (starting with a letter or digit)');

export const loraHyperparameters = z
  .object({
    rank: z.number().int().min(1).max(256).optional(),
    alpha: z.number().int().min(1).max(1024).optional(),
    dropout: z.number().min(0).lt(1).optional(),
    targetModules: z
      .array(z.enum(['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']))
      .min(1)
      .optional(),
    learningRate: z.number().gt(0).max(1).optional(),
    steps: z.number().int().min(1).max(10_000).optional(),
    batchSize: z.number().int().min(1).max(512).optional(),
    maxSeqLength: z.number().int().min(16).max(4096).optional(),
    evalEvery: z.number().int().min(1).max(10_000).optional(),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .optional(),
  })
  .strict();
export type LoraHyperparametersInput = z.infer<typeof loraHyperparameters>;
export type LoraHyperparameters = Required<LoraHyperparametersInput>;

export interface FineTuneProgress {
  step: number;
  totalSteps: number;
  /** Training loss of the latest step. */
  loss?: number;
  /** The first steps' mean loss (what the falling loss is measured against). */
  firstLoss?: number;
  validationLoss?: number;
  /** Validation loss before any training step. */
  initialValidationLoss?: number;
}

export interface FineTuneJobView {
  id: string;
  state: FineTuneState;
  provider: 'local';
  modelName: string;
  baseModel: BaseModel;
  dataset: { name: string; id: string };
  hyperparameters: LoraHyperparameters;
  progress: FineTuneProgress;
  /** Loss points `[step, loss]` (every step) and validation points `[step, validationLoss]`. */
  lossCurve: [number, number][];
  validationCurve: [number, number][];
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  /** The model version the job registered (succeeded only). */
  modelVersion?: number;
  /** Where the adapter and base were written (`<dataDir>/finetune/<jobId>/`). */
  outputDir: string;
  error?: { reason: 'trainer_failed' | 'timeout' | 'server_restart' | 'cancelled'; message: string };
}

/**
 * `finetune/submit` (client → server): validate the dataset version's training rows and the
 * hyperparameters, then queue the job and start it. The same `idempotencyKey` returns the existing job.
 * Errors: InvalidParams (a field named; a dataset row that is not a chat example, naming file and line),
 * notFound (no such dataset) — nothing is written.
 */
export const finetuneSubmit = defineRequest<FineTuneJobView>()(
  'finetune/submit',
  'clientToServer',
  z
    .object({
      dataset: datasetName,
      modelName,
      provider: z.literal('local').optional(),
      baseModel: z.enum(baseModels).optional(),
      hyperparameters: loraHyperparameters.optional(),
      idempotencyKey: z.string().min(1).max(200).optional(),
    })
    .strict(),
);

/** `finetune/get` (client → server). Errors: notFound. */
export const finetuneGet = defineRequest<FineTuneJobView>()('finetune/get', 'clientToServer', z.object({ jobId: id }).strict());

/** `finetune/list` (client → server): every job, newest first. */
export const finetuneList = defineRequest<FineTuneJobView[]>()('finetune/list', 'clientToServer', z.object({}).strict());

/**
 * `finetune/cancel` (client → server): stops the trainer (SIGTERM, then SIGKILL after 5 s) and marks the
 * job cancelled; nothing is registered. Errors: notFound, conflict (the job already ended).
 */
export const finetuneCancel = defineRequest<FineTuneJobView>()('finetune/cancel', 'clientToServer', z.object({ jobId: id }).strict());

/** `finetune/didChange` (server → client): a job's full view after every change (throttled progress). */
export const finetuneDidChange = defineNotification('finetune/didChange', 'serverToClient', z.custom<FineTuneJobView>());
