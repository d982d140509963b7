/**
 * The team server's git side of workers (`serve --workers`): it pushes a session's base commit from the
 * user's repository to the team's remote (so workers can fetch it), and reads which files a worker's task
 * branch changed. Every git call has a deadline (`GitWorkspace`); credentials in the URL are masked in errors.
 */
import { redactUrlUserinfo } from '../../domain/redact';
import { GitWorkspace } from './git';

export class TeamRemoteGit {
  private readonly git: GitWorkspace;

  constructor(
    private readonly remote: string,
    timeoutMs = 120_000,
  ) {
    this.git = new GitWorkspace(timeoutMs);
  }

  /** Pushes `commit` of `cwd` to the remote as `branch` (a no-op when the remote holds it already). */
  pushBase(cwd: string, commit: string, branch: string): Promise<void> {
    return this.push(cwd, commit, branch, false);
  }

  private async push(cwd: string, commit: string, branch: string, force: boolean): Promise<void> {
    try {
      await this.git.run(cwd, ['push', '--quiet', this.remote, `${force ? '+' : ''}${commit}:refs/heads/${branch}`]);
    } catch (e) {
      throw new Error(redactUrlUserinfo(e instanceof Error ? e.message : String(e)), { cause: e });
    }
  }

  /**
   * A commit holding `base` and the results of a task's dependencies: each dependency's `commit` (fetched from
   * its branch on the remote) merged in turn, without a worktree (`git merge-tree --write-tree`, git ≥ 2.38),
   * pushed as `branch`. Throws naming the dependency whose result conflicts.
   */
  async mergeDependencies(
    cwd: string,
    base: string,
    deps: readonly { name: string; branch: string; commit: string }[],
    branch: string,
  ): Promise<string> {
    await this.git.run(cwd, ['fetch', '--quiet', '--no-tags', this.remote, ...deps.map((d) => `refs/heads/${d.branch}`)]);
    let head = base;
    for (const d of deps) {
      const r = await this.git.run(cwd, ['merge-tree', '--write-tree', '--name-only', head, d.commit], [0, 1]);
      const [tree, ...rest] = r.stdout.trim().split('\n');
      if (r.code !== 0) {
        const files = rest.filter((l) => l && !/^(Auto-merging|CONFLICT) /.test(l));
        throw new Error(`the result of its dependency ${d.name} conflicts with the others' (${files.join(', ') || 'see the branches'})`);
      }
      head = (await this.git.run(cwd, ['commit-tree', tree, '-p', head, '-p', d.commit, '-m', `Merge ${d.name}`])).stdout.trim();
    }
    await this.push(cwd, head, branch, true);
    return head;
  }

  /** The files `commit` (on the remote's `branch`) changed since `base`, fetched into `cwd`. */
  async changedFiles(cwd: string, branch: string, base: string, commit: string): Promise<string[]> {
    await this.git.run(cwd, ['fetch', '--quiet', '--no-tags', this.remote, `refs/heads/${branch}`]);
    const r = await this.git.run(cwd, ['diff', '--name-only', '-z', base, commit]);
    return r.stdout.split('\0').filter(Boolean);
  }
}
