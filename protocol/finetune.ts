/**
 * `finetune/*`: fine-tuning jobs on a curated dataset version (`dataset/*`). The `local` provider trains a
 * LoRA adapter on CPU as a subprocess of the server (a tiny base model built locally, never downloaded),
 * streaming step, training loss and validation loss. A job that succeeds registers a new version of its
 * model in the registry (`model/*`) with its lineage. Hosted providers (OpenAI-compatible, Together, Fireworks)
 * train remotely: the dataset is uploaded, the remote job polled. States: `queued → (validating →) running
 * (⇄ paused, local only) → succeeded | failed | cancelled`. A server restart fails running local jobs
 * (`error.reason: 'server_restart'`) and resumes polling hosted jobs whose remote job exists.
 */
import { z } from 'zod';
import { defineNotification, defineRequest } from './messages';
import { id } from './session';

/** Base models the local trainer can build (no download). */
export const baseModels = ['tiny-llama'] as const;
export type BaseModel = (typeof baseModels)[number];

export const fineTuneStates = ['queued', 'validating', 'running', 'paused', 'succeeded', 'failed', 'cancelled'] as const;
export type FineTuneState = (typeof fineTuneStates)[number];

/** Who trains: `local` (a subprocess on this machine) or a hosted OpenAI-shaped provider. */
export const fineTuneProviders = ['local', 'openai-compatible', 'together', 'fireworks'] as const;
export type FineTuneProvider = (typeof fineTuneProviders)[number];
export type HostedProvider = Exclude<FineTuneProvider, 'local'>;

/**
 * A hosted provider's settings. The endpoint and the key are the server operator's, never the request's: a
 * hosted provider is usable only when the server's environment names its API root (`ORCH_FT_<PROVIDER>_URL`,
 * e.g. `ORCH_FT_TOGETHER_URL`) and holds its key (`ORCH_KEY_<PROVIDER>`, e.g. `ORCH_KEY_TOGETHER`; the extension
 * fills `ORCH_KEY_*` from SecretStorage). So no request can send a key to a URL of its choosing.
 */
export const hostedSpec = z
  .object({
    /** Optional: if given, it must be the server's configured API root for the provider (compared normalised). */
    baseURL: z
      .string()
      .url()
      .regex(/^https?:\/\//, 'must be an http(s) URL')
      .optional(),
    /** Fireworks: the account id (required for `fireworks`). */
    accountId: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lower-case letters, digits and -')
      .optional(),
    /** The provider's id of the base model (e.g. `meta-llama/Meta-Llama-3.1-8B-Instruct-Reference`). */
    remoteModel: z.string().min(1).max(200),
    /** Wall-clock limit of the remote job, upload to end (default 6 h). */
    deadlineMs: z
      .number()
      .int()
      .min(1000)
      .max(7 * 24 * 3600_000)
      .optional(),
    /** First poll interval (default 5 s; doubled while nothing changes, up to 60 s). */
    pollMs: z.number().int().min(50).max(600_000).optional(),
  })
  .strict();
export type HostedSpecInput = z.infer<typeof hostedSpec>;

/** A hosted job's remote side, as the view shows it (never the key). */
export interface RemoteJobInfo {
  /** The server's configured endpoint for the provider. */
  baseURL: string;
  /** The server's key variable for the provider (`ORCH_KEY_<PROVIDER>`). */
  apiKeyEnv: string;
  remoteModel: string;
  accountId?: string;
  /** The provider's job id, once created. */
  remoteJobId?: string;
  /** The provider's own state string, last polled. */
  remoteState?: string;
  /** The provider's id of the trained model (succeeded). */
  fineTunedModel?: string;
  /** From the spec: the remote job's wall-clock limit and first poll interval. */
  deadlineMs?: number;
  pollMs?: number;
}

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
  provider: FineTuneProvider;
  modelName: string;
  baseModel: BaseModel;
  dataset: { name: string; id: string };
  hyperparameters: LoraHyperparameters;
  /** Hosted providers only. */
  remote?: RemoteJobInfo;
  /** Run `model/evaluate` on the registered version when the job succeeds. */
  evaluate?: boolean;
  /** Time spent paused (not counted against the trainer's deadline). */
  pausedMs?: number;
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
  /** `evaluate: true` jobs: the evaluation's outcome (the scores are on the model version). */
  evaluation?: { state: 'running' | 'succeeded' | 'failed'; message?: string };
}

/**
 * `finetune/submit` (client → server): validate the dataset version's training rows and the
 * hyperparameters, then queue the job and start it. The same `idempotencyKey` returns the existing job (a
 * hosted job is never created twice remotely). Hosted providers (`provider` ≠ `local`) need `hosted`
 * (`remoteModel`; `accountId` for fireworks; `baseURL` optional and only the configured one) and must be
 * configured on the server (`ORCH_FT_<PROVIDER>_URL` and `ORCH_KEY_<PROVIDER>`).
 * `evaluate: true` runs `model/evaluate` on the registered version when the job succeeds (local jobs).
 * Errors: InvalidParams (a field named: unknown or unconfigured `provider`, a `hosted.baseURL` that is not the
 * configured endpoint, `hosted.apiKeyEnv` (a request cannot choose the key),
 * a dataset row that is not a chat example, naming file and line), notFound (no such dataset) — nothing is written.
 */
export const finetuneSubmit = defineRequest<FineTuneJobView>()(
  'finetune/submit',
  'clientToServer',
  z
    .object({
      dataset: datasetName,
      modelName,
      provider: z.enum(fineTuneProviders).optional(),
      /** Required for hosted providers, refused for `local`. */
      hosted: hostedSpec.optional(),
      baseModel: z.enum(baseModels).optional(),
      hyperparameters: loraHyperparameters.optional(),
      evaluate: z.boolean().optional(),
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

/**
 * `finetune/pause` (client → server): stops a running local job's trainer where it is (SIGSTOP of its
 * process; memory and progress are kept, the deadline clock stops) → `paused`. Errors: notFound, conflict
 * (not running), InvalidParams (the job's provider cannot pause: hosted providers).
 */
export const finetunePause = defineRequest<FineTuneJobView>()('finetune/pause', 'clientToServer', z.object({ jobId: id }).strict());

/** `finetune/resume` (client → server): a paused job continues (SIGCONT) → `running`. Errors: notFound, conflict (not paused). */
export const finetuneResume = defineRequest<FineTuneJobView>()('finetune/resume', 'clientToServer', z.object({ jobId: id }).strict());

/** `finetune/didChange` (server → client): a job's full view after every change (throttled progress). */
export const finetuneDidChange = defineNotification('finetune/didChange', 'serverToClient', z.custom<FineTuneJobView>());
