/**
 * The per-turn diff of an ACP turn. ACP reports no diff, and agents may write files themselves, so the
 * worktree is snapshotted into a git tree before and after the turn (a private index file: the worktree's
 * own index and HEAD are untouched; .gitignore is honoured) and the two trees are compared.
 *
 * Cost (it is on every turn's critical path, `npm run bench` measures it): a turn runs four git processes, and
 * only one of them before the prompt is sent:
 * - before: `add -A` into the private index; the index file is then copied aside and `write-tree` turns the
 *   copy into the before-tree in the background while the turn runs (a tree is made from the index entries
 *   only: a file the agent changes meanwhile cannot get into it);
 * - after: `add -A` into the same private index, then one `diff --cached <before-tree>` (the index against the
 *   tree: no after-tree to write) that prints status, counts and patches at once.
 * - The private index starts as a copy of the worktree's own index (its mtime kept, so git's racy-entry rule
 *   is the same), so `add -A` re-hashes only files whose stat changed, not the whole tree; the after-snapshot
 *   reuses the turn's index, so it re-hashes only what the agent touched.
 * - Filter drivers of the repository config must be switched off for `git add` (`git/gitHygiene.ts`). Reading
 *   them costs a `git config` process, so the config files are read here first: when neither mentions `filter`
 *   or `include` there is no repository filter and the process is skipped; otherwise git reads them as before.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FileChange } from '../../ports/agentRuntime';
import { execViaSpawner } from '../git/spawner';
import { filterConfigArgs, gitEnv, gitHygieneConfig, hardenedArgs, noRepoFilters } from '../git/gitHygiene';
import { proofHolds, recordProof, type SnapshotProof } from './worktreeProof';

/** `config` are `-c` pairs placed before the subcommand, which is hardened (`--no-ext-diff --no-textconv` on a diff). */
function exec(cwd: string, args: string[], env: Record<string, string> = {}, config: readonly string[] = []): Promise<string> {
  return execViaSpawner('git', [...gitHygieneConfig, ...config, ...hardenedArgs(args)], {
    cwd,
    env: gitEnv(env),
    timeout: 30_000,
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** Where git keeps the worktree's index and config, found without running git; undefined when unsure. */
export interface GitPlaces {
  index: string;
  configs: string[];
}

/** `.git` of `cwd` or an ancestor (a folder, or a `gitdir:` file of a linked worktree); undefined when git's environment overrides it. */
export function gitPlaces(cwd: string): GitPlaces | undefined {
  if (['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_COMMON_DIR', 'GIT_CONFIG'].some((v) => process.env[v] !== undefined))
    return undefined;
  try {
    for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
      const dotGit = path.join(dir, '.git');
      const st = fs.statSync(dotGit, { throwIfNoEntry: false });
      if (st?.isDirectory())
        return { index: path.join(dotGit, 'index'), configs: [path.join(dotGit, 'config'), path.join(dotGit, 'config.worktree')] };
      if (st?.isFile()) {
        const m = /^gitdir: (.+)$/m.exec(fs.readFileSync(dotGit, 'utf8'));
        if (!m) return undefined;
        const gitDir = path.resolve(dir, m[1].trim());
        const commonFile = path.join(gitDir, 'commondir');
        const common = fs.existsSync(commonFile) ? path.resolve(gitDir, fs.readFileSync(commonFile, 'utf8').trim()) : gitDir;
        return { index: path.join(gitDir, 'index'), configs: [path.join(common, 'config'), path.join(gitDir, 'config.worktree')] };
      }
      if (path.dirname(dir) === dir) return undefined;
    }
  } catch {
    return undefined;
  }
}

/** `-c` pairs switching off the repository's own filter drivers; no `git config` process when its config names none. */
async function filterArgs(cwd: string, places: GitPlaces | undefined): Promise<string[]> {
  const mayName = (file: string) => {
    try {
      return /filter|include/i.test(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      return (e as NodeJS.ErrnoException).code !== 'ENOENT';
    }
  };
  if (places && !places.configs.some(mayName)) return [];
  return exec(cwd, [...filterConfigArgs]).then(noRepoFilters, () => []);
}

/**
 * Whether an index file can seed a private index: version 2, no entry marked assume-unchanged (`add -A` would
 * skip it), no split or sparse index (their parts live beside the worktree's own index). Anything else,
 * unreadable included, starts empty: slower (every file hashed) and always right.
 */
export function seedable(buf: Buffer): boolean {
  if (buf.length < 12 || buf.toString('latin1', 0, 4) !== 'DIRC' || buf.readUInt32BE(4) !== 2) return false;
  let at = 12;
  for (let n = buf.readUInt32BE(8); n > 0; n--) {
    if (at + 62 > buf.length) return false;
    const flags = buf.readUInt16BE(at + 60);
    if (flags & 0xc000) return false; // assume-valid, or extended flags (not in version 2)
    const nameEnd = buf.indexOf(0, at + 62);
    if (nameEnd < 0) return false;
    at += Math.ceil((nameEnd - at + 1) / 8) * 8; // 62 bytes + name, padded with 1–8 NULs to a multiple of 8
  }
  while (at + 8 <= buf.length - 20) {
    const sig = buf.toString('latin1', at, at + 4);
    if (sig === 'link' || sig === 'sdir') return false;
    at += 8 + buf.readUInt32BE(at + 4);
  }
  return true;
}

/** A private index for snapshots of one worktree, seeded from the worktree's own index. */
class PrivateIndex {
  readonly file: string;
  private constructor(
    private readonly dir: string,
    readonly places: GitPlaces | undefined,
  ) {
    this.file = path.join(dir, 'index');
  }

  /** A private index holding a proven snapshot's index (its times kept, so git's racy-entry rule is the same). */
  static fromProof(cwd: string, proof: SnapshotProof): PrivateIndex {
    const ix = new PrivateIndex(fs.mkdtempSync(path.join(os.tmpdir(), 'acp-index-')), gitPlaces(cwd));
    fs.writeFileSync(ix.file, proof.index);
    fs.utimesSync(ix.file, proof.indexAtime, proof.indexMtime);
    return ix;
  }

  static create(cwd: string): PrivateIndex {
    const places = gitPlaces(cwd);
    const ix = new PrivateIndex(fs.mkdtempSync(path.join(os.tmpdir(), 'acp-index-')), places);
    if (places)
      try {
        const st = fs.statSync(places.index);
        const buf = fs.readFileSync(places.index);
        if (seedable(buf)) {
          fs.writeFileSync(ix.file, buf);
          fs.utimesSync(ix.file, st.atime, st.mtime);
        }
      } catch {
        fs.rmSync(ix.file, { force: true }); // no index yet (a fresh repository): start empty
      }
    return ix;
  }

  private filters?: Promise<string[]>;
  private copies = 0;

  /**
   * `-c` pairs for every command on this index: each needs the filters off (`add` reads files; `write-tree`
   * writes the index back, and git re-reads a racily clean entry, written in the same second as the index,
   * through its clean filter while doing so). Read once per index.
   */
  filterConfig(cwd: string): Promise<string[]> {
    this.filters ??= filterArgs(cwd, this.places);
    return this.filters;
  }

  /** Everything in the worktree now into the index; false when it is not a git worktree. */
  async add(cwd: string, file = this.file): Promise<boolean> {
    try {
      const config = await this.filterConfig(cwd);
      this.addStartMs = Date.now();
      await exec(cwd, ['add', '-A', '.'], { GIT_INDEX_FILE: file }, config);
      return true;
    } catch {
      return false;
    }
  }

  /** When the last `add` was started (its proof's racy limit). */
  private addStartMs = 0;

  /** A proof of what the last `add` into this index saw (see worktreeProof.ts), when one can be kept. */
  proof(): SnapshotProof | undefined {
    return this.places ? recordProof(this.file, this.addStartMs, this.places.configs) : undefined;
  }

  /** A tree object of the index `file` (this index by default), or undefined. */
  async writeTree(cwd: string, file = this.file): Promise<string | undefined> {
    try {
      return (await exec(cwd, ['write-tree'], { GIT_INDEX_FILE: file }, await this.filterConfig(cwd))).trim() || undefined;
    } catch {
      return undefined;
    }
  }

  /** A copy of the index as it is now (its mtime kept), for a tree made later; and its bytes. */
  copy(): { file: string; bytes: Buffer } {
    const file = path.join(this.dir, `index-${++this.copies}`);
    const st = fs.statSync(this.file);
    const bytes = fs.readFileSync(this.file);
    fs.writeFileSync(file, bytes);
    fs.utimesSync(file, st.atime, st.mtime);
    return { file, bytes };
  }

  /** Whether the index file holds exactly `bytes`. */
  holds(bytes: Buffer): boolean {
    try {
      return fs.readFileSync(this.file).equals(bytes);
    } catch {
      return false;
    }
  }

  /** A tree object of everything in the worktree now, or undefined when it is not a git worktree. */
  async snapshot(cwd: string): Promise<string | undefined> {
    return (await this.add(cwd)) ? this.writeTree(cwd) : undefined;
  }

  dispose(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A tree object of everything in the worktree now, or undefined when it is not a git worktree. */
export async function snapshotTree(cwd: string): Promise<string | undefined> {
  const ix = PrivateIndex.create(cwd);
  try {
    return await ix.snapshot(cwd);
  } finally {
    ix.dispose();
  }
}

/** Per worktree (absolute path): the proof left by its last snapshot, taken (once) by the next `begin`. */
const proofs = new Map<string, SnapshotProof>();
/** Worktrees too big to prove in process (the walk or the hashing went over its limit): git every time. */
const tooBig = new Set<string>();
const maxProofs = 64;

function keepProof(key: string, proof: SnapshotProof | undefined): void {
  proofs.delete(key);
  if (!proof || tooBig.has(key)) return;
  proofs.set(key, proof);
  if (proofs.size > maxProofs) proofs.delete(proofs.keys().next().value!);
}

/** Whether `proof` still holds for `cwd`; a worktree found too big is not proved again. */
function holds(cwd: string, proof: SnapshotProof | undefined): boolean {
  if (!proof) return false;
  const r = proofHolds(cwd, proof);
  if (r === 'too-big') {
    tooBig.add(path.resolve(cwd));
    if (tooBig.size > 4 * maxProofs) tooBig.clear();
  }
  return r === 'holds';
}

/** Forgets every kept proof (tests). */
export function forgetProofs(): void {
  proofs.clear();
  tooBig.clear();
}

/**
 * One turn's snapshots: `begin` before the prompt is sent (resolves once the worktree is in the private index;
 * its tree is written in the background), `changes` once the turn is over (then `dispose`).
 */
export class TurnSnapshots {
  private constructor(
    private readonly cwd: string,
    private readonly index: PrivateIndex,
    private readonly before: Promise<string | undefined>,
    /** The index when the before-tree was taken. */
    private readonly beforeIndex?: Buffer,
    /** A proof that the worktree held `beforeIndex` (see worktreeProof.ts). */
    private readonly beforeProof?: SnapshotProof,
    /** Whether the before-snapshot came from a proof instead of git. */
    readonly proven = false,
  ) {
    before.catch(() => undefined);
  }

  /**
   * The before-snapshot. When the last snapshot of this worktree left a proof and the proof still holds
   * (nothing changed since, checked in process), its index is reused and no git runs before the prompt.
   */
  static async begin(cwd: string): Promise<TurnSnapshots> {
    const key = path.resolve(cwd);
    const kept = process.env.ORCH_ACP_SNAPSHOT_PROOF === '0' ? undefined : proofs.get(key);
    proofs.delete(key);
    if (holds(cwd, kept)) {
      try {
        const index = PrivateIndex.fromProof(cwd, kept!);
        const copy = index.copy();
        return new TurnSnapshots(cwd, index, index.writeTree(cwd, copy.file), copy.bytes, kept, true);
      } catch {
        // fall back to git
      }
    }
    const index = PrivateIndex.create(cwd);
    if (!(await index.add(cwd))) return new TurnSnapshots(cwd, index, Promise.resolve(undefined));
    let copy: { file: string; bytes: Buffer };
    try {
      copy = index.copy();
    } catch {
      return new TurnSnapshots(cwd, index, index.writeTree(cwd));
    }
    return new TurnSnapshots(cwd, index, index.writeTree(cwd, copy.file), copy.bytes, tooBig.has(key) ? undefined : index.proof());
  }

  /**
   * The turn's file changes (none when the worktree is not a git worktree). A worktree the before-proof still
   * holds for changed nothing: no git at all. An index that `add -A` left byte for byte as it was before the
   * turn holds the same entries as the before-tree: no changes, no `diff`. The after-`add` leaves a proof for
   * the next turn's before-snapshot.
   */
  async changes(): Promise<FileChange[]> {
    const before = await this.before;
    if (!before) return [];
    const key = path.resolve(this.cwd);
    if (process.env.ORCH_ACP_SNAPSHOT_PROOF !== '0' && holds(this.cwd, this.beforeProof)) {
      keepProof(key, this.beforeProof);
      return [];
    }
    if (!(await this.index.add(this.cwd))) return [];
    keepProof(key, this.index.proof());
    if (this.beforeIndex && this.index.holds(this.beforeIndex)) return [];
    return diffAgainstIndex(this.cwd, before, this.index.file, await this.index.filterConfig(this.cwd));
  }

  dispose(): void {
    this.index.dispose();
  }
}

const maxPatchChars = 200_000;
const cap = (patch: string) => (patch.length > maxPatchChars ? `${patch.slice(0, maxPatchChars)}\n[… patch truncated]` : patch);
const statusOf = (code: string): FileChange['status'] => (code.startsWith('A') ? 'added' : code.startsWith('D') ? 'deleted' : 'modified');

/**
 * The changes between two trees, from one `git diff --raw --numstat -p -z`: the raw records (`:modes shas
 * status\0path\0`), the numstat records (`add\tdel\tpath\0`), an empty record, then the patches in the same
 * order. A patch starts at a line `diff --git `: no line inside a patch can (hunk lines start with ' ', '+',
 * '-' or '\'), so the split is exact whatever the file names are.
 */
export async function diffTrees(cwd: string, before: string, after: string): Promise<FileChange[]> {
  if (before === after) return [];
  return diffOf(cwd, [before, after]);
}

/** The changes from a tree to an index file (`git diff --cached`), read the same way as `diffTrees`. */
function diffAgainstIndex(cwd: string, before: string, indexFile: string, config: readonly string[]): Promise<FileChange[]> {
  return diffOf(cwd, ['--cached', before], { GIT_INDEX_FILE: indexFile }, config);
}

async function diffOf(
  cwd: string,
  what: string[],
  env: Record<string, string> = {},
  config: readonly string[] = [],
): Promise<FileChange[]> {
  const out = await exec(cwd, ['diff', '--no-renames', '--raw', '--numstat', '-p', '-z', ...what], env, config).catch(() => undefined);
  if (out === undefined) return diffWithoutPatches(cwd, what, env, config);
  let at = 0;
  const next = () => {
    const end = out.indexOf('\0', at);
    if (end < 0) throw new Error('git diff: truncated output');
    const field = out.slice(at, end);
    at = end + 1;
    return field;
  };
  const files: { path: string; code: string }[] = [];
  while (out.startsWith(':', at)) {
    const code = next().split(' ').pop() ?? 'M';
    files.push({ path: next(), code });
  }
  const counts = files.map(() => {
    const [add, del] = next().split('\t');
    return { add: Number(add) || 0, del: Number(del) || 0 };
  });
  if (files.length && at < out.length && out[at] === '\0') at++;
  const patches = out
    .slice(at)
    .split(/^(?=diff --git )/m)
    .filter(Boolean);
  return files.map((f, i) => {
    const patch = patches.length === files.length ? cap(patches[i]) : '';
    return {
      path: f.path,
      status: statusOf(f.code),
      additions: counts[i].add,
      deletions: counts[i].del,
      ...(patch ? { patch } : {}),
    };
  });
}

/** When the whole patch is too big for one answer (over 64 MiB): names and counts only. */
async function diffWithoutPatches(
  cwd: string,
  what: string[],
  env: Record<string, string>,
  config: readonly string[],
): Promise<FileChange[]> {
  const out = await exec(cwd, ['diff', '--no-renames', '--numstat', '--raw', '-z', ...what], env, config);
  const parts = out.split('\0');
  const files: FileChange[] = [];
  let i = 0;
  while (parts[i]?.startsWith(':')) {
    files.push({ status: statusOf(parts[i].split(' ').pop() ?? 'M'), path: parts[i + 1], additions: 0, deletions: 0 });
    i += 2;
  }
  for (const f of files) {
    const [add, del] = (parts[i++] ?? '').split('\t');
    f.additions = Number(add) || 0;
    f.deletions = Number(del) || 0;
  }
  return files;
}
