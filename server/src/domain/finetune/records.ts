/**
 * Strict zod schemas of the store's `fineTuneJobs` and `models` collections (see storeSchema.ts: both
 * default to empty, so a schema-v4 file written before they existed loads unchanged). Pure.
 */
import { z } from 'zod';
import { baseModels, fineTuneProviders, fineTuneStates } from '../../../../protocol/finetune';
import { modelAliases } from '../../../../protocol/model';
import type { FineTuneJob } from './job';
import type { RegisteredModel } from './registry';

const id = z.string().min(1);
const ms = z.number();
const point = z.tuple([z.number(), z.number()]);

const hyperparameters = z
  .object({
    rank: z.number().int(),
    alpha: z.number().int(),
    dropout: z.number(),
    targetModules: z.array(z.enum(['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'])),
    learningRate: z.number(),
    steps: z.number().int(),
    batchSize: z.number().int(),
    maxSeqLength: z.number().int(),
    evalEvery: z.number().int(),
    seed: z.number().int(),
  })
  .strict();

const dataset = z.object({ name: z.string().min(1), id: z.string().min(1) }).strict();
const provider = z.enum(fineTuneProviders);
const remote = z
  .object({
    baseURL: z.string().min(1),
    apiKeyEnv: z.string().min(1),
    remoteModel: z.string().min(1),
    accountId: z.string().optional(),
    remoteJobId: z.string().optional(),
    remoteState: z.string().optional(),
    fineTunedModel: z.string().optional(),
    deadlineMs: z.number().optional(),
    pollMs: z.number().optional(),
  })
  .strict();

export const fineTuneJobSchema: z.ZodType<FineTuneJob> = z
  .object({
    id,
    tenantId: id,
    state: z.enum(fineTuneStates),
    provider,
    modelName: z.string().min(1),
    baseModel: z.enum(baseModels),
    dataset,
    hyperparameters,
    remote: remote.optional(),
    evaluate: z.boolean().optional(),
    pausedMs: z.number().optional(),
    pausedAt: ms.optional(),
    evaluation: z
      .object({ state: z.enum(['running', 'succeeded', 'failed']), message: z.string().optional() })
      .strict()
      .optional(),
    idempotencyKey: z.string().optional(),
    progress: z
      .object({
        step: z.number().int(),
        totalSteps: z.number().int(),
        loss: z.number().optional(),
        firstLoss: z.number().optional(),
        validationLoss: z.number().optional(),
        initialValidationLoss: z.number().optional(),
      })
      .strict(),
    lossCurve: z.array(point),
    validationCurve: z.array(point),
    createdAt: ms,
    startedAt: ms.optional(),
    finishedAt: ms.optional(),
    modelVersion: z.number().int().optional(),
    outputDir: z.string().min(1),
    error: z
      .object({ reason: z.enum(['trainer_failed', 'timeout', 'server_restart', 'cancelled']), message: z.string() })
      .strict()
      .optional(),
  })
  .strict();

const alias = z.enum(modelAliases);

/** A model's evaluation scores (protocol/model.ts `EvaluationScores`); also checks the evaluator's output. */
export const evaluationScoresSchema = z
  .object({
    validationLoss: z.number().finite(),
    perplexity: z.number(),
    toolCalls: z
      .object({
        turns: z.number().int().min(0),
        generated: z.number().int().min(0),
        valid: z.number().int().min(0),
        exactMatches: z.number().int().min(0),
        validity: z.number().min(0).max(1),
        exactMatch: z.number().min(0).max(1),
      })
      .strict(),
  })
  .strict();
const scores = evaluationScoresSchema;

export const modelRecordSchema: z.ZodType<RegisteredModel> = z
  .object({
    name: z.string().min(1),
    tenantId: id,
    createdAt: ms,
    versions: z.array(
      z
        .object({
          version: z.number().int().min(1),
          createdAt: ms,
          lineage: z
            .object({
              dataset,
              jobId: id,
              baseModel: z.enum(baseModels),
              provider,
              hyperparameters,
              remote: z.object({ baseURL: z.string(), remoteJobId: z.string(), fineTunedModel: z.string() }).strict().optional(),
            })
            .strict(),
          metrics: z
            .object({
              firstLoss: z.number(),
              finalLoss: z.number(),
              validationLoss: z.number().optional(),
              initialValidationLoss: z.number().optional(),
              steps: z.number().int(),
            })
            .strict(),
          artifact: z.object({ adapterDir: z.string(), baseDir: z.string() }).strict(),
          evaluation: z
            .object({
              at: ms,
              dataset,
              examples: z.number().int(),
              candidate: scores,
              base: scores,
              seconds: z.number(),
            })
            .strict()
            .optional(),
          promotion: z
            .object({ at: ms, model: z.string().min(1), baseURL: z.string().min(1) })
            .strict()
            .optional(),
        })
        .strict(),
    ),
    aliases: z.object({ champion: z.number().int().optional(), challenger: z.number().int().optional() }).strict(),
    audit: z.array(
      z
        .object({
          alias,
          version: z.number().int(),
          previous: z.number().int().optional(),
          at: ms,
          override: z.object({ reason: z.string() }).strict().optional(),
        })
        .strict(),
    ),
  })
  .strict();
