/**
 * A dataset version: the curated examples, the record of every candidate and the options that made them,
 * identified by the SHA-256 of their canonical JSON (name and creation time are labels, not content).
 * The same inputs and options give the same id; the object is frozen once built.
 */
import type { CuratedExample, ExampleRecord } from './example';
import { canonicalJson, sha256Hex } from './hash';
import type { CurationOptions, CurationResult, CurationStats } from './pipeline';

export const datasetFormat = 'orchestrator-dataset/1';

export interface DatasetVersion {
  /** `sha256:<hex>` of the canonical content. */
  id: string;
  name: string;
  createdAt: string;
  format: typeof datasetFormat;
  options: CurationOptions;
  examples: readonly CuratedExample[];
  records: readonly ExampleRecord[];
  stats: CurationStats;
  warnings: readonly string[];
}

const namePattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

export function datasetNameProblem(name: string): string | undefined {
  return namePattern.test(name) ? undefined : `must match ${namePattern} (letters, digits, _ . -; at most 100)`;
}

export function datasetContentHash(options: CurationOptions, result: Pick<CurationResult, 'examples' | 'records'>): string {
  return `sha256:${sha256Hex(canonicalJson({ format: datasetFormat, options, examples: result.examples, records: result.records }))}`;
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

export function datasetVersion(name: string, createdAt: string, result: CurationResult): DatasetVersion {
  const options = result.options;
  return deepFreeze({
    id: datasetContentHash(options, result),
    name,
    createdAt,
    format: datasetFormat,
    options,
    examples: result.examples,
    records: result.records,
    stats: result.stats,
    warnings: result.warnings,
  });
}
