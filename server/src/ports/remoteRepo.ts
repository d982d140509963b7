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
  /** The commit `branch` has on the remote now; undefined when the remote has no such branch. */
  remoteHead(branch: string): Promise<string | undefined>;
  /**
   * Pushes `branch`, replacing the remote's only while it is still `expected` (undefined: the branch must not
   * exist there): a push of someone else in between makes it reject.
   */
  push(worktree: string, branch: string, expected: string | undefined): Promise<void>;
  fetchBranches(branches: readonly string[]): Promise<void>;
  /**
   * Merges the fetched `origin/<branch>`, which must be `commit` (the recorded one): `moved` (nothing merged)
   * when the branch holds anything else, `conflict` (the merge was aborted) when it does not merge.
   */
  merge(worktree: string, branch: string, commit: string, message: string): Promise<'merged' | 'conflict' | 'moved'>;
  head(worktree: string): Promise<string>;
  worktreeOf(...parts: string[]): string;
}
