/**
 * A worker's clone of the team's git remote (adapter: `adapters/git/remoteClone.ts`): the only way a worker
 * reaches the code, as it would on another machine.
 */
export interface RemoteRepoPort {
  /** Clones or fetches until `commit` is here; rejects when the remote does not have it. */
  ensureCommit(commit: string): Promise<void>;
  addWorktree(worktree: string, branch: string, commit: string): Promise<void>;
  removeWorktree(worktree: string): Promise<void>;
  commitAll(worktree: string, message: string): Promise<string>;
  push(worktree: string, branch: string): Promise<void>;
  fetchBranches(branches: readonly string[]): Promise<void>;
  /** false: a conflict (the merge was aborted). */
  merge(worktree: string, branch: string, message: string): Promise<boolean>;
  head(worktree: string): Promise<string>;
  worktreeOf(...parts: string[]): string;
}
