/**
 * Curates datasets from what the server already keeps (never a copy that can drift): agent runs in the
 * store, their sessions (repository, whether the diff was applied) and their append-only transcripts.
 * Chooses runs by filters, builds one example per run, runs the pure curation pipeline (secrets through
 * the scanner port, tokens through the counter port) and writes the version — manifest, every
 * candidate's record, the curated examples and each export format — as one folder, atomically.
 * A dataset's name is taken once; creating it again with the same content returns the existing version.
 */
import type { StoredRun } from '../domain/storeEntities';
import { transcriptFolder } from './runService';
import { exportDataset, exportFormats, type ExportFormat } from '../domain/dataset/exporters';
import type { Provenance } from '../domain/dataset/example';
import { buildExample } from '../domain/dataset/fromTranscript';
import { canonicalJson } from '../domain/dataset/hash';
import { curate, type Candidate, type CurationOptions, type CurationResult, type CurationStats } from '../domain/dataset/pipeline';
import { datasetNameProblem, datasetVersion } from '../domain/dataset/version';
import { DomainError } from '../domain/errors';
import { localTenantId } from '../domain/storeSchema';
import type { DatasetFile, DatasetFolderPort, SecretScannerPort, TokenCounterPort } from '../ports/datasetTools';
import type { Logger } from '../ports/logger';
import type { StorePort } from '../ports/store';
import type { TranscriptPort } from '../ports/transcript';

export interface DatasetFilter {
  /** Run final states to take (default: `succeeded`). */
  outcomes?: string[];
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
}

export interface DatasetSummary {
  id: string;
  name: string;
  createdAt: string;
  folder?: string;
  stats: CurationStats;
  warnings: string[];
  formats: ExportFormat[];
  tokenizer: string;
  filter: DatasetFilter;
}

export interface DatasetServiceDeps {
  store: StorePort;
  transcripts: TranscriptPort;
  folders: DatasetFolderPort;
  secrets: SecretScannerPort;
  tokens: TokenCounterPort;
  now(): Date;
  logger: Logger;
  tenantId?: string;
}

type RunRecord = StoredRun;

const fail = (field: string, problem: string): never => {
  throw new DomainError('bad_input', `${field}: ${problem}`, { field });
};

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
    const data = this.deps.store.read();
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
          outcomes.includes(p.outcome) &&
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

  /** Curates without writing anything (for a preview: records, stats, examples). */
  async preview(filter: DatasetFilter = {}, options: Partial<CurationOptions> = {}): Promise<CurationResult> {
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
    return curate(
      candidates,
      { ...options, strict: false },
      { countTokens: (t) => this.deps.tokens.count(t), scanSecrets: (t) => this.deps.secrets.scan(t) },
    );
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
    const result = await this.preview(filter, input.options ?? {});
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
    const summary: DatasetSummary = {
      id: version.id,
      name: version.name,
      createdAt: version.createdAt,
      stats: version.stats,
      warnings: [...version.warnings],
      formats,
      tokenizer: this.deps.tokens.encoding,
      filter,
    };
    const files: DatasetFile[] = [
      { path: 'manifest.json', content: `${JSON.stringify({ ...summary, format: version.format, options: version.options }, null, 2)}\n` },
      { path: 'records.jsonl', content: version.records.map((r) => `${canonicalJson(r)}\n`).join('') },
      { path: 'examples.jsonl', content: version.examples.map((e) => `${canonicalJson(e)}\n`).join('') },
      ...formats.flatMap((f) => exportDataset(version.examples, f).map((x) => ({ path: `${f}/${x.path}`, content: x.content }))),
    ];
    const folder = await this.deps.folders.create(input.name, files);
    this.deps.logger.info(`dataset ${input.name} (${version.id}): ${version.stats.kept} of ${version.stats.candidates} runs kept`);
    return { ...summary, folder };
  }

  async get(name: string): Promise<DatasetSummary | undefined> {
    const text = await this.deps.folders.read(name, 'manifest.json');
    if (text === undefined) return undefined;
    const m = JSON.parse(text) as DatasetSummary;
    return {
      id: m.id,
      name: m.name,
      createdAt: m.createdAt,
      stats: m.stats,
      warnings: m.warnings,
      formats: m.formats,
      tokenizer: m.tokenizer,
      filter: m.filter,
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
