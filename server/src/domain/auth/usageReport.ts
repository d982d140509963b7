/**
 * Usage reports, pure: the lines of a tenant's usage ledger (one per ended run) summed per user, agent,
 * model or UTC day, in a time range, optionally only one user's runs. Lines written before the ledger
 * carried who, which agent and which model (only `tokens`) still count: under `unknown`, their tokens in
 * `tokens` and none in `inputTokens` / `outputTokens`.
 */
import type { UsageGroupBy, UsageReportRow, UsageTotalsView } from '../../../../protocol/usage';
import { DomainError } from '../errors';

/** One line of `usage.jsonl`. Fields after `tokens` were added later and are absent from old lines. */
export interface UsageLine {
  atMs: number;
  runId: string;
  /** input + output + reasoning: what counts against the tokens quota. */
  tokens: number;
  inputTokens?: number;
  outputTokens?: number;
  cost?: number;
  agent?: string;
  model?: string;
  userId?: string;
  userName?: string;
  /** The API key of the request that started the run or its session. */
  keyId?: string;
  sessionId?: string;
}

export interface UsageQuery {
  groupBy: UsageGroupBy;
  /** Inclusive, ISO date or date-time. */
  from?: string;
  /** Exclusive, ISO date or date-time. */
  to?: string;
  /** Only this user's runs. */
  userId?: string;
}

export const unknownKey = 'unknown';

function parseTime(name: 'from' | 'to', value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (!Number.isFinite(ms)) throw new DomainError('bad_input', `${name}: ${JSON.stringify(value)} is not an ISO date or date-time`);
  return ms;
}

const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : 0);

function keyOf(line: UsageLine, by: UsageGroupBy): string {
  switch (by) {
    case 'user':
      return line.userId || unknownKey;
    case 'agent':
      return line.agent || unknownKey;
    case 'model':
      return line.model || unknownKey;
    case 'day':
      return new Date(line.atMs).toISOString().slice(0, 10);
  }
}

const zero = (): UsageTotalsView => ({ inputTokens: 0, outputTokens: 0, tokens: 0, cost: 0, runs: 0 });

function add(t: UsageTotalsView, l: UsageLine): void {
  t.inputTokens += num(l.inputTokens);
  t.outputTokens += num(l.outputTokens);
  t.tokens += num(l.tokens);
  t.cost += num(l.cost);
  t.runs += 1;
}

/** Rows sorted by key (days ascending); `total` sums the rows. A `from` after `to` is bad input. */
export function aggregateUsage(lines: readonly UsageLine[], q: UsageQuery): { rows: UsageReportRow[]; total: UsageTotalsView } {
  const fromMs = parseTime('from', q.from);
  const toMs = parseTime('to', q.to);
  if (fromMs !== undefined && toMs !== undefined && fromMs > toMs)
    throw new DomainError('bad_input', `from (${q.from}) is after to (${q.to})`);
  const groups = new Map<string, UsageReportRow>();
  const total = zero();
  for (const l of lines) {
    if (typeof l?.atMs !== 'number' || !Number.isFinite(l.atMs)) continue;
    if (fromMs !== undefined && l.atMs < fromMs) continue;
    if (toMs !== undefined && l.atMs >= toMs) continue;
    if (q.userId !== undefined && l.userId !== q.userId) continue;
    const key = keyOf(l, q.groupBy);
    let row = groups.get(key);
    if (!row) {
      row = { key, ...zero() };
      groups.set(key, row);
    }
    if (q.groupBy === 'user' && l.userName && !row.label) row.label = l.userName;
    add(row, l);
    add(total, l);
  }
  const rows = [...groups.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { rows, total };
}

/** A ledger line for an ended run (agent, model, usage split) and who started it, when known. */
export function usageLine(
  run: {
    id: string;
    agent: string;
    model?: string;
    sessionId?: string;
    usage: { inputTokens: number; outputTokens: number; reasoningTokens?: number; cost: number };
  },
  atMs: number,
  owner?: { userId: string; userName: string; keyId?: string },
): UsageLine {
  const u = run.usage;
  return {
    atMs,
    runId: run.id,
    tokens: u.inputTokens + u.outputTokens + (u.reasoningTokens ?? 0),
    inputTokens: u.inputTokens,
    outputTokens: u.outputTokens,
    cost: u.cost,
    agent: run.agent,
    ...(run.model ? { model: run.model } : {}),
    ...(run.sessionId ? { sessionId: run.sessionId } : {}),
    ...(owner ? { userId: owner.userId, userName: owner.userName } : {}),
    ...(owner?.keyId ? { keyId: owner.keyId } : {}),
  };
}

/** Renders a report as a fixed-width table (the admin CLI). */
export function usageTable(groupBy: UsageGroupBy, rows: readonly UsageReportRow[], total: UsageTotalsView): string {
  const head = [groupBy, 'runs', 'input', 'output', 'tokens', 'cost'];
  const line = (k: string, t: UsageTotalsView) => [
    k,
    String(t.runs),
    String(t.inputTokens),
    String(t.outputTokens),
    String(t.tokens),
    t.cost.toFixed(4),
  ];
  const body = [head, ...rows.map((r) => line(r.label ? `${r.key} (${r.label})` : r.key, r)), line('total', total)];
  const widths = head.map((_, i) => Math.max(...body.map((r) => r[i].length)));
  return body.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n');
}
