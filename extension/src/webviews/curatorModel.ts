/**
 * What the dataset curator host shows and sends, without `vscode` (unit-tested): the `dataset/*` filter of
 * the webview's query, the curator's choices limited to the runs the filter takes, the rows (every
 * candidate with its fate and the filter's reasons), the selected example with its redactions, and the
 * complete `curator/view` snapshot.
 */
import type {
  DatasetCandidate,
  DatasetCuration,
  DatasetExample,
  DatasetFilter,
  DatasetRecord,
  DatasetStats,
} from '../../../protocol/dataset';
import type { FineTuneJobView } from '../../../protocol/finetune';
import type { CuratorExport, CuratorQuery, CuratorRow, CuratorSelected, CuratorViewMessage } from '../../../protocol/webview/curator';

/** The `dataset/*` filter of a query: days are whole UTC days. */
export function filterOf(q: CuratorQuery): DatasetFilter {
  return {
    outcomes: q.outcome === 'any' ? ['succeeded', 'failed', 'cancelled'] : [q.outcome],
    ...(q.agent ? { agents: [q.agent] } : {}),
    ...(q.model ? { models: [q.model] } : {}),
    ...(q.since ? { since: `${q.since}T00:00:00.000Z` } : {}),
    ...(q.until ? { until: `${q.until}T23:59:59.999Z` } : {}),
  };
}

/** run id → message index → content. */
export type Edits = ReadonlyMap<string, ReadonlyMap<number, string>>;

/**
 * The choices to send with a filter: only runs it takes (a choice about a run the filter leaves out is
 * kept for later, not sent), and no edits of an excluded run. Undefined when there is nothing to send.
 */
export function curationFor(candidates: readonly string[], excluded: ReadonlySet<string>, edits: Edits): DatasetCuration | undefined {
  const taken = new Set(candidates);
  const exclude = [...excluded].filter((id) => taken.has(id)).sort();
  const out = [...edits]
    .filter(([runId]) => taken.has(runId) && !excluded.has(runId))
    .sort(([a], [b]) => a.localeCompare(b))
    .flatMap(([runId, byMessage]) => [...byMessage].sort(([a], [b]) => a - b).map(([message, content]) => ({ runId, message, content })));
  if (!exclude.length && !out.length) return undefined;
  return { ...(exclude.length ? { exclude } : {}), ...(out.length ? { edits: out } : {}) };
}

/** The first line of the example's first user message, else of the prompt, at most 120 characters. */
export function titleOf(example: DatasetExample | undefined, fallback: string): string {
  const user = example?.messages.find((m) => m.role === 'user')?.content;
  const line = (user ?? fallback).split('\n').find((l) => l.trim()) ?? '';
  return line.length > 120 ? `${line.slice(0, 119)}…` : line;
}

/** Every candidate (oldest first) with its record's fate; a candidate the preview has no record of is "dropped at build". */
export function rowsOf(
  candidates: readonly DatasetCandidate[],
  records: readonly DatasetRecord[],
  examples: readonly DatasetExample[],
  excluded: ReadonlySet<string>,
  prompts: ReadonlyMap<string, string> = new Map(),
): CuratorRow[] {
  const bySource = new Map(records.map((r) => [r.source, r]));
  const exBySource = new Map(examples.map((e) => [e.source, e]));
  return candidates.map((c) => {
    const r = bySource.get(c.runId);
    const p = c.provenance;
    return {
      runId: c.runId,
      sessionId: p.sessionId,
      agent: p.agent,
      ...(p.model ? { model: p.model } : {}),
      outcome: p.outcome,
      ...(p.createdAt ? { createdAt: p.createdAt } : {}),
      title: titleOf(exBySource.get(c.runId), r?.status === 'kept' ? '' : (prompts.get(c.runId) ?? '')),
      status: r?.status ?? 'dropped',
      ...(r?.stage ? { stage: r.stage } : !r ? { stage: 'build' as const } : {}),
      ...(r?.reason ? { reason: r.reason } : !r && c.problem ? { reason: c.problem } : {}),
      reasons: c.reasons,
      ...(r?.tokens !== undefined ? { tokens: r.tokens } : c.tokens !== undefined ? { tokens: c.tokens } : {}),
      ...(r?.split ? { split: r.split } : {}),
      redactions: r?.redactions.length ?? 0,
      excluded: excluded.has(c.runId),
      edited: r?.edited ?? [],
    };
  });
}

export function selectedOf(
  runId: string | undefined,
  rows: readonly CuratorRow[],
  records: readonly DatasetRecord[],
  examples: readonly DatasetExample[],
): CuratorSelected | null {
  const row = runId ? rows.find((r) => r.runId === runId) : undefined;
  if (!row) return null;
  const rec = records.find((r) => r.source === row.runId);
  return {
    row,
    example: examples.find((e) => e.source === row.runId) ?? null,
    redactions: (rec?.redactions ?? []).map((x) => ({ kind: x.kind.replace(/^@secretlint\/secretlint-rule-/, ''), field: x.field })),
  };
}

/** Agents and models named by any candidate, sorted, for the filters. */
export function choicesOf(candidates: readonly DatasetCandidate[]): { agents: string[]; models: string[] } {
  const agents = new Set<string>();
  const models = new Set<string>();
  for (const c of candidates) {
    agents.add(c.provenance.agent);
    if (c.provenance.model) models.add(c.provenance.model);
  }
  return { agents: [...agents].sort(), models: [...models].sort() };
}

/** A fine-tune job is over (no more polling). */
export const jobEnded = (job: FineTuneJobView): boolean => ['succeeded', 'failed', 'cancelled'].includes(job.state);

export interface CuratorState {
  query: CuratorQuery;
  agents: string[];
  models: string[];
  rows: CuratorRow[];
  selected: CuratorSelected | null;
  stats: DatasetStats | null;
  warnings: string[];
  busy: CuratorViewMessage['busy'];
  error?: string;
  errorAt?: CuratorViewMessage['errorAt'];
  exported: CuratorExport | null;
  job: FineTuneJobView | null;
}

/** `readOnly`: a viewer on a team server (export and fine-tune are not offered). */
export function curatorSnapshot(s: CuratorState, seq: number, readOnly = false): CuratorViewMessage {
  return {
    type: 'curator/view',
    seq,
    query: s.query,
    agents: s.agents,
    models: s.models,
    rows: s.rows,
    selected: s.selected,
    stats: s.stats,
    warnings: s.warnings,
    busy: s.busy,
    ...(s.error ? { error: s.error, errorAt: s.errorAt ?? 'list' } : {}),
    exported: s.exported,
    job: s.job,
    ...(readOnly ? { readOnly: true } : {}),
  };
}
