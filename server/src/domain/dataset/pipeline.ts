/**
 * The curation pipeline over candidate examples, in order: validate + normalise → exact dedup (SHA-256 of
 * the canonical messages) → near-duplicate removal (MinHash + LSH) → secret (injected scanner) and PII
 * redaction → quality (fits `maxTokens`) → train/validation split grouped by session and repository.
 * Every candidate gets a record: kept (split, tokens, redactions) or dropped (stage, reason). No I/O:
 * the secret scanner and the token counter are injected.
 *
 * `strict`: for rows a person supplied (an import, edits): the first invalid or over-long row throws a
 * `DomainError('bad_input')` naming the row and the field, and nothing is returned.
 */
import { DomainError } from '../errors';
import { conversationText, type CuratedExample, type CurationStage, type Example, type ExampleRecord, type Provenance } from './example';
import { canonicalJson, sha256Hex } from './hash';
import { defaultMinHash, nearDuplicates, type MinHashOptions } from './minhash';
import { kindLabel, redactExample, type SecretScan } from './redact';
import { groupedSplit, type SplitKey } from './split';
import { validateExample } from './validate';

export interface Candidate {
  /** Unique id of the source (the run id). */
  source: string;
  provenance: Provenance;
  /** The example as built or supplied (validated here). Absent when `dropped` says why there is none. */
  row?: unknown;
  dropped?: { stage: CurationStage; reason: string };
}

export interface CurationOptions {
  maxTokens: number;
  validationFraction: number;
  seed: string;
  groupBy: readonly SplitKey[];
  minHash: MinHashOptions;
  pii: boolean;
  strict: boolean;
}

export const defaultCuration: CurationOptions = {
  maxTokens: 16_384,
  validationFraction: 0.1,
  seed: 'orchestrator',
  groupBy: ['session', 'repo'],
  minHash: defaultMinHash,
  pii: true,
  strict: false,
};

export interface CurationDeps {
  countTokens(text: string): number;
  scanSecrets?: SecretScan;
}

export interface CurationStats {
  candidates: number;
  kept: number;
  dropped: Partial<Record<CurationStage, number>>;
  train: { examples: number; tokens: number };
  validation: { examples: number; tokens: number };
  groups: number;
  redactions: Record<string, number>;
  /** Kept examples per token bucket: key is the bucket's upper bound (a power of two). */
  tokenHistogram: Record<string, number>;
}

export interface CurationResult {
  /** The options in force (defaults filled in). */
  options: CurationOptions;
  examples: CuratedExample[];
  records: ExampleRecord[];
  stats: CurationStats;
  warnings: string[];
}

/**
 * Tokens of an example as a chat template would lay it out, approximated OpenAI-cookbook style: 4 per
 * message for role and separators, the content, each tool call's name and arguments (+3), the tool
 * definitions as JSON, and 3 to prime the reply.
 */
export function exampleTokens(ex: Example, count: (text: string) => number): number {
  let n = 3;
  for (const m of ex.messages) {
    n += 4 + (m.content ? count(m.content) : 0);
    if (m.role === 'assistant') for (const c of m.tool_calls ?? []) n += 3 + count(c.function.name) + count(c.function.arguments);
  }
  if (ex.tools.length) n += count(canonicalJson(ex.tools));
  return n;
}

export const messagesHash = (ex: Example): string => sha256Hex(canonicalJson(ex.messages));

const bucket = (tokens: number): string => String(2 ** Math.max(6, Math.ceil(Math.log2(Math.max(tokens, 1)))));

interface Live {
  index: number;
  c: Candidate;
  example: Example;
  record: ExampleRecord;
}

export async function curate(
  candidates: readonly Candidate[],
  options: Partial<CurationOptions>,
  deps: CurationDeps,
): Promise<CurationResult> {
  const opts: CurationOptions = { ...defaultCuration, ...options };
  if (!(opts.maxTokens > 0))
    throw new DomainError('bad_input', `maxTokens: must be a positive number, got ${opts.maxTokens}`, { field: 'maxTokens' });
  const seen = new Set<string>();
  for (const c of candidates) {
    if (seen.has(c.source)) throw new DomainError('bad_input', `source: ${JSON.stringify(c.source)} appears twice`, { field: 'source' });
    seen.add(c.source);
  }
  const records: ExampleRecord[] = candidates.map((c) => ({ source: c.source, provenance: c.provenance, status: 'kept', redactions: [] }));
  const drop = (r: ExampleRecord, stage: CurationStage, reason: string, extra: Partial<ExampleRecord> = {}) =>
    Object.assign(r, { status: 'dropped', stage, reason, ...extra });

  // 1. Validate and normalise.
  let live: Live[] = [];
  candidates.forEach((c, index) => {
    const record = records[index]!;
    if (c.dropped) return void drop(record, c.dropped.stage, c.dropped.reason);
    try {
      live.push({ index, c, example: validateExample(c.row, opts.strict ? index + 1 : c.source), record });
    } catch (e) {
      if (opts.strict || !DomainError.is(e)) throw e;
      drop(record, 'validate', e.message);
    }
  });

  // 2. Exact duplicates: the first occurrence is kept.
  const byHash = new Map<string, string>();
  live = live.filter((l) => {
    const hash = messagesHash(l.example);
    l.record.contentHash = hash;
    const first = byHash.get(hash);
    if (first === undefined) return (byHash.set(hash, l.c.source), true);
    drop(l.record, 'exact_dedup', `same messages as ${first}`, { duplicateOf: first });
    return false;
  });

  // 3. Near duplicates.
  const near = nearDuplicates(
    live.map((l) => conversationText(l.example.messages)),
    opts.minHash,
  );
  live = live.filter((l, i) => {
    const d = near[i]!;
    if (d.duplicateOf === -1) return true;
    const of = live[d.duplicateOf]!.c.source;
    drop(l.record, 'near_dedup', `near duplicate of ${of} (estimated Jaccard ${d.similarity.toFixed(2)} ≥ ${opts.minHash.threshold})`, {
      duplicateOf: of,
    });
    return false;
  });

  // 4. Secrets and PII.
  for (const l of live) {
    const { example, redactions } = await redactExample(l.example, deps.scanSecrets, opts.pii);
    l.example = example;
    l.record.redactions = redactions;
  }

  // 5. Quality: fits the context length.
  live = live.filter((l) => {
    const tokens = exampleTokens(l.example, deps.countTokens);
    l.record.tokens = tokens;
    if (tokens <= opts.maxTokens) return true;
    const reason = `too_long: ${tokens} tokens > maxTokens ${opts.maxTokens}`;
    if (opts.strict) throw new DomainError('bad_input', `row ${l.index + 1}: messages: ${reason}`, { row: l.index + 1, field: 'messages' });
    drop(l.record, 'quality', reason);
    return false;
  });

  // 6. Split.
  const split = groupedSplit(
    live.map((l) => ({ source: l.c.source, session: l.c.provenance.sessionId, repo: l.c.provenance.repo })),
    { validationFraction: opts.validationFraction, seed: opts.seed, groupBy: opts.groupBy },
  );
  const examples: CuratedExample[] = live.map((l) => {
    const side = split.split.get(l.c.source)!;
    l.record.split = side;
    return { ...l.example, source: l.c.source, split: side, tokens: l.record.tokens!, provenance: l.c.provenance };
  });
  return {
    options: opts,
    examples,
    records,
    stats: statsOf(records, examples, split.groups),
    warnings: split.warning ? [split.warning] : [],
  };
}

function statsOf(records: readonly ExampleRecord[], examples: readonly CuratedExample[], groups: number): CurationStats {
  const stats: CurationStats = {
    candidates: records.length,
    kept: examples.length,
    dropped: {},
    train: { examples: 0, tokens: 0 },
    validation: { examples: 0, tokens: 0 },
    groups,
    redactions: {},
    tokenHistogram: {},
  };
  for (const r of records) {
    if (r.status === 'dropped') stats.dropped[r.stage!] = (stats.dropped[r.stage!] ?? 0) + 1;
    for (const x of r.redactions) stats.redactions[kindLabel(x.kind)] = (stats.redactions[kindLabel(x.kind)] ?? 0) + 1;
  }
  for (const e of examples) {
    stats[e.split].examples++;
    stats[e.split].tokens += e.tokens;
    const b = bucket(e.tokens);
    stats.tokenHistogram[b] = (stats.tokenHistogram[b] ?? 0) + 1;
  }
  return stats;
}
