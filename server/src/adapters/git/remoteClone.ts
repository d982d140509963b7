/**
 * A worker's own clone of the team's git remote (design.md §8): `<data>/repos/<hash of the remote>`, one
 * worktree per task under `<data>/worktrees/<tenant>/<session>/<task>`, task branches pushed to the remote,
 * session merges in a worktree of their own. Commands that change the clone's shared state (fetch, worktree
 * add/remove) run one at a time; the agent's work, commits and pushes run in parallel. Every git call has a
 * deadline (`GitWorkspace`).
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { redactUrlUserinfo } from '../../domain/redact';
import { GitWorkspace } from './git';
import type { RemoteRepoPort } from '../../ports/remoteRepo';

export class RemoteClone implements RemoteRepoPort {
  private readonly git: GitWorkspace;
  private readonly dir: string;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly dataDir: string,
    private readonly remote: string,
    timeoutMs = 120_000,
  ) {
    this.git = new GitWorkspace(timeoutMs);
    this.dir = path.join(dataDir, 'repos', createHash('sha256').update(remote).digest('hex').slice(0, 16));
  }

  /** Runs `fn` after every earlier serialised step (the clone's refs, config and worktree list). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Clones the remote once; later calls fetch when `commit` is not here yet. */
  ensureCommit(commit: string): Promise<void> {
    return this.serial(async () => {
      const exists = await fs.stat(path.join(this.dir, '.git')).then(
        () => true,
        () => false,
      );
      if (!exists) {
        await fs.mkdir(path.dirname(this.dir), { recursive: true });
        await fs.rm(this.dir, { recursive: true, force: true });
        await this.git.run(path.dirname(this.dir), ['clone', '--quiet', '--no-checkout', this.remote, this.dir]);
        // No background gc: it would pack refs while parallel tasks commit and push.
        await this.git.run(this.dir, ['config', 'gc.auto', '0']);
        await this.git.run(this.dir, ['config', 'maintenance.auto', 'false']);
      } else {
        // Worktree entries of tasks a killed worker left behind.
        await this.git.run(this.dir, ['worktree', 'prune']);
      }
      const have = await this.git.run(this.dir, ['cat-file', '-e', `${commit}^{commit}`], [0, 1, 128]);
      if (have.code !== 0) await this.git.run(this.dir, ['fetch', '--quiet', 'origin']);
      const again = await this.git.run(this.dir, ['cat-file', '-e', `${commit}^{commit}`], [0, 1, 128]);
      if (again.code !== 0) throw new Error(`commit ${commit} is not on the remote ${redactUrlUserinfo(this.remote)}`);
    });
  }

  /**
   * A fresh worktree at `commit` on `branch` (a leftover of an earlier attempt is replaced). Not serialised:
   * each task's worktree entry and branch are its own, so parallel adds do not share a lock.
   */
  async addWorktree(worktree: string, branch: string, commit: string): Promise<void> {
    await this.removeWorktree(worktree);
    await fs.mkdir(path.dirname(worktree), { recursive: true });
    await this.git.run(this.dir, ['worktree', 'add', '--quiet', '-f', '-B', branch, worktree, commit]);
  }

  async removeWorktree(worktree: string): Promise<void> {
    const there = await fs.stat(worktree).then(
      () => true,
      () => false,
    );
    if (there) await this.git.run(this.dir, ['worktree', 'remove', '--force', worktree], [0, 128]);
    await fs.rm(worktree, { recursive: true, force: true });
  }

  /** Commits everything in the worktree (an empty commit when nothing changed); returns the commit id. */
  async commitAll(worktree: string, message: string): Promise<string> {
    await this.git.run(worktree, ['add', '-A']);
    await this.git.run(worktree, ['commit', '--quiet', '--allow-empty', '--no-verify', '-m', message]);
    return (await this.git.run(worktree, ['rev-parse', 'HEAD'])).stdout.trim();
  }

  async remoteHead(branch: string): Promise<string | undefined> {
    const r = await this.git.run(this.dir, ['ls-remote', '--heads', 'origin', `refs/heads/${branch}`]);
    return r.stdout.trim().split(/\s/)[0] || undefined;
  }

  /** Pushes `branch` over what the remote had when the task started (an attempt that died after pushing is replaced). */
  async push(worktree: string, branch: string, expected: string | undefined): Promise<void> {
    const lease = `--force-with-lease=refs/heads/${branch}:${expected ?? ''}`;
    await this.git.run(worktree, ['push', '--quiet', lease, 'origin', `${branch}:refs/heads/${branch}`]);
  }

  /** Fetches the given branches from the remote into `refs/remotes/origin/…`. */
  fetchBranches(branches: readonly string[]): Promise<void> {
    return this.serial(async () => {
      for (let i = 0; i < branches.length; i += 200)
        await this.git.run(this.dir, [
          'fetch',
          '--quiet',
          'origin',
          ...branches.slice(i, i + 200).map((b) => `+refs/heads/${b}:refs/remotes/origin/${b}`),
        ]);
    });
  }

  /** Merges `origin/<branch>` into the worktree's branch when it is `commit`. */
  async merge(worktree: string, branch: string, commit: string, message: string): Promise<'merged' | 'conflict' | 'moved'> {
    const at = await this.git.run(worktree, ['rev-parse', '--verify', '--quiet', `refs/remotes/origin/${branch}^{commit}`], [0, 1]);
    if (at.stdout.trim() !== commit) return 'moved';
    const r = await this.git.run(worktree, ['merge', '--no-ff', '--no-edit', '--no-verify', '-m', message, commit], [0, 1]);
    if (r.code === 0) return 'merged';
    await this.git.run(worktree, ['merge', '--abort'], [0, 128]);
    return 'conflict';
  }

  async head(worktree: string): Promise<string> {
    return (await this.git.run(worktree, ['rev-parse', 'HEAD'])).stdout.trim();
  }

  worktreeOf(...parts: string[]): string {
    return path.join(this.dataDir, 'worktrees', ...parts);
  }
}
