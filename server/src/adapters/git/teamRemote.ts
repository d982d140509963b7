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
  async pushBase(cwd: string, commit: string, branch: string): Promise<void> {
    try {
      await this.git.run(cwd, ['push', '--quiet', this.remote, `${commit}:refs/heads/${branch}`]);
    } catch (e) {
      throw new Error(redactUrlUserinfo(e instanceof Error ? e.message : String(e)));
    }
  }

  /** The files `commit` (on the remote's `branch`) changed since `base`, fetched into `cwd`. */
  async changedFiles(cwd: string, branch: string, base: string, commit: string): Promise<string[]> {
    await this.git.run(cwd, ['fetch', '--quiet', '--no-tags', this.remote, `refs/heads/${branch}`]);
    const r = await this.git.run(cwd, ['diff', '--name-only', '-z', base, commit]);
    return r.stdout.split('\0').filter(Boolean);
  }
}
