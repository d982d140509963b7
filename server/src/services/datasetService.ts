/**
 * Curates datasets from what the server already keeps (never a copy that can drift): agent runs in the
 * store, their sessions (repository, whether the diff was applied) and their append-only transcripts.
 * Chooses runs by filters, builds one example per run, runs the pure curation pipeline (secrets through
 * the scanner port, tokens through the counter port) and writes the version — manifest, every
 * candidate's record, the curated examples and each export format — as one folder, atomically.
 * A dataset's name is taken once; creating it again with the same content returns the existing version.
 */
import path from 'node:path';
import type { ArchivedSession, StoredRun } from '../domain/storeEntities';
import { transcriptFolder } from './runService';
import { exportDataset, exportFormats, type ExportFormat } from '../domain/dataset/exporters';
import type { ExampleRecord, Provenance } from '../domain/dataset/example';
import { applyCuratorChoices, type CuratorChoices } from '../domain/dataset/curation';
import { buildExample } from '../domain/dataset/fromTranscript';
import { canonicalJson } from '../domain/dataset/hash';
import {
  curate,
  exampleTokens,
  type Candidate,
  type CurationOptions,
  type CurationResult,
  type CurationStats,
} from '../domain/dataset/pipeline';
import { datasetNameProblem, datasetVersion } from '../domain/dataset/version';
import { DomainError } from '../domain/errors';
import { localTenantId } from '../domain/storeSchema';
import type { DatasetFile, DatasetFolderPort, SecretScannerPort, TokenCounterPort } from '../ports/datasetTools';
import type { Logger } from '../ports/logger';
import type { StorePort } from '../ports/store';
import type { TranscriptPort } from '../ports/transcript';

export interface DatasetFilter {
  /** Run final states to take (default: `succeeded`). */
  outcomes?: ('succeeded' | 'failed' | 'cancelled')[];
  /** Only runs whose session's diff was applied (true) or was not (false). */
  applied?: boolean;
  agents?: string[];
  models?: string[];
  sessionIds?: string[];
  /** ISO times bounding the run's creation. */
  since?: string;
  until?: string;
}

export interface CreateDatasetInput {
  name: string;
  filter?: DatasetFilter;
  options?: Partial<Omit<CurationOptions, 'strict'>>;
  formats?: ExportFormat[];
  /** A person's exclusions and edits (the curation webview). */
  curation?: CuratorChoices;
}

export interface DatasetExportFile {
  format: ExportFormat;
  /** Absolute path inside the version's folder. */
  path: string;
}

export interface DatasetSummary {
  id: string;
  name: string;
  createdAt: string;
  /** The version's folder (absolute). */
  folder: string;
  /** Every export file written, inside `folder`. */
  files: DatasetExportFile[];
  stats: CurationStats;
  warnings: string[];
  formats: ExportFormat[];
  tokenizer: string;
  filter: DatasetFilter;
  /** The curator's exclusions and edits, without the edited text (that is in the examples). */
  curation?: { exclude: string[]; edits: { runId: string; message: number }[] };
}

export interface DatasetServiceDeps {
  store: StorePort;
  /** Only read: the run service's transcripts, whatever entries they hold. */
  transcripts: Pick<TranscriptPort<{ seq: number }>, 'read'>;
  folders: DatasetFolderPort;
  secrets: SecretScannerPort;
  tokens: TokenCounterPort;
  now(): Date;
  logger: Logger;
  tenantId?: string;
}

type RunRecord = StoredRun;

/** A run a filter takes: why, and the size of its example when one can be built. */
export interface DatasetCandidate {
  runId: string;
  provenance: Provenance;
  reasons: string[];
  tokens?: number;
  problem?: string;
}

/** Why a filter took a run: one line per condition it passed. */
function candidateReasons(filter: DatasetFilter, p: Provenance): string[] {
  const out = [`outcome ${p.outcome} (taken: ${(filter.outcomes ?? ['succeeded']).join(', ')})`];
  if (filter.applied !== undefined) out.push(p.applied ? "the session's diff was applied" : "the session's diff was not applied");
  if (filter.agents) out.push(`agent ${p.agent}`);
  if (filter.models) out.push(`model ${p.model ?? ''}`);
  if (filter.sessionIds) out.push(`session ${p.sessionId}`);
  if (filter.since || filter.until)
    out.push(
      `created ${p.createdAt ?? '?'} (${filter.since ? `since ${filter.since}` : ''}${filter.since && filter.until ? ', ' : ''}${filter.until ? `until ${filter.until}` : ''})`,
    );
  return out;
}

/** Export paths of a format, relative to the version's folder. */
const formatFiles = (f: ExportFormat): string[] => exportDataset([], f).map((x) => `${f}/${x.path}`);

const fail = (field: string, problem: string): never => {
  throw new DomainError('bad_input', `${field}: ${problem}`, { field });
};

const runOutcomes: readonly string[] = ['succeeded', 'failed', 'cancelled'];

function checkFilter(f: DatasetFilter): void {
  for (const key of ['outcomes', 'agents', 'models', 'sessionIds'] as const) {
    const v = f[key];
    if (v !== undefined && (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || !x)))
      fail(`filter.${key}`, 'must be a list of non-empty strings');
  }
  for (const key of ['since', 'until'] as const) {
    const v = f[key];
    if (v !== undefined && Number.isNaN(Date.parse(v))) fail(`filter.${key}`, `must be an ISO time, got ${JSON.stringify(v)}`);
  }
  if (f.applied !== undefined && typeof f.applied !== 'boolean') fail('filter.applied', 'must be true or false');
  const bad = f.outcomes?.find((o) => !runOutcomes.includes(o));
  if (bad !== undefined) fail('filter.outcomes', `${JSON.stringify(bad)} is not one of ${runOutcomes.join(', ')}`);
  if (f.since && f.until && Date.parse(f.since) > Date.parse(f.until)) fail('filter.since', 'must not be after until');
}

function checkOptions(o: Partial<CurationOptions>): void {
  if (o.maxTokens !== undefined && !(Number.isInteger(o.maxTokens) && o.maxTokens > 0))
    fail('options.maxTokens', 'must be a positive integer');
  if (o.validationFraction !== undefined && !(o.validationFraction >= 0 && o.validationFraction < 1))
    fail('options.validationFraction', 'must be at least 0 and below 1');
  if (o.seed !== undefined && (typeof o.seed !== 'string' || !o.seed)) fail('options.seed', 'must be a non-empty string');
  if (o.groupBy !== undefined && (!Array.isArray(o.groupBy) || o.groupBy.some((g) => g !== 'session' && g !== 'repo')))
    fail('options.groupBy', 'must list "session" and/or "repo"');
}

export class DatasetService {
  private readonly tenantId: string;

  constructor(private readonly deps: DatasetServiceDeps) {
    this.tenantId = deps.tenantId ?? localTenantId;
  }

  /** The runs a filter selects, with their provenance, oldest first. */
  selectRuns(filter: DatasetFilter = {}): { run: RunRecord; provenance: Provenance }[] {
    checkFilter(filter);
    const hot = this.deps.store.read();
    const data = { sessions: [...hot.sessions], tasks: [...hot.tasks], runs: [...hot.runs] };
    // Finished sessions moved to the archive are curated like the others (a corrupt archive is logged and left out).
    for (const e of hot.archive ?? []) {
      if (filter.sessionIds && !filter.sessionIds.includes(e.id)) continue;
      let a: ArchivedSession | undefined;
      try {
        a = this.deps.store.archived?.(e.id);
      } catch (err) {
        if (!DomainError.is(err, 'store_corrupt')) throw err;
      }
      if (!a) continue;
      data.sessions.push(a.session);
      data.tasks.push(...a.tasks);
      data.runs.push(...a.runs);
    }
    const sessions = new Map(data.sessions.map((s) => [s.id, s]));
    const taskOfRun = new Map<string, string>();
    for (const t of data.tasks) if (t.runId) taskOfRun.set(t.runId, t.id);
    const outcomes = filter.outcomes ?? ['succeeded'];
    const since = filter.since ? Date.parse(filter.since) : -Infinity;
    const until = filter.until ? Date.parse(filter.until) : Infinity;
    return data.runs
      .filter((r) => r.tenantId === this.tenantId)
      .map((run) => {
        const session = run.sessionId ? sessions.get(run.sessionId) : undefined;
        const taskId = run.taskId ?? taskOfRun.get(run.id);
        const provenance: Provenance = {
          // A single run is its own group (the folder its transcript lives in).
          sessionId: transcriptFolder(run),
          ...(taskId ? { taskId } : {}),
          runId: run.id,
          // Session runs work in worktrees; the repository is the session's. A single run's is its folder.
          repo: session?.cwd ?? run.cwd,
          agent: run.agent,
          ...(run.model ? { model: run.model } : {}),
          outcome: run.state,
          applied: !!session?.applied,
          createdAt: run.createdAt,
        };
        return { run, provenance };
      })
      .filter(({ run, provenance: p }) => {
        const at = Date.parse(run.createdAt);
        return (
          (outcomes as readonly string[]).includes(p.outcome) &&
          (filter.applied === undefined || p.applied === filter.applied) &&
          (!filter.agents || filter.agents.includes(p.agent)) &&
          (!filter.models || (p.model !== undefined && filter.models.includes(p.model))) &&
          (!filter.sessionIds || filter.sessionIds.includes(p.sessionId)) &&
          at >= since &&
          at <= until
        );
      })
      .sort((a, b) => a.run.createdAt.localeCompare(b.run.createdAt) || a.run.id.localeCompare(b.run.id));
  }

  /** The runs a filter takes, each with why and its example's tokens (before redaction). Reads only. */
  async candidates(filter: DatasetFilter = {}, limit = 1000): Promise<DatasetCandidate[]> {
    const runs = this.selectRuns(filter).slice(0, limit);
    if (runs.length) await this.deps.tokens.ready();
    const out: DatasetCandidate[] = [];
    for (const { run, provenance } of runs) {
      const events = await this.deps.transcripts.read(transcriptFolder(run), run.id);
      const built = buildExample({ prompt: run.prompt, events, workdir: run.cwd });
      out.push({
        runId: run.id,
        provenance,
        reasons: candidateReasons(filter, provenance),
        ...(built.ok ? { tokens: exampleTokens(built.example, (t) => this.deps.tokens.count(t)) } : { problem: built.reason }),
      });
    }
    return out;
  }

  /** Curates without writing anything (for a preview: records, stats, examples). */
  async preview(filter: DatasetFilter = {}, options: Partial<CurationOptions> = {}, choices: CuratorChoices = {}): Promise<CurationResult> {
    checkOptions(options);
    const runs = this.selectRuns(filter);
    if (!runs.length) fail('filter', 'no agent runs match it');
    await this.deps.tokens.ready();
    const candidates: Candidate[] = [];
    for (const { run, provenance } of runs) {
      const events = await this.deps.transcripts.read(transcriptFolder(run), run.id);
      const built = buildExample({ prompt: run.prompt, events, workdir: run.cwd });
      candidates.push(
        built.ok
          ? { source: run.id, provenance, row: built.example }
          : { source: run.id, provenance, dropped: { stage: 'build', reason: built.reason } },
      );
    }
    const chosen = applyCuratorChoices(candidates, choices);
    const result = await curate(
      chosen.candidates,
      { ...options, strict: false },
      { countTokens: (t) => this.deps.tokens.count(t), scanSecrets: (t) => this.deps.secrets.scan(t) },
    );
    for (const r of result.records) {
      const edited = chosen.edited.get(r.source);
      if (edited) r.edited = edited;
    }
    return result;
  }

  /** Curates and writes a new dataset version under `name`. Conflict when the name holds other content. */
  async create(input: CreateDatasetInput): Promise<DatasetSummary> {
    const problem = datasetNameProblem(input.name);
    if (problem) fail('name', problem);
    const formats = input.formats ?? [...exportFormats];
    if (!formats.length || formats.some((f) => !exportFormats.includes(f)))
      fail('formats', `must list some of ${exportFormats.join(', ')}`);
    const filter = input.filter ?? {};
    const existing = await this.get(input.name);
    const result = await this.preview(filter, input.options ?? {}, input.curation ?? {});
    const version = datasetVersion(input.name, this.deps.now().toISOString(), result);
    if (existing) {
      if (existing.id === version.id) return existing;
      throw new DomainError(
        'conflict',
        `name: a dataset named ${JSON.stringify(input.name)} already exists with other content (${existing.id})`,
        {
          field: 'name',
        },
      );
    }
    const summary: Omit<DatasetSummary, 'folder' | 'files'> = {
      id: version.id,
      name: version.name,
      createdAt: version.createdAt,
      stats: version.stats,
      warnings: [...version.warnings],
      formats,
      tokenizer: this.deps.tokens.encoding,
      filter,
      ...(input.curation?.exclude?.length || input.curation?.edits?.length
        ? {
            curation: {
              exclude: [...(input.curation.exclude ?? [])],
              edits: (input.curation.edits ?? []).map((e) => ({ runId: e.runId, message: e.message })),
            },
          }
        : {}),
    };
    const files: DatasetFile[] = [
      { path: 'manifest.json', content: `${JSON.stringify({ ...summary, format: version.format, options: version.options }, null, 2)}\n` },
      { path: 'records.jsonl', content: version.records.map((r) => `${canonicalJson(r)}\n`).join('') },
      { path: 'examples.jsonl', content: version.examples.map((e) => `${canonicalJson(e)}\n`).join('') },
      ...formats.flatMap((f) => exportDataset(version.examples, f).map((x) => ({ path: `${f}/${x.path}`, content: x.content }))),
    ];
    const folder = await this.deps.folders.create(input.name, files);
    this.deps.logger.info(`dataset ${input.name} (${version.id}): ${version.stats.kept} of ${version.stats.candidates} runs kept`);
    return { ...summary, folder, files: this.exportFiles(folder, formats) };
  }

  private exportFiles(folder: string, formats: readonly ExportFormat[]): DatasetExportFile[] {
    return formats.flatMap((format) => formatFiles(format).map((p) => ({ format, path: path.join(folder, ...p.split('/')) })));
  }

  /** Every candidate's record of dataset `name` (kept or dropped, and why). Throws not_found. */
  async records(name: string): Promise<ExampleRecord[]> {
    const text = await this.deps.folders.read(name, 'records.jsonl');
    if (text === undefined) throw new DomainError('not_found', `name: no dataset named ${JSON.stringify(name)}`, { field: 'name' });
    return text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as ExampleRecord);
  }

  /** The files of one format, already written inside the version's folder (never anywhere else). */
  async exportPaths(name: string, format: ExportFormat): Promise<string[]> {
    const s = await this.get(name);
    if (!s) throw new DomainError('not_found', `name: no dataset named ${JSON.stringify(name)}`, { field: 'name' });
    if (!s.formats.includes(format))
      throw new DomainError(
        'conflict',
        `format: dataset ${JSON.stringify(name)} was created without ${format} (it has ${s.formats.join(', ')}); versions never change: create a new one with that format`,
        { field: 'format' },
      );
    return s.files.filter((f) => f.format === format).map((f) => f.path);
  }

  async get(name: string): Promise<DatasetSummary | undefined> {
    const text = await this.deps.folders.read(name, 'manifest.json');
    if (text === undefined) return undefined;
    const m = JSON.parse(text) as DatasetSummary;
    const folder = this.deps.folders.path(name);
    return {
      id: m.id,
      name: m.name,
      createdAt: m.createdAt,
      folder,
      files: this.exportFiles(folder, m.formats),
      stats: m.stats,
      warnings: m.warnings,
      formats: m.formats,
      tokenizer: m.tokenizer,
      filter: m.filter,
      ...(m.curation ? { curation: m.curation } : {}),
    };
  }

  async list(): Promise<DatasetSummary[]> {
    const out: DatasetSummary[] = [];
    for (const name of await this.deps.folders.list()) {
      const s = await this.get(name);
      if (s) out.push(s);
    }
    return out;
  }
}
