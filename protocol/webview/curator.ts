/**
 * Dataset curator surface messages. Webview → host messages are untrusted and parsed with `curatorToHost`;
 * host → webview messages are typed by `HostToCurator`.
 *
 * The host keeps the curator's choices (filters, excluded runs, edits) and sends one complete snapshot
 * (`curator/view`, numbered by `seq`) after every change: every candidate with its fate (kept or dropped,
 * and why), the selected example as a conversation with its redactions, the stats of the curation as
 * `dataset/create` would do it, the last export and the fine-tune job. The webview only asks.
 */
import { z } from 'zod';
import type { DatasetExample, DatasetExportFile, DatasetStats, DatasetStage } from '../dataset';
import { datasetFormats } from '../dataset';
import type { FineTuneJobView } from '../finetune';
import { readyMessage } from './host';

const day = z.union([z.literal(''), z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date (YYYY-MM-DD)')]);
const word = z.string().max(200);

/** The filters of the candidate list; they combine with AND. Empty means any. */
export const curatorQuery = z
  .object({
    outcome: z.enum(['succeeded', 'failed', 'cancelled', 'any']),
    agent: word,
    model: word,
    /** Runs created on or after this day (UTC). */
    since: day,
    /** Runs created on or before this day (UTC). */
    until: day,
  })
  .strict();
export type CuratorQuery = z.infer<typeof curatorQuery>;

export { emptyCuratorQuery } from '../constants';

/** One candidate run and its fate in the curation. */
export interface CuratorRow {
  runId: string;
  sessionId: string;
  agent: string;
  model?: string;
  outcome: string;
  createdAt?: string;
  /** The first line of the run's prompt (redacted when the example is kept). */
  title: string;
  status: 'kept' | 'dropped';
  stage?: DatasetStage;
  reason?: string;
  /** Why the filter took it. */
  reasons: string[];
  tokens?: number;
  split?: 'train' | 'validation';
  redactions: number;
  excluded: boolean;
  /** Message indexes the curator edited. */
  edited: number[];
}

/** The selected candidate: its row and, when kept, the redacted conversation. */
export interface CuratorSelected {
  row: CuratorRow;
  example: DatasetExample | null;
  /** Redactions by place (`messages[1].content`, …) with their kinds. */
  redactions: { kind: string; field: string }[];
}

export interface CuratorExport {
  name: string;
  id: string;
  files: DatasetExportFile[];
}

/** host → webview: the complete state of the curator. */
export interface CuratorViewMessage {
  type: 'curator/view';
  seq: number;
  query: CuratorQuery;
  /** Every agent and model some run used (for the filters). */
  agents: string[];
  models: string[];
  rows: CuratorRow[];
  selected: CuratorSelected | null;
  stats: DatasetStats | null;
  warnings: string[];
  /** What is running now: reading the candidates, exporting, submitting a job. */
  busy: 'loading' | 'exporting' | 'submitting' | null;
  /** Why the last action failed (shown until the next action). */
  error?: string;
  /** Where the error is shown: over the list (reading), by the export form, by the fine-tune form. */
  errorAt?: 'list' | 'export' | 'finetune';
  exported: CuratorExport | null;
  job: FineTuneJobView | null;
  /** The user may only read (a viewer on a team server): the export and fine-tune forms are not offered. */
  readOnly?: boolean;
}

export type HostToCurator = CuratorViewMessage;

const runId = z.string().regex(/^[A-Za-z0-9_.:-]{1,160}$/, 'must be a run id');
const datasetName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, 'must be 1–100 letters, digits, _ . - (starting with a letter or digit)');

/** webview → host: the filters changed. */
export const curatorQueryMessage = z.object({ type: z.literal('curator/query'), query: curatorQuery }).strict();
/** webview → host: show this candidate (null: none). */
export const curatorSelect = z.object({ type: z.literal('curator/select'), runId: runId.nullable() }).strict();
/** webview → host: exclude a candidate from the dataset, or include it again. */
export const curatorExclude = z.object({ type: z.literal('curator/exclude'), runId, excluded: z.boolean() }).strict();
/** webview → host: replace the content of one message (null: undo the edit). */
export const curatorEdit = z
  .object({
    type: z.literal('curator/edit'),
    runId,
    message: z.number().int().min(0).max(100_000),
    content: z.string().max(1_000_000).nullable(),
  })
  .strict();
/** webview → host: write the dataset version with these formats. */
export const curatorExport = z
  .object({ type: z.literal('curator/export'), name: datasetName, formats: z.array(z.enum(datasetFormats)).min(1) })
  .strict();
/** webview → host: a fine-tune job on the exported dataset. */
export const curatorFineTune = z
  .object({
    type: z.literal('curator/finetune'),
    modelName: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, 'must be 1–64 lower-case letters, digits, _ . -'),
    steps: z.number().int().min(1).max(10_000),
    rank: z.number().int().min(1).max(256),
    learningRate: z.number().gt(0).max(1),
  })
  .strict();
/** webview → host: the snapshot `seq` was drawn (tests wait on it). */
export const curatorDidRender = z
  .object({ type: z.literal('curator/didRender'), seq: z.number().int().nonnegative(), rows: z.array(runId).max(10_000) })
  .strict();

export const curatorToHost = z.union([
  readyMessage,
  curatorQueryMessage,
  curatorSelect,
  curatorExclude,
  curatorEdit,
  curatorExport,
  curatorFineTune,
  curatorDidRender,
]);
export type CuratorToHost = z.infer<typeof curatorToHost>;
