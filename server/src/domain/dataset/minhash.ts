/**
 * Near-duplicate detection: MinHash signatures over word shingles and locality-sensitive hashing by bands.
 * A pair that shares a band is a candidate; it counts as a near duplicate when the signatures agree on
 * at least `threshold` of their positions (the estimated Jaccard similarity of the shingle sets).
 * With 64 hashes in 16 bands of 4 rows, pairs at Jaccard 0.8 become candidates with probability > 0.999.
 */
import { fnv1a32 } from './hash';

export interface MinHashOptions {
  numHashes: number;
  bands: number;
  /** Words per shingle. */
  shingleSize: number;
  /** Estimated Jaccard similarity from which two texts are near duplicates (0..1). */
  threshold: number;
}

const maxBucketCompare = 64;

export const defaultMinHash: MinHashOptions = { numHashes: 64, bands: 16, shingleSize: 5, threshold: 0.8 };

/**
 * Hashes of the word n-grams of `text` (lower-cased, split on whitespace); a short text is one shingle.
 * A shingle's hash combines its words' FNV-1a hashes (order-sensitive), so no n-gram string is built.
 */
export function shingles(text: string, size: number): Uint32Array {
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length <= size) return Uint32Array.of(fnv1a32(words.join(' ')));
  const wh = new Uint32Array(words.length);
  for (let i = 0; i < words.length; i++) wh[i] = fnv1a32(words[i]!);
  const out = new Set<number>();
  for (let i = 0; i + size <= words.length; i++) {
    let h = 0x811c9dc5;
    for (let k = 0; k < size; k++) {
      h = Math.imul(h ^ wh[i + k]!, 0x01000193);
      h ^= h >>> 15;
    }
    out.add(h >>> 0);
  }
  return Uint32Array.from(out);
}

/** Seeds of the hash family: fixed, so signatures are comparable across runs. */
function seeds(n: number): Uint32Array {
  const out = new Uint32Array(n);
  let x = 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x ^ (x >>> 16), 0x85ebca6b) + 0x6a09e667) >>> 0;
    out[i] = x;
  }
  return out;
}

const seedCache = new Map<number, Uint32Array>();

/** The MinHash signature: per seeded mix of the shingle hashes, the minimum. */
export function signature(sh: Uint32Array, numHashes: number): Uint32Array {
  let s = seedCache.get(numHashes);
  if (!s) seedCache.set(numHashes, (s = seeds(numHashes)));
  const sig = new Uint32Array(numHashes).fill(0xffffffff);
  for (let j = 0; j < sh.length; j++) {
    const v = sh[j]!;
    for (let i = 0; i < numHashes; i++) {
      let h = Math.imul(v ^ s[i]!, 0xcc9e2d51);
      h ^= h >>> 15;
      h = Math.imul(h, 0x1b873593);
      h ^= h >>> 13;
      h >>>= 0;
      if (h < sig[i]!) sig[i] = h;
    }
  }
  return sig;
}

export function estimatedJaccard(a: Uint32Array, b: Uint32Array): number {
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

/**
 * Finds near duplicates among `texts` in order: each text is compared with the texts kept before it, and
 * a near duplicate points at the first kept text it matches. Returns, per index, the index it duplicates
 * (or -1 when it is kept).
 */
export function nearDuplicates(
  texts: readonly string[],
  opts: MinHashOptions = defaultMinHash,
): { duplicateOf: number; similarity: number }[] {
  if (opts.numHashes % opts.bands !== 0) throw new Error(`numHashes (${opts.numHashes}) must be a multiple of bands (${opts.bands})`);
  const rows = opts.numHashes / opts.bands;
  const buckets = new Map<string, number[]>();
  const kept: Uint32Array[] = [];
  const stamp = new Int32Array(texts.length);
  const out: { duplicateOf: number; similarity: number }[] = [];
  for (let i = 0; i < texts.length; i++) {
    const sig = signature(shingles(texts[i]!, opts.shingleSize), opts.numHashes);
    kept[i] = sig;
    const keys: string[] = [];
    for (let b = 0; b < opts.bands; b++) {
      let key = `${b}`;
      for (let r = 0; r < rows; r++) key += `:${sig[b * rows + r]!}`;
      keys.push(key);
    }
    let best = { duplicateOf: -1, similarity: 0 };
    for (const key of keys) {
      const list = buckets.get(key);
      if (!list) continue;
      // Boilerplate shared by many distinct texts (system prompts, tool names) fills some buckets: only the
      // most recent `maxBucketCompare` members of a bucket are compared, which keeps the pass near-linear.
      for (let k = list.length - 1; k >= Math.max(0, list.length - maxBucketCompare); k--) {
        const j = list[k]!;
        if (stamp[j] === i + 1) continue;
        stamp[j] = i + 1;
        const sim = estimatedJaccard(sig, kept[j]!);
        if (sim >= opts.threshold && (best.duplicateOf === -1 || j < best.duplicateOf)) best = { duplicateOf: j, similarity: sim };
      }
    }
    out.push(best);
    if (best.duplicateOf !== -1) continue;
    for (const key of keys) {
      const list = buckets.get(key);
      if (list) list.push(i);
      else buckets.set(key, [i]);
    }
  }
  return out;
}
