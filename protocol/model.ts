/**
 * `model/*`: the model registry. A registered model has monotonically numbered versions (1, 2, …), each
 * with its lineage (dataset version, fine-tune job, base model, hyperparameters), metrics and artifact
 * location. Aliases (`champion`, `challenger`) point at one version each; every move is audited. A version
 * becomes `champion` only when its validation loss beats the current champion's, or with an explicit
 * override and a reason (recorded in the audit trail).
 */
import { z } from 'zod';
import type { BaseModel, FineTuneProvider, LoraHyperparameters } from './finetune';
import { defineRequest } from './messages';

export const modelAliases = ['champion', 'challenger'] as const;
export type ModelAlias = (typeof modelAliases)[number];

/** One model's scores on the held-out validation examples (`model/evaluate`). */
export interface EvaluationScores {
  /** Mean cross-entropy on the assistant turns (the trainer's encoding), and its exponential. */
  validationLoss: number;
  perplexity: number;
  toolCalls: {
    /** Reference assistant turns with tool calls that the model continued (at most 16). */
    turns: number;
    /** Tool calls the model wrote, how many were valid (the tool exists, arguments parse and match its schema). */
    generated: number;
    valid: number;
    /** Turns whose generated calls equal the reference's (names and arguments). */
    exactMatches: number;
    /** valid / generated (0 when none was generated) and exactMatches / turns. */
    validity: number;
    exactMatch: number;
  };
}

/** A version's evaluation: the candidate (base + adapter) and its base alone, on the same examples. */
export interface ModelEvaluation {
  at: string;
  dataset: { name: string; id: string };
  examples: number;
  candidate: EvaluationScores;
  base: EvaluationScores;
  seconds: number;
}

/** Where a promoted version is served: `model` is what `run/start` and `session/start` take. */
export interface ModelPromotion {
  at: string;
  /** `finetuned/<name>-v<version>`: an OpenAI-compatible provider entry of OpenCode. */
  model: string;
  /** The local OpenAI-compatible endpoint (the inference server starts on the first request). */
  baseURL: string;
}

export interface ModelVersionView {
  version: number;
  createdAt: string;
  lineage: {
    dataset: { name: string; id: string };
    jobId: string;
    baseModel: BaseModel;
    provider: FineTuneProvider;
    hyperparameters: LoraHyperparameters;
    /** Hosted providers: the remote job and the provider's id of the trained model. */
    remote?: { baseURL: string; remoteJobId: string; fineTunedModel: string };
  };
  metrics: { firstLoss: number; finalLoss: number; validationLoss?: number; initialValidationLoss?: number; steps: number };
  /** The adapter's folder (adapter_model.safetensors, adapter_config.json) and the base it applies to. */
  artifact: { adapterDir: string; baseDir: string };
  aliases: ModelAlias[];
  /** Set by `model/evaluate` (the latest evaluation). */
  evaluation?: ModelEvaluation;
  /** Set by `model/promote`. */
  promotion?: ModelPromotion;
}

export interface ModelAliasEvent {
  alias: ModelAlias;
  version: number;
  previous?: number;
  at: string;
  /** Set when the move was forced past the champion rule. */
  override?: { reason: string };
}

export interface ModelView {
  name: string;
  createdAt: string;
  versions: ModelVersionView[];
  aliases: Partial<Record<ModelAlias, number>>;
  /** Every alias move, oldest first. */
  audit: ModelAliasEvent[];
}

const modelName = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, 'must be a model name');

/** `model/list` (client → server): every registered model, by name. */
export const modelList = defineRequest<ModelView[]>()('model/list', 'clientToServer', z.object({}).strict());

/** `model/get` (client → server). Errors: notFound. */
export const modelGet = defineRequest<ModelView>()('model/get', 'clientToServer', z.object({ name: modelName }).strict());

/**
 * `model/setAlias` (client → server): point an alias at a version, atomically, audited (the model's `audit`
 * and `<dataDir>/audit/models.jsonl`: who, when, from, to, reason). `champion` requires a validation loss
 * lower than the current champion's (the evaluated loss when `model/evaluate` ran, else the trainer's),
 * unless `override.reason` is given. Errors: InvalidParams, notFound (model or version), conflict (the rule
 * refused: the message gives both losses).
 */
export const modelSetAlias = defineRequest<ModelView>()(
  'model/setAlias',
  'clientToServer',
  z
    .object({
      name: modelName,
      alias: z.enum(modelAliases),
      version: z.number().int().min(1),
      override: z
        .object({ reason: z.string().trim().min(3, 'must say why (at least 3 characters)').max(500) })
        .strict()
        .optional(),
    })
    .strict(),
);

const versionRef = z.object({ name: modelName, version: z.number().int().min(1) }).strict();

/**
 * `model/evaluate` (client → server): scores the version (base + adapter) and its base model on the dataset
 * version's held-out validation examples in a Python subprocess with a deadline (validation loss, perplexity,
 * tool-call validity and exact match), stores the scores on the version and returns the model. Errors:
 * notFound (model or version), conflict (the dataset version has no validation examples, or its files or the
 * adapter are gone), timeout (the evaluator missed its deadline and was stopped) — nothing is stored then.
 */
export const modelEvaluate = defineRequest<ModelView>()('model/evaluate', 'clientToServer', versionRef);

/**
 * `model/promote` (client → server): makes an evaluated version selectable as a model for agents: OpenCode
 * gets the OpenAI-compatible provider `finetuned` with the model `<name>-v<version>`, served by a small local
 * inference server (started on the first request, 127.0.0.1, stopped with the orchestrator). Audited. Errors:
 * notFound (model or version), conflict (the version has no evaluation scores: run `model/evaluate` first).
 */
export const modelPromote = defineRequest<ModelView>()('model/promote', 'clientToServer', versionRef);
