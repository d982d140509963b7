/**
 * File leases (design.md §4 "Lease"): a task claims a set of paths (globs) in a repo before it runs, so
 * overlapping writers never run at once. Leases expire unless renewed and are plain JSON, so they survive
 * a server restart with the rest of the store.
 *
 * Glob overlap is conservative: when two patterns might match a common path they overlap. Supported:
 * exact paths, `*`, `?`, `[abc]`, `{a,b}`, `**` (any number of segments). Further rules, all on the side
 * of caution:
 * - a path without glob characters whose last segment has no `.` may be a directory, so it also covers
 *   everything below it (`src/lib` ≡ `src/lib` + `src/lib/**`); a trailing `/` always means a directory
 *   (`src/a.ts` is taken as a file);
 * - comparison is case-insensitive (macOS and Windows file systems are);
 * - `./`, duplicate slashes and backslashes are normalised; a pattern that climbs out of the repo (`..`)
 *   overlaps everything.
 *
 * Conflict rule: a request conflicts with an active (unexpired) lease of another task in the same repo when
 * either of the two is a write lease and their globs overlap. Read leases never conflict with each other.
 */

export type LeaseMode = 'write' | 'read';

export interface Lease {
  taskId: string;
  repo: string;
  globs: string[];
  mode: LeaseMode;
  acquiredAt: number;
  expiresAt: number;
}

/** All leases, as persisted. Functions return new tables. */
export interface LeaseTable {
  leases: Lease[];
}

export interface LeaseRequest {
  taskId: string;
  repo: string;
  globs: string[];
  mode: LeaseMode;
}

export interface LeaseConflict {
  taskId: string;
  mode: LeaseMode;
  globs: string[];
}

export type AcquireResult = { ok: true; table: LeaseTable; lease: Lease } | { ok: false; conflicts: LeaseConflict[]; reason: string };

type Seg = { kind: 'globstar' } | { kind: 'lit'; text: string } | { kind: 'glob'; re: RegExp; prefix: string; suffix: string };
type Pattern = Seg[];

const specials = /[*?[\]{}]/;
const maxBraceExpansions = 64;

export const emptyLeaseTable = (): LeaseTable => ({ leases: [] });

function normalize(p: string): string[] | undefined {
  const parts = p.replace(/\\/g, '/').toLowerCase().split('/');
  const out: string[] = [];
  for (const part of parts) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (!out.length || out[out.length - 1] === '**') return undefined;
      out.pop();
    } else out.push(part);
  }
  return out;
}

function expandBraces(s: string): string[] {
  const open = s.indexOf('{');
  if (open < 0) return [s];
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === '{') depth++;
    else if (s[i] === '}' && --depth === 0) {
      const inner = s.slice(open + 1, i);
      const alts: string[] = [];
      let d = 0;
      let start = 0;
      for (let j = 0; j < inner.length; j++) {
        if (inner[j] === '{') d++;
        else if (inner[j] === '}') d--;
        else if (inner[j] === ',' && d === 0) {
          alts.push(inner.slice(start, j));
          start = j + 1;
        }
      }
      alts.push(inner.slice(start));
      const rest = expandBraces(s.slice(i + 1));
      const out: string[] = [];
      for (const a of alts)
        for (const head of expandBraces(s.slice(0, open) + a))
          for (const r of rest) {
            out.push(head + r);
            if (out.length > maxBraceExpansions) return [s.replace(/[{}]/g, '*').replace(/,/g, '')];
          }
      return out;
    }
  }
  return [s]; // unbalanced: treated literally
}

function segRegex(seg: string): RegExp {
  let re = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i] as string;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = seg.indexOf(']', i + 2);
      if (end < 0) {
        re += '\\[';
        continue;
      }
      let body = seg.slice(i + 1, end).replace(/\\/g, '\\\\');
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      re += `[${body}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}

function parseSeg(seg: string): Seg {
  if (seg === '**') return { kind: 'globstar' };
  if (!specials.test(seg)) return { kind: 'lit', text: seg };
  const first = seg.search(specials);
  let last = -1;
  for (let i = seg.length - 1; i >= 0; i--)
    if (specials.test(seg[i] as string)) {
      last = i;
      break;
    }
  return { kind: 'glob', re: segRegex(seg.replace(/\*\*+/g, '*')), prefix: seg.slice(0, first), suffix: seg.slice(last + 1) };
}

const cache = new Map<string, Pattern[]>();
const anything: Pattern = [{ kind: 'globstar' }];

/** Parse a glob into its brace-expanded alternatives (memoised: the function is pure). */
function parse(glob: string, literal: boolean): Pattern[] {
  const key = `${literal ? 'L' : 'G'}${glob}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let result: Pattern[];
  if (literal) {
    const parts = normalize(glob);
    result = [parts ? parts.map((text) => ({ kind: 'lit', text }) as Seg) : anything];
  } else {
    result = expandBraces(glob.trim()).map((alt) => {
      const parts = normalize(alt);
      if (!parts) return anything;
      const segs = parts.map(parseSeg);
      const last = parts[parts.length - 1] ?? '';
      const plain = (segs.every((s) => s.kind === 'lit') && !last.includes('.')) || alt.endsWith('/');
      return plain && segs.length ? [...segs, { kind: 'globstar' } as Seg] : segs.length ? segs : anything;
    });
  }
  if (cache.size > 5_000) cache.clear();
  cache.set(key, result);
  return result;
}

function segsOverlap(a: Seg, b: Seg): boolean {
  if (a.kind === 'lit' && b.kind === 'lit') return a.text === b.text;
  if (a.kind === 'lit' && b.kind === 'glob') return b.re.test(a.text);
  if (a.kind === 'glob' && b.kind === 'lit') return a.re.test(b.text);
  if (a.kind === 'glob' && b.kind === 'glob') {
    // Both have wildcards: compatible fixed prefixes and suffixes is the conservative answer.
    const pre = a.prefix.startsWith(b.prefix) || b.prefix.startsWith(a.prefix);
    const suf = a.suffix.endsWith(b.suffix) || b.suffix.endsWith(a.suffix);
    return pre && suf;
  }
  return true;
}

function patternsOverlap(a: Pattern, b: Pattern): boolean {
  // Fast path: compare the leading literal segments; most lease pairs differ there.
  let k = 0;
  for (; k < a.length && k < b.length; k++) {
    const sa = a[k] as Seg;
    const sb = b[k] as Seg;
    if (sa.kind !== 'lit' || sb.kind !== 'lit') break;
    if (sa.text !== sb.text) return false;
  }
  if (k === a.length && k === b.length) return true;
  if (k > 0) return patternsOverlap(a.slice(k), b.slice(k));
  const memo = new Map<number, boolean>();
  const go = (i: number, j: number): boolean => {
    const key = i * (b.length + 1) + j;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let r: boolean;
    const sa = a[i];
    const sb = b[j];
    if (!sa && !sb) r = true;
    else if (sa?.kind === 'globstar') r = go(i + 1, j) || (sb !== undefined && go(i, j + 1));
    else if (sb?.kind === 'globstar') r = go(i, j + 1) || (sa !== undefined && go(i + 1, j));
    else if (!sa || !sb) r = false;
    else r = segsOverlap(sa, sb) && go(i + 1, j + 1);
    memo.set(key, r);
    return r;
  };
  return go(0, 0);
}

const parseAll = (globs: readonly string[]): Pattern[] => globs.flatMap((g) => parse(g, false));

function anyOverlap(a: readonly Pattern[], b: readonly Pattern[]): boolean {
  for (const pa of a) for (const pb of b) if (patternsOverlap(pa, pb)) return true;
  return false;
}

/** Whether some path could match a glob of `a` and a glob of `b` (conservative: unsure → true). */
export function overlaps(globsA: readonly string[], globsB: readonly string[]): boolean {
  return anyOverlap(parseAll(globsA), parseAll(globsB));
}

/** Whether the concrete `path` is covered by `glob` (plain paths in `glob` also cover what is below them). */
export function matchesGlob(path: string, glob: string): boolean {
  const [p] = parse(path, true);
  return parse(glob, false).some((g) => patternsOverlap(p as Pattern, g));
}

/** The files of `changedFiles` that no glob of the lease covers (to detect writes outside the lease). */
export function outsideLease(changedFiles: readonly string[], globs: readonly string[]): string[] {
  return changedFiles.filter((f) => !globs.some((g) => matchesGlob(f, g)));
}

/** Parsed globs per lease object (leases are never mutated, so the cache cannot go stale). */
const parsedLeases = new WeakMap<Lease, Pattern[]>();
const isActive = (l: Lease, nowMs: number): boolean => l.expiresAt > nowMs;
const sameRepo = (a: string, b: string): boolean => a.replace(/[\\/]+$/, '') === b.replace(/[\\/]+$/, '');

/** Active leases of other tasks that `req` would conflict with. */
export function conflictsOf(table: LeaseTable, req: LeaseRequest, nowMs: number): LeaseConflict[] {
  const out: LeaseConflict[] = [];
  if (!req.globs.length) return out;
  const mine = parseAll(req.globs);
  for (const l of table.leases) {
    if (l.taskId === req.taskId || !isActive(l, nowMs) || !sameRepo(l.repo, req.repo)) continue;
    if (req.mode === 'read' && l.mode === 'read') continue;
    let theirs = parsedLeases.get(l);
    if (!theirs) parsedLeases.set(l, (theirs = parseAll(l.globs)));
    if (anyOverlap(mine, theirs)) out.push({ taskId: l.taskId, mode: l.mode, globs: l.globs });
  }
  return out;
}

/**
 * Acquire all globs of `req` at once, or nothing. A task re-acquiring replaces its own lease. A request
 * with no globs is granted trivially (it claims nothing).
 */
export function tryAcquire(table: LeaseTable, req: LeaseRequest, nowMs: number, ttlMs: number): AcquireResult {
  const conflicts = conflictsOf(table, req, nowMs);
  if (conflicts.length) {
    const list = conflicts.map((c) => `${c.taskId} (${c.mode}: ${c.globs.join(', ')})`).join('; ');
    return { ok: false, conflicts, reason: `lease on ${req.globs.join(', ')} overlaps ${list}` };
  }
  const lease: Lease = {
    taskId: req.taskId,
    repo: req.repo,
    globs: [...req.globs],
    mode: req.mode,
    acquiredAt: nowMs,
    expiresAt: nowMs + ttlMs,
  };
  return { ok: true, table: { leases: [...table.leases.filter((l) => l.taskId !== req.taskId), lease] }, lease };
}

export function release(table: LeaseTable, taskId: string): LeaseTable {
  return table.leases.some((l) => l.taskId === taskId) ? { leases: table.leases.filter((l) => l.taskId !== taskId) } : table;
}

/**
 * Extend the task's lease to `nowMs + ttlMs`. An expired lease is not renewed (someone may hold the paths
 * now): the caller re-acquires it with `tryAcquire`.
 */
export function renew(table: LeaseTable, taskId: string, nowMs: number, ttlMs: number): { table: LeaseTable; renewed: boolean } {
  let renewed = false;
  const leases = table.leases.map((l) => {
    if (l.taskId !== taskId || !isActive(l, nowMs)) return l;
    renewed = true;
    return { ...l, expiresAt: nowMs + ttlMs };
  });
  return { table: renewed ? { leases } : table, renewed };
}

/** Remove expired leases and return them. */
export function expire(table: LeaseTable, nowMs: number): { table: LeaseTable; expired: Lease[] } {
  const expired = table.leases.filter((l) => !isActive(l, nowMs));
  return { table: expired.length ? { leases: table.leases.filter((l) => isActive(l, nowMs)) } : table, expired };
}

export function leaseOf(table: LeaseTable, taskId: string): Lease | undefined {
  return table.leases.find((l) => l.taskId === taskId);
}

/**
 * Periodic upkeep: renews the leases of running (or blocked) tasks that are within half a TTL of
 * expiring (so an idle server does not rewrite the store every tick), then drops the expired ones.
 */
export function upkeepLeases(table: LeaseTable, tasks: readonly { id: string; state: string }[], nowMs: number, ttlMs: number): LeaseTable {
  let out = table;
  for (const t of tasks) {
    const lease = leaseOf(out, t.id);
    if ((t.state === 'running' || t.state === 'blocked') && lease && lease.expiresAt - nowMs < ttlMs / 2)
      out = renew(out, t.id, nowMs, ttlMs).table;
  }
  return expire(out, nowMs).table;
}
