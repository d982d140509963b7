/**
 * `dataset/*`: fine-tuning datasets curated from the server's own agent runs (their store records and
 * append-only transcripts, never a copy). A dataset version is immutable and identified by the SHA-256 of
 * its content; its name is taken once. Export files live only inside the version's folder under the
 * data folder (`<dataDir>/datasets/<name>/<format>/…`): a client gets their paths, never writes elsewhere.
 */
import { z } from 'zod';
import { defineRequest } from './messages';
import { id } from './session';

export type DatasetFormat = 'openai' | 'sharegpt' | 'mlx';
export const datasetFormats = ['openai', 'sharegpt', 'mlx'] as const satisfies readonly DatasetFormat[];

/** The stages of curation; a dropped candidate names the one that dropped it (`curator`: a person excluded it). */
export type DatasetStage = 'curator' | 'build' | 'validate' | 'exact_dedup' | 'near_dedup' | 'redact' | 'quality' | 'split';

const isoTime = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 time such as 2026-01-31T12:00:00Z' });
const word = z.string().trim().min(1, 'must not be empty').max(200);

export const datasetFilter = z
  .object({
    /** Run final states to take (default: `succeeded`). */
    outcomes: z
      .array(z.enum(['succeeded', 'failed', 'cancelled']))
      .min(1)
      .optional(),
    /** Only runs of sessions whose diff was applied (true) or was not (false). */
    applied: z.boolean().optional(),
    agents: z.array(word).min(1).optional(),
    models: z.array(word).min(1).optional(),
    /** Session ids; a single run's group is `run-<runId>`. */
    sessionIds: z.array(id).min(1).optional(),
    since: isoTime.optional(),
    until: isoTime.optional(),
  })
  .strict()
  .refine((f) => !f.since || !f.until || Date.parse(f.since) <= Date.parse(f.until), {
    message: 'must not be after until',
    path: ['since'],
  });
export type DatasetFilter = z.infer<typeof datasetFilter>;

export const datasetOptions = z
  .object({
    /** Examples longer than this (tokens, `o200k_base`) are dropped at `quality`. */
    maxTokens: z.number().int().min(1).max(1_000_000).optional(),
    /** Share of groups for validation, in [0, 1). */
    validationFraction: z.number().min(0).lt(1).optional(),
    seed: word.optional(),
    groupBy: z
      .array(z.enum(['session', 'repo']))
      .min(1)
      .optional(),
    /** Redact e-mail addresses, phone numbers and IP addresses too (default true). */
    pii: z.boolean().optional(),
  })
  .strict();
export type DatasetOptions = z.infer<typeof datasetOptions>;

/**
 * A person's choices over the candidates (the curation webview): runs excluded (recorded as dropped at
 * `curator`) and message contents replaced. Edited text passes validation and redaction like any other;
 * the record of an edited example lists the edited messages, the manifest every edit (without its text).
 */
export const datasetCuration = z
  .object({
    exclude: z.array(id).max(10_000).optional(),
    edits: z
      .array(
        z
          .object({
            runId: id,
            /** Index of the message in the example built from the run (0: the prompt). */
            message: z.number().int().min(0).max(100_000),
            content: z.string().max(1_000_000),
          })
          .strict(),
      )
      .max(10_000)
      .optional(),
  })
  .strict();
export type DatasetCuration = z.infer<typeof datasetCuration>;

/** Where a candidate came from (one agent run = one example). */
export interface DatasetProvenance {
  sessionId: string;
  taskId?: string;
  runId: string;
  repo: string;
  agent: string;
  model?: string;
  outcome: string;
  applied: boolean;
  createdAt?: string;
}

export interface DatasetCandidate {
  runId: string;
  provenance: DatasetProvenance;
  /** Why the filter took it, one line per condition (outcome, applied, agent, …). */
  reasons: string[];
  /** Tokens of the example before redaction (absent when it cannot be built). */
  tokens?: number;
  /** Why no example can be built from the run (it would be dropped at `build`). */
  problem?: string;
}

export interface DatasetStats {
  candidates: number;
  kept: number;
  dropped: Partial<Record<DatasetStage, number>>;
  train: { examples: number; tokens: number };
  validation: { examples: number; tokens: number };
  groups: number;
  /** Redactions per kind (secretlint rule id, `email`, …). */
  redactions: Record<string, number>;
  tokenHistogram: Record<string, number>;
}

export interface DatasetExportFile {
  format: DatasetFormat;
  /** Absolute path inside the version's folder. */
  path: string;
}

export interface DatasetView {
  /** `sha256:<hex>` of the content (options, examples, records). */
  id: string;
  name: string;
  createdAt: string;
  folder: string;
  stats: DatasetStats;
  warnings: string[];
  formats: DatasetFormat[];
  files: DatasetExportFile[];
  tokenizer: string;
  filter: DatasetFilter;
  /** The curator's exclusions and edits (run id and message index; the edited text is in the examples). */
  curation?: { exclude: string[]; edits: { runId: string; message: number }[] };
}

/** The fate of one candidate. */
export interface DatasetRecord {
  source: string;
  provenance: DatasetProvenance;
  status: 'kept' | 'dropped';
  stage?: DatasetStage;
  reason?: string;
  duplicateOf?: string;
  contentHash?: string;
  redactions: { kind: string; field: string; start: number; end: number }[];
  tokens?: number;
  split?: 'train' | 'validation';
  /** Indexes of the messages the curator edited. */
  edited?: number[];
}

/** One message of an example as exported (OpenAI chat-with-tools). */
export interface DatasetMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string | null;
  tool_calls?: { id: string; type: 'function'; function: { name: string; arguments: string } }[];
  tool_call_id?: string;
  weight?: 0 | 1;
}

/** A kept example after redaction (placeholders `[REDACTED:<kind>]` in place of what was found). */
export interface DatasetExample {
  source: string;
  split: 'train' | 'validation';
  tokens: number;
  messages: DatasetMessage[];
}

/** `dataset/candidates` (client → server): the runs a filter takes, oldest first. Nothing is written. */
export const datasetCandidates = defineRequest<{ candidates: DatasetCandidate[] }>()(
  'dataset/candidates',
  'clientToServer',
  z.object({ filter: datasetFilter.optional(), limit: z.number().int().min(1).max(10_000).optional() }).strict(),
);

const datasetName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, 'must be 1–100 letters, digits, _ . - (starting with a letter or digit)');

/**
 * `dataset/create` (client → server): curate the runs the filter takes and write the version (manifest,
 * records, examples, every format) as one folder. Same name and same content → the existing version.
 * Errors: InvalidParams (a field; no run matches the filter), conflict (the name holds other content).
 */
export const datasetCreate = defineRequest<DatasetView>()(
  'dataset/create',
  'clientToServer',
  z
    .object({
      name: datasetName,
      filter: datasetFilter.optional(),
      options: datasetOptions.optional(),
      formats: z.array(z.enum(datasetFormats)).min(1).optional(),
      curation: datasetCuration.optional(),
    })
    .strict(),
);

/**
 * `dataset/preview` (client → server): curate exactly as `dataset/create` would, write nothing, and return
 * every candidate's record and the kept examples (redacted). Errors: InvalidParams (a field named; no run
 * matches the filter; an edit naming a run that is not a candidate or a message it does not have).
 */
export const datasetPreview = defineRequest<{
  records: DatasetRecord[];
  examples: DatasetExample[];
  stats: DatasetStats;
  warnings: string[];
}>()(
  'dataset/preview',
  'clientToServer',
  z.object({ filter: datasetFilter.optional(), options: datasetOptions.optional(), curation: datasetCuration.optional() }).strict(),
);

/** `dataset/list` (client → server): every version, by name. */
export const datasetList = defineRequest<DatasetView[]>()('dataset/list', 'clientToServer', z.object({}).strict());

/** `dataset/get` (client → server): the version and every candidate's record. Errors: notFound. */
export const datasetGet = defineRequest<{ dataset: DatasetView; records: DatasetRecord[] }>()(
  'dataset/get',
  'clientToServer',
  z.object({ name: datasetName }).strict(),
);

/**
 * `dataset/export` (client → server): the files of one format, already written inside the version's
 * folder. Errors: notFound (no such dataset), conflict (the version was created without that format).
 */
export const datasetExport = defineRequest<{ format: DatasetFormat; files: string[] }>()(
  'dataset/export',
  'clientToServer',
  z.object({ name: datasetName, format: z.enum(datasetFormats) }).strict(),
);
