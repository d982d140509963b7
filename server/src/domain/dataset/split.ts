/**
 * Train/validation split grouped so that no group straddles it: examples that share a session or a
 * repository (by default both; connected components) land on the same side. Deterministic from a seed:
 * groups are ordered by a hash of (seed, group), and taken into validation while they fit the target size.
 */
import { fnv1a32 } from './hash';

export type SplitKey = 'session' | 'repo';

export interface SplitItem {
  source: string;
  session: string;
  repo: string;
}

export interface SplitOptions {
  /** Share of examples wanted in validation (0..1). */
  validationFraction: number;
  seed: string;
  groupBy: readonly SplitKey[];
}

export interface SplitResult {
  split: Map<string, 'train' | 'validation'>;
  groups: number;
  /** Set when the wanted validation share could not be met (e.g. one group holds everything). */
  warning?: string;
}

export function groupedSplit(items: readonly SplitItem[], opts: SplitOptions): SplitResult {
  if (!(opts.validationFraction >= 0 && opts.validationFraction < 1))
    throw new Error(`validationFraction must be in [0, 1), got ${opts.validationFraction}`);
  // Union-find over items; items sharing a key value are joined.
  const parent = items.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  for (const key of opts.groupBy) {
    const first = new Map<string, number>();
    items.forEach((it, i) => {
      const v = it[key];
      const j = first.get(v);
      if (j === undefined) first.set(v, i);
      else parent[find(i)] = find(j);
    });
  }
  const comps = new Map<number, string[]>();
  items.forEach((it, i) => {
    const r = find(i);
    const list = comps.get(r) ?? [];
    list.push(it.source);
    comps.set(r, list);
  });
  const groups = [...comps.values()].map((sources) => {
    const id = [...sources].sort()[0]!;
    return { sources, order: fnv1a32(`${opts.seed}\u0000${id}`), id };
  });
  groups.sort((a, b) => a.order - b.order || a.id.localeCompare(b.id));
  const target = Math.round(items.length * opts.validationFraction);
  const split = new Map<string, 'train' | 'validation'>();
  let inValidation = 0;
  for (const g of groups) {
    const side = inValidation + g.sources.length <= target && target > 0 ? 'validation' : 'train';
    if (side === 'validation') inValidation += g.sources.length;
    for (const s of g.sources) split.set(s, side);
  }
  const warning =
    target > 0 && inValidation === 0
      ? `no validation examples: the smallest of the ${groups.length} group(s) is larger than the ${target} wanted`
      : undefined;
  return { split, groups: groups.length, ...(warning ? { warning } : {}) };
}
