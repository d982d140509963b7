/**
 * The team server's git side of workers (`serve --workers`): it pushes a session's base commit from the
 * user's repository to the team's remote (so workers can fetch it), merges a dependent task's start, reads
 * which files a worker's task branch changed, and brings the session's merged result back.
 *
 * Every network call to the (credentialed) remote runs in a bare repository the server owns
 * (`<data>/workers/<hash of the remote>.git`), never in a tenant's repository: that repository's own config
 * (`core.sshCommand`, `credential.helper`, `url.*.insteadOf`, `http.proxy`, …) could run programs as the
 * server or send the URL with its token elsewhere. Commits move between a tenant's repository and the
 * server's by local path (no credentials involved), always fetched by the receiving side. Every git call has a
 * deadline (`GitWorkspace`) and the hygiene settings (`gitHygiene.ts`); credentials in the URL are masked in errors.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { redactUrlUserinfo } from '../../domain/redact';
import { GitWorkspace } from './git';
import { gitEnv, gitHygieneConfig } from './gitHygiene';

/** The server-owned bare repository for `remote` under the server's data folder. */
export const teamRemoteRepoOf = (dataDir: string, remote: string): string =>
  path.join(dataDir, 'workers', `${createHash('sha256').update(remote).digest('hex').slice(0, 16)}.git`);

export class TeamRemoteGit {
  private readonly git: GitWorkspace;
  private readonly dir: string;
  private ready: Promise<void> | undefined;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly remote: string,
    dataDir: string,
    private readonly timeoutMs = 120_000,
  ) {
    this.git = new GitWorkspace(timeoutMs);
    this.dir = teamRemoteRepoOf(dataDir, remote);
  }

  /** Creates the server's bare repository once (no background gc: fetched commits are kept by refs). */
  private repo(): Promise<string> {
    this.ready ??= (async () => {
      await fs.mkdir(this.dir, { recursive: true });
      await this.git.run(this.dir, ['init', '--quiet', '--bare']);
      await this.git.run(this.dir, ['config', 'gc.auto', '0']);
      await this.git.run(this.dir, ['config', 'maintenance.auto', 'false']);
    })();
    this.ready.catch(() => (this.ready = undefined));
    return this.ready.then(() => this.dir);
  }

  /** Runs `fn` after every earlier fetch into the server's repository (two fetches of one ref would collide on its lock). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async remoteCall(args: string[]): Promise<void> {
    try {
      await this.git.run(await this.repo(), args);
    } catch (e) {
      throw new Error(redactUrlUserinfo(e instanceof Error ? e.message : String(e)), { cause: e });
    }
  }

  /** Fetches `commit` of the tenant repository `cwd` into the server's repository, by local path. */
  private fromTenant(cwd: string, commit: string): Promise<void> {
    return this.serial(() => this.fetchFromTenant(cwd, commit));
  }

  private async fetchFromTenant(cwd: string, commit: string): Promise<void> {
    const dir = await this.repo();
    const have = await this.git.run(dir, ['cat-file', '-e', `${commit}^{commit}`], [0, 1, 128]);
    if (have.code === 0) return;
    await this.git.run(dir, [
      'fetch',
      '--quiet',
      '--no-tags',
      '--no-write-fetch-head',
      path.resolve(cwd),
      `+${commit}:refs/tenant/${commit}`,
    ]);
  }

  /** Pushes `commit` of `cwd` to the remote as `branch` (a no-op when the remote holds it already). */
  async pushBase(cwd: string, commit: string, branch: string): Promise<void> {
    await this.fromTenant(cwd, commit);
    await this.remoteCall(['push', '--quiet', this.remote, `${commit}:refs/heads/${branch}`]);
  }

  /** Fetches the remote's `branches` into the server's repository (`refs/remotes/team/…`). */
  private fetchBranches(branches: readonly string[]): Promise<void> {
    return this.serial(() =>
      this.remoteCall([
        'fetch',
        '--quiet',
        '--no-tags',
        '--no-write-fetch-head',
        this.remote,
        ...branches.map((b) => `+refs/heads/${b}:refs/remotes/team/${b}`),
      ]),
    );
  }

  /**
   * A commit holding `base` and the results of a task's dependencies: each dependency's `commit` (fetched from
   * its branch on the remote) merged in turn, without a worktree (`git merge-tree --write-tree`, git ≥ 2.38),
   * pushed as `branch`. The same inputs give the same commit (dates are the base commit's, the identity is
   * fixed): a re-run after a restart pushes what a job queued before it refers to. Throws naming the
   * dependency whose result conflicts.
   */
  async mergeDependencies(
    cwd: string,
    base: string,
    deps: readonly { name: string; branch: string; commit: string }[],
    branch: string,
  ): Promise<string> {
    checkCommitId(base, 'the base');
    for (const d of deps) checkCommitId(d.commit, `the result of ${d.name}`);
    await this.fromTenant(cwd, base);
    await this.fetchBranches(deps.map((d) => d.branch));
    const dir = await this.repo();
    const date = (await this.git.run(dir, ['show', '-s', '--format=%cI', base])).stdout.trim();
    const env = { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date };
    let head = base;
    for (const d of deps) {
      const r = await this.git.run(dir, ['merge-tree', '--write-tree', '--name-only', head, d.commit], [0, 1]);
      const [tree, ...rest] = r.stdout.trim().split('\n');
      if (r.code !== 0) {
        const files = rest.filter((l) => l && !/^(Auto-merging|CONFLICT) /.test(l));
        throw new Error(`the result of its dependency ${d.name} conflicts with the others' (${files.join(', ') || 'see the branches'})`);
      }
      head = (await this.git.run(dir, ['commit-tree', tree, '-p', head, '-p', d.commit, '-m', `Merge ${d.name}`], [0], env)).stdout.trim();
    }
    await this.remoteCall(['push', '--quiet', this.remote, `+${head}:refs/heads/${branch}`]);
    return head;
  }

  /** The files `commit` (on the remote's `branch`) changed since `base`. */
  async changedFiles(cwd: string, branch: string, base: string, commit: string): Promise<string[]> {
    checkCommitId(base, 'the base');
    checkCommitId(commit, `the result on ${branch}`);
    await this.fromTenant(cwd, base);
    await this.fetchBranches([branch]);
    const r = await this.git.run(await this.repo(), ['diff', '--name-only', '-z', '--end-of-options', base, commit]);
    return r.stdout.split('\0').filter(Boolean);
  }

  /**
   * Brings `commit` (the remote's `branch`) into the tenant repository `cwd` as its local `branch`: fetched
   * from the remote into the server's repository, then copied into the tenant's as a pack of the objects since
   * `base` (`pack-objects | index-pack`: no transport, so nothing of the tenant's config, such as
   * `url.*.insteadOf` with `core.sshCommand`, can turn it into a network call or a program of its choosing).
   */
  async fetchInto(cwd: string, branch: string, base: string, commit: string): Promise<void> {
    checkCommitId(base, 'the base');
    checkCommitId(commit, `the result on ${branch}`);
    await this.fetchBranches([branch]);
    const dir = await this.repo();
    await copyObjects(dir, cwd, `${commit}\n^${base}\n`, this.timeoutMs);
    await this.git.run(cwd, ['update-ref', `refs/heads/${branch}`, commit]);
  }
}

/**
 * A commit id as git prints it. Ids read from the ledger were written by workers (or anyone with database
 * access): anything else (`--output=…`, `-d`, a ref name) never reaches a git command line.
 */
export function checkCommitId(id: string, what: string): string {
  if (!/^[0-9a-f]{40}(?:[0-9a-f]{24})?$/.test(id)) throw new Error(`${what} is not a commit id: ${JSON.stringify(id.slice(0, 80))}`);
  return id;
}

/** `git pack-objects --revs` of `revs` in `from`, indexed into `to` (`index-pack --stdin`), within `timeoutMs`. */
function copyObjects(from: string, to: string, revs: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const env = gitEnv({ GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' });
    const pack = spawn('git', [...gitHygieneConfig, 'pack-objects', '--revs', '--stdout', '-q'], { cwd: from, env });
    const index = spawn('git', [...gitHygieneConfig, 'index-pack', '--stdin'], { cwd: to, env, stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    let left = 2;
    let failed = '';
    pack.stderr.on('data', (d: Buffer) => (err += String(d)));
    index.stderr.on('data', (d: Buffer) => (err += String(d)));
    // A side that dies must not leave the other blocked on a pipe until the deadline, nor throw EPIPE unhandled.
    pack.stdin.on('error', (e) => (failed ||= `git pack-objects input: ${e.message}`));
    index.stdin.on('error', (e) => (failed ||= `git index-pack input: ${e.message}`));
    pack.stdout.pipe(index.stdin);
    pack.stdin.end(revs);
    const timer = setTimeout(() => {
      pack.kill('SIGKILL');
      index.kill('SIGKILL');
    }, timeoutMs);
    const done = (what: string, other: () => ChildProcess) => (code: number | null) => {
      if (code !== 0) {
        failed ||= `${what} exited ${code ?? 'on a signal (deadline?)'}`;
        other().kill('SIGKILL');
      }
      if (--left) return;
      clearTimeout(timer);
      if (failed) reject(new Error(`copying the result into ${to} failed: ${failed}: ${err.trim().split('\n').slice(-3).join(' | ')}`));
      else resolve();
    };
    pack.on(
      'close',
      done('git pack-objects', () => index),
    );
    index.on(
      'close',
      done('git index-pack', () => pack),
    );
    pack.on('error', (e) => (failed ||= `git pack-objects: ${e.message}`));
    index.on('error', (e) => (failed ||= `git index-pack: ${e.message}`));
  });
}
