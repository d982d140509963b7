/**
 * A cheap in-process proof that a worktree is unchanged since the last after-snapshot's `git add -A`, so the
 * next turn's before-snapshot can reuse that index instead of running git on the prompt's critical path.
 *
 * The proof is git's own racy-clean rule, made stricter, plus a walk of the worktree:
 * - every entry of the kept index (the private index right after `add -A`) must exist with the same type, and
 *   either the same stat (inode, mode, size, mtime and ctime to the nanosecond) and a stat older than the
 *   add's start by a margin (a later write would change a stat that old), or, when its stat is recent or
 *   differs, content whose git blob id is the entry's (hashed here: exact whatever the clock did);
 * - every other file or symlink in the worktree (what git ignored) must have a ctime older than the add's
 *   start by the margin, and so must every folder above it: a creation, rename or link inside a folder
 *   changes that folder's ctime, so an old folder chain proves the name was there, unchanged, when git looked
 *   and chose to ignore it (a deleted or renamed `.gitignore` changes its folder too);
 * - the repository's ignore sources outside the worktree (config, `info/exclude`, the user's excludes) have
 *   the stat they had when the proof was recorded.
 * Anything unusual (a gitlink, a nested `.git`, an index version other than 2, more entries than the walk
 * allows, too much to hash) gives no proof, and the caller runs git as before.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Times within this of the add's start (or after it) are too recent to trust a stat for. */
export const racyMarginMs = 1000;
const maxWalkEntries = 5_000;
const maxHashBytes = 8 * 1024 * 1024;

export interface SnapshotProof {
  /** The private index's bytes right after `add -A`, and its times. */
  readonly index: Buffer;
  readonly indexAtime: Date;
  readonly indexMtime: Date;
  /** `Date.now()` just before `add -A` was started. */
  readonly addStartMs: number;
  /** Ignore sources outside the worktree and their stat keys (null: absent). */
  readonly extras: readonly (readonly [string, string | null])[];
}

interface Entry {
  mode: number;
  ctimeNs: bigint;
  mtimeNs: bigint;
  ctimeNsec: number;
  mtimeNsec: number;
  ino: number;
  size: number;
  sha: string;
}

/** The entries of a version-2 index, stage 0 only; undefined for anything else. */
export function indexEntries(buf: Buffer): Map<string, Entry> | undefined {
  if (buf.length < 12 || buf.toString('latin1', 0, 4) !== 'DIRC' || buf.readUInt32BE(4) !== 2) return undefined;
  const out = new Map<string, Entry>();
  let at = 12;
  for (let n = buf.readUInt32BE(8); n > 0; n--) {
    if (at + 62 > buf.length) return undefined;
    const flags = buf.readUInt16BE(at + 60);
    if (flags & 0xf000) return undefined; // assume-valid, extended, or a conflict stage
    const nameEnd = buf.indexOf(0, at + 62);
    if (nameEnd < 0) return undefined;
    const ns = (sec: number, nsec: number) => BigInt(sec) * 1_000_000_000n + BigInt(nsec);
    out.set(buf.toString('utf8', at + 62, nameEnd), {
      ctimeNs: ns(buf.readUInt32BE(at), buf.readUInt32BE(at + 4)),
      ctimeNsec: buf.readUInt32BE(at + 4),
      mtimeNs: ns(buf.readUInt32BE(at + 8), buf.readUInt32BE(at + 12)),
      mtimeNsec: buf.readUInt32BE(at + 12),
      ino: buf.readUInt32BE(at + 20),
      mode: buf.readUInt32BE(at + 24),
      size: buf.readUInt32BE(at + 36),
      sha: buf.toString('hex', at + 40, at + 60),
    });
    at += Math.ceil((nameEnd - at + 1) / 8) * 8;
  }
  while (at + 8 <= buf.length - 20) {
    const sig = buf.toString('latin1', at, at + 4);
    if (sig === 'link' || sig === 'sdir') return undefined;
    at += 8 + buf.readUInt32BE(at + 4);
  }
  return out;
}

const statKey = (file: string): string | null => {
  const st = fs.lstatSync(file, { bigint: true, throwIfNoEntry: false });
  return st ? `${st.ino}:${st.mode}:${st.size}:${st.mtimeNs}:${st.ctimeNs}` : null;
};

/** Ignore sources git reads besides the worktree's own `.gitignore` files. */
function extraFiles(configs: readonly string[]): string[] {
  const common = configs[0] ? path.dirname(configs[0]) : undefined;
  const home = os.homedir();
  const xdg = process.env.XDG_CONFIG_HOME || path.join(home, '.config');
  return [
    ...configs,
    ...(common ? [path.join(common, 'info', 'exclude'), path.join(common, 'info', 'attributes')] : []),
    path.join(home, '.gitconfig'),
    path.join(xdg, 'git', 'config'),
    path.join(xdg, 'git', 'ignore'),
  ];
}

/**
 * A proof for the index file `indexFile` that `add -A` (started at `addStartMs`) just wrote; undefined when
 * one cannot be kept (an ignore source changed too recently, an unreadable index).
 */
export function recordProof(indexFile: string, addStartMs: number, configs: readonly string[]): SnapshotProof | undefined {
  try {
    const st = fs.statSync(indexFile);
    const index = fs.readFileSync(indexFile);
    if (!indexEntries(index)) return undefined;
    const limit = BigInt(addStartMs - racyMarginMs) * 1_000_000n;
    const extras: [string, string | null][] = [];
    for (const f of extraFiles(configs)) {
      const s = fs.lstatSync(f, { bigint: true, throwIfNoEntry: false });
      // A recently written one is compared by content too (its stat could repeat within a clock tick).
      const recent = s && (s.ctimeNs >= limit || s.mtimeNs >= limit);
      extras.push([f, recent ? `${statKey(f)}:${blobId(fs.readFileSync(f))}` : statKey(f)]);
    }
    return { index, indexAtime: st.atime, indexMtime: st.mtime, addStartMs, extras };
  } catch {
    return undefined;
  }
}

const blobId = (content: Buffer) => createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');

/**
 * Whether the worktree `cwd` still holds exactly what the proof's index holds (and nothing git would add
 * besides). Synchronous: a stat per entry, a read of recently written files.
 */
export function verifyProof(cwd: string, proof: SnapshotProof): boolean {
  return proofHolds(cwd, proof) === 'holds';
}

/** `verifyProof` with the reason it fails: `too-big` when the walk or the hashing went over its limit. */
export function proofHolds(cwd: string, proof: SnapshotProof): 'holds' | 'changed' | 'too-big' {
  try {
    const entries = indexEntries(proof.index);
    if (!entries) return 'changed';
    for (const [f, key] of proof.extras) {
      const now = statKey(f);
      if (now === key) continue;
      if (now === null || key === null || key !== `${now}:${blobId(fs.readFileSync(f))}`) return 'changed';
    }
    const limit = BigInt(proof.addStartMs - racyMarginMs) * 1_000_000n;
    let walked = 0;
    let hashed = 0;
    let seen = 0;
    const root = path.resolve(cwd);
    const rootSt = fs.lstatSync(root, { bigint: true });
    // [folder, its path relative to the root with a trailing '/', whether it and every folder above it are old]
    const stack: [string, string, boolean][] = [[root, '', rootSt.ctimeNs < limit]];
    while (stack.length) {
      const [dir, rel, oldChain] = stack.pop()!;
      for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
        if (++walked > maxWalkEntries) return 'too-big';
        if (d.name === '.git') {
          if (rel === '') continue;
          return 'changed'; // a nested repository: git would add a gitlink
        }
        const abs = path.join(dir, d.name);
        const name = rel + d.name;
        const st = fs.lstatSync(abs, { bigint: true });
        if (st.isDirectory()) {
          stack.push([abs, `${name}/`, oldChain && st.ctimeNs < limit]);
          continue;
        }
        const e = entries.get(name);
        if (!e) {
          // Not in the index: only an ignored name that was there, unchanged, when git looked.
          if (!oldChain || st.ctimeNs >= limit) return 'changed';
          continue;
        }
        seen++;
        const type = e.mode >>> 12;
        if (type === 0o12) {
          if (!st.isSymbolicLink()) return 'changed';
        } else if (type === 0o10) {
          if (!st.isFile() || ((e.mode & 0o100) !== 0) !== ((Number(st.mode) & 0o100) !== 0)) return 'changed';
        } else return 'changed'; // a gitlink
        const sameStat =
          e.ino === Number(st.ino & 0xffffffffn) &&
          e.size === Number(st.size & 0xffffffffn) &&
          e.ctimeNs === (st.ctimeNs / 1_000_000_000n) * 1_000_000_000n + (e.ctimeNsec ? st.ctimeNs % 1_000_000_000n : 0n) &&
          e.mtimeNs === (st.mtimeNs / 1_000_000_000n) * 1_000_000_000n + (e.mtimeNsec ? st.mtimeNs % 1_000_000_000n : 0n) &&
          e.ctimeNsec !== 0 &&
          e.mtimeNsec !== 0;
        if (sameStat && e.ctimeNs < limit && e.mtimeNs < limit) continue;
        // Recent or different: the content decides.
        hashed += Number(st.size);
        if (hashed > maxHashBytes) return 'too-big';
        const content = st.isSymbolicLink() ? Buffer.from(fs.readlinkSync(abs, { encoding: 'buffer' })) : fs.readFileSync(abs);
        if (blobId(content) !== e.sha) return 'changed';
      }
    }
    return seen === entries.size ? 'holds' : 'changed';
  } catch {
    return 'changed';
  }
}
