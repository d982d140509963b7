/**
 * `model/*`: the model registry. A registered model has monotonically numbered versions (1, 2, …), each
 * with its lineage (dataset version, fine-tune job, base model, hyperparameters), metrics and artifact
 * location. Aliases (`champion`, `challenger`) point at one version each; every move is audited. A version
 * becomes `champion` only when its validation loss beats the current champion's, or with an explicit
 * override and a reason (recorded in the audit trail).
 */
import { z } from 'zod';
import type { BaseModel, LoraHyperparameters } from './finetune';
import { defineRequest } from './messages';

export const modelAliases = ['champion', 'challenger'] as const;
export type ModelAlias = (typeof modelAliases)[number];

export interface ModelVersionView {
  version: number;
  createdAt: string;
  lineage: {
    dataset: { name: string; id: string };
    jobId: string;
    baseModel: BaseModel;
    provider: 'local';
    hyperparameters: LoraHyperparameters;
  };
  metrics: { firstLoss: number; finalLoss: number; validationLoss?: number; initialValidationLoss?: number; steps: number };
  /** The adapter's folder (adapter_model.safetensors, adapter_config.json) and the base it applies to. */
  artifact: { adapterDir: string; baseDir: string };
  aliases: ModelAlias[];
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
 * `model/setAlias` (client → server): point an alias at a version, atomically, audited. `champion`
 * requires a validation loss lower than the current champion's, unless `override.reason` is given.
 * Errors: InvalidParams, notFound (model or version), conflict (the rule refused: the message gives both losses).
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
