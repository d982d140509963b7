/**
 * The repository operations the orchestrator needs: validation of a task's directory, per-task git
 * worktrees, commits, merges in dependency order, and diffs. Implemented by adapters/git.
 */
export interface MergeOutcome {
  ok: boolean;
  /** Paths with conflicts when not ok; the merge was aborted and nothing changed. */
  conflicts?: string[];
}

export interface ChangedFile {
  path: string;
  status: 'added' | 'modified' | 'deleted' | 'renamed' | 'other';
}

/** A file as stored in a commit (see `WorkspacePort.readBlob`). */
export type BlobRead = { kind: 'absent' } | { kind: 'notAFile' } | { kind: 'tooLarge'; bytes: number } | { kind: 'blob'; data: Uint8Array };

export interface WorkspacePort {
  /** Throws DomainError('bad_input') naming the problem when `cwd` is missing, not a folder, or not in a git work tree. */
  assertRepo(cwd: string): Promise<{ root: string; head: string | null }>;
  /**
   * The git root of `cwd`, checked as `assertRepo` checks it (same errors). May answer from a cache while the
   * root's `.git` is still there and `cwd` has none of its own (a run on the same folder skips the git process).
   */
  repoRoot?(cwd: string): Promise<string>;
  headCommit(repo: string): Promise<string | null>;
  branchExists(repo: string, branch: string): Promise<boolean>;
  createBranch(repo: string, branch: string, from: string): Promise<void>;
  /** The commit `ref` points at, or null when it does not resolve. */
  resolveRef(repo: string, ref: string): Promise<string | null>;
  /** Delete the local branch named exactly `branch` (force); no-op when it does not exist. */
  deleteBranch?(repo: string, branch: string): Promise<void>;
  /** Delete every local branch whose name starts with `prefix` (force); returns the names deleted. */
  deleteBranches(repo: string, prefix: string): Promise<string[]>;
  /**
   * A worktree at `dir` on `branch` (created from `base` when missing); reused when it already exists.
   * `created`: a new branch was made at `base` and checked out (nothing else there yet); `reused`: the folder
   * or the branch existed; an implementation that cannot tell resolves undefined (treated as reused).
   */
  addWorktree(repo: string, dir: string, branch: string, base: string): Promise<'created' | 'reused' | void>;
  /** Remove the worktree at `dir` (and its registration in `repo`); the parent folder goes too once empty. */
  removeWorktree(repo: string, dir: string): Promise<void>;
  /** Point the worktree's branch at `ref` and drop every local change and (unless `clean: false`) untracked file. */
  resetWorktree(dir: string, ref: string, opts?: { clean?: boolean }): Promise<void>;
  /** Stage everything and commit; returns the new commit or null when there was nothing to commit. */
  commitAll(cwd: string, message: string): Promise<string | null>;
  /**
   * Stage everything, commit (nothing when there is nothing to commit) and list the files changed from
   * commit `from` to HEAD (the agent's own commits included; none when `from` is null): `commitAll` then
   * `changedFiles`, without asking for the new commit's id.
   */
  commitChanges(cwd: string, message: string, from: string | null): Promise<ChangedFile[]>;
  /** Merge `branch` into the branch checked out at `cwd`; on conflict the merge is aborted. */
  merge(cwd: string, branch: string, message: string): Promise<MergeOutcome>;
  changedFiles(cwd: string, from: string, to?: string): Promise<ChangedFile[]>;
  diff(cwd: string, from: string, to?: string): Promise<string>;
  /**
   * The file `path` (relative to the repository root) as stored in commit `rev`, read from git's objects
   * (no checkout, no working tree, so a symlink is its target's text, never what it points at): absent when
   * that commit has no such path, `notAFile` for a folder or submodule, `tooLarge` over `maxBytes`.
   */
  readBlob(repo: string, rev: string, path: string, maxBytes: number): Promise<BlobRead>;
  /** Paths with uncommitted changes (staged, unstaged, untracked). */
  dirtyFiles(cwd: string): Promise<string[]>;
  /** Apply a unified diff to the working tree at `cwd` (all or nothing). */
  applyPatch(cwd: string, patch: string): Promise<void>;
  /** Abort a merge left in progress (after a crash); no-op when none. */
  abortMerge(cwd: string): Promise<void>;
}
