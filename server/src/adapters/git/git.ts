/**
 * WorkspacePort over the git CLI. Every call has a deadline; failures carry git's stderr.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DomainError } from '../../domain/errors';
import { redactUrlUserinfo } from '../../domain/redact';
import type { BlobRead, ChangedFile, MergeOutcome, WorkspacePort } from '../../ports/workspace';
import { filterConfigArgs, gitEnv, gitHygieneConfig, hardenedArgs, noRepoFilters } from './gitHygiene';

/** A failed git call. Its message masks URL credentials (`https://user:TOKEN@host/…` in a remote or in git's stderr). */
export class GitError extends Error {
  constructor(
    readonly args: string[],
    readonly code: number | string | null,
    readonly stderr: string,
  ) {
    super(redactUrlUserinfo(`git ${args.join(' ')} failed (${code}): ${stderr.trim().split('\n').slice(-5).join(' | ')}`));
    this.name = 'GitError';
  }
}

// Our own git calls never run repository hooks, an fsmonitor, diff drivers or text conversions: an agent
// could have planted any of them (`gitHygiene.ts`).
const identity = [
  '-c',
  'user.name=Industrial Orchestrator',
  '-c',
  'user.email=orchestrator@localhost',
  '-c',
  'commit.gpgsign=false',
  ...gitHygieneConfig,
];
const gitProcessEnv = () => gitEnv({ GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' });
/** Subcommands that never read the worktree (so never run a filter driver): no config lookup first. */
const objectOnly = new Set(['rev-parse', 'cat-file', 'config', 'branch', 'for-each-ref', 'update-ref']);

export class GitWorkspace implements WorkspacePort {
  /** Git roots found by `assertRepo`, by folder (`repoRoot` answers from it while they still hold). */
  private readonly roots = new Map<string, string>();

  constructor(private readonly timeoutMs = 60_000) {}

  async run(
    cwd: string,
    args: string[],
    allowCodes: number[] = [0],
    env: Record<string, string> = {},
  ): Promise<{ stdout: string; stderr: string; code: number }> {
    return this.exec(cwd, [...(await this.repoFilters(cwd, args[0])), ...hardenedArgs(args)], allowCodes, env);
  }

  /** `-c` pairs switching off the filter drivers of the repository's own config (`noRepoFilters`). */
  private async repoFilters(cwd: string, sub: string | undefined): Promise<string[]> {
    if (sub === undefined || objectOnly.has(sub)) return [];
    const r = await this.exec(cwd, [...filterConfigArgs], [0, 1, 128]).catch(() => undefined);
    return r?.code === 0 ? noRepoFilters(r.stdout) : [];
  }

  private exec(
    cwd: string,
    args: string[],
    allowCodes: number[],
    env: Record<string, string> = {},
  ): Promise<{ stdout: string; stderr: string; code: number }> {
    return new Promise((resolve, reject) => {
      execFile(
        'git',
        [...identity, ...args],
        { cwd, timeout: this.timeoutMs, maxBuffer: 64 * 1024 * 1024, env: { ...gitProcessEnv(), ...env } },
        (err, stdout, stderr) => {
          const code = err
            ? typeof (err as NodeJS.ErrnoException).code === 'number'
              ? Number((err as NodeJS.ErrnoException).code)
              : (err as { code?: unknown }).code
            : 0;
          if (err && !(typeof code === 'number' && allowCodes.includes(code))) {
            reject(
              new GitError(
                args,
                (err as { killed?: boolean }).killed ? 'timeout' : ((code as number | string | null) ?? null),
                String(stderr || err.message),
              ),
            );
          } else resolve({ stdout: String(stdout), stderr: String(stderr), code: typeof code === 'number' ? code : 0 });
        },
      );
    });
  }

  async assertRepo(cwd: string): Promise<{ root: string; head: string | null }> {
    await this.assertFolder(cwd);
    // One process for both: the top level, then HEAD (exit 1 and no second line while HEAD is unborn).
    const r = await this.run(cwd, ['rev-parse', '--show-toplevel', '--verify', '-q', 'HEAD'], [0, 1, 128]);
    const [root, head] = r.stdout.split('\n');
    if (r.code === 128 || !root)
      throw new DomainError('bad_input', `cwd is not inside a git repository: ${cwd} (run \`git init\` there first)`, { field: 'cwd' });
    if (this.roots.size >= 1000) this.roots.clear();
    this.roots.set(cwd, root);
    return { root, head: r.code === 0 && head ? head : null };
  }

  private async assertFolder(cwd: string): Promise<void> {
    if (!path.isAbsolute(cwd))
      throw new DomainError('bad_input', `cwd must be an absolute path (got ${JSON.stringify(cwd)})`, { field: 'cwd' });
    const st = await fs.stat(cwd).catch(() => undefined);
    if (!st) throw new DomainError('bad_input', `cwd does not exist: ${cwd}`, { field: 'cwd' });
    if (!st.isDirectory()) throw new DomainError('bad_input', `cwd is not a folder: ${cwd}`, { field: 'cwd' });
  }

  async repoRoot(cwd: string): Promise<string> {
    const known = this.roots.get(cwd);
    if (known !== undefined) {
      await this.assertFolder(cwd);
      // Still the same repository: its `.git` is there, and `cwd` did not become a repository of its own.
      const exists = (p: string) =>
        fs.stat(p).then(
          () => true,
          () => false,
        );
      if ((await exists(path.join(known, '.git'))) && (known === cwd || !(await exists(path.join(cwd, '.git'))))) return known;
      this.roots.delete(cwd);
    }
    return (await this.assertRepo(cwd)).root;
  }

  async headCommit(repo: string): Promise<string | null> {
    const r = await this.run(repo, ['rev-parse', '--verify', '-q', 'HEAD'], [0, 1, 128]);
    return r.code === 0 ? r.stdout.trim() : null;
  }

  async branchExists(repo: string, branch: string): Promise<boolean> {
    return (await this.run(repo, ['rev-parse', '--verify', '-q', `refs/heads/${branch}`], [0, 1])).code === 0;
  }

  async createBranch(repo: string, branch: string, from: string): Promise<void> {
    await this.run(repo, ['branch', '--force', branch, from]);
  }

  async resolveRef(repo: string, ref: string): Promise<string | null> {
    const r = await this.run(repo, ['rev-parse', '--verify', '-q', `${ref}^{commit}`], [0, 1, 128]);
    return r.code === 0 ? r.stdout.trim() : null;
  }

  async deleteBranch(repo: string, branch: string): Promise<void> {
    if (!branch.trim() || branch.startsWith('-')) throw new Error(`refusing to delete branch ${JSON.stringify(branch)}`);
    await this.run(repo, ['branch', '-D', '--', branch], [0, 1]);
  }

  async deleteBranches(repo: string, prefix: string): Promise<string[]> {
    if (!prefix.trim() || prefix.startsWith('-')) throw new Error(`refusing to delete branches with prefix ${JSON.stringify(prefix)}`);
    const r = await this.run(repo, ['for-each-ref', '--format=%(refname)', `refs/heads/${prefix.replace(/\/?$/, '/')}`]);
    const names = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('refs/heads/'))
      .map((l) => l.slice('refs/heads/'.length));
    if (!names.length) return [];
    // A branch still registered as checked out in a worktree cannot be deleted: drop stale registrations first.
    await this.run(repo, ['worktree', 'prune']);
    await this.run(repo, ['branch', '-D', '--', ...names]);
    return names;
  }

  async addWorktree(repo: string, dir: string, branch: string, base: string): Promise<'created' | 'reused'> {
    // Reuse after a restart: the folder is still a worktree.
    if (await fs.stat(path.join(dir, '.git')).catch(() => undefined)) return 'reused';
    await fs.mkdir(path.dirname(dir), { recursive: true });
    const fresh = !(await this.branchExists(repo, branch));
    const args = fresh ? ['worktree', 'add', '-b', branch, dir, base] : ['worktree', 'add', dir, branch];
    const r = await this.run(repo, args, [0, 128]);
    if (r.code !== 0) {
      // A registration left by a worktree folder that was deleted: prune it and try once more.
      await this.run(repo, ['worktree', 'prune']);
      await this.run(repo, args);
    }
    return fresh ? 'created' : 'reused';
  }

  async removeWorktree(repo: string, dir: string): Promise<void> {
    const r = await this.run(repo, ['worktree', 'remove', '--force', dir], [0, 128]);
    if (r.code !== 0) {
      await fs.rm(dir, { recursive: true, force: true });
      await this.run(repo, ['worktree', 'prune']);
    }
    // The session's folder goes once its last worktree is gone (rmdir refuses a non-empty folder).
    await fs.rmdir(path.dirname(dir)).catch(() => undefined);
  }

  async resetWorktree(dir: string, ref: string, opts?: { clean?: boolean }): Promise<void> {
    await this.run(dir, ['reset', '-q', '--hard', ref]);
    if (opts?.clean !== false) await this.run(dir, ['clean', '-q', '-fd']);
  }

  async commitAll(cwd: string, message: string): Promise<string | null> {
    await this.run(cwd, ['add', '-A']);
    const r = await this.run(cwd, ['commit', '-q', '--no-verify', '-m', message], [0, 1]);
    if (r.code === 1) return null; // nothing to commit
    return this.headCommit(cwd);
  }

  async commitChanges(cwd: string, message: string, from: string | null): Promise<ChangedFile[]> {
    await this.run(cwd, ['add', '-A']);
    await this.run(cwd, ['commit', '-q', '--no-verify', '-m', message], [0, 1]);
    return from ? this.changedFiles(cwd, from) : [];
  }

  async merge(cwd: string, branch: string, message: string): Promise<MergeOutcome> {
    const r = await this.run(cwd, ['merge', '--no-ff', '--no-edit', '-m', message, branch], [0, 1]);
    if (r.code === 0) return { ok: true };
    const conflicted = await this.run(cwd, ['diff', '--name-only', '--diff-filter=U']);
    await this.run(cwd, ['merge', '--abort'], [0, 128]);
    return { ok: false, conflicts: conflicted.stdout.split('\n').filter(Boolean) };
  }

  async changedFiles(cwd: string, from: string, to = 'HEAD'): Promise<ChangedFile[]> {
    // -z: paths as they are (no C-style quoting of unusual names), so they can be read back with `readBlob`.
    const r = await this.run(cwd, ['diff', '--name-status', '--no-renames', '-z', from, to]);
    const map: Record<string, ChangedFile['status']> = { A: 'added', M: 'modified', D: 'deleted', R: 'renamed' };
    const parts = r.stdout.split('\0');
    const files: ChangedFile[] = [];
    for (let i = 0; i + 1 < parts.length && parts[i]; i += 2) files.push({ path: parts[i + 1], status: map[parts[i][0]] ?? 'other' });
    return files;
  }

  async readBlob(repo: string, rev: string, file: string, maxBytes: number): Promise<BlobRead> {
    if (!/^[0-9a-f]{7,64}$/i.test(rev)) throw new Error(`readBlob needs a commit id, got ${JSON.stringify(rev)}`);
    const spec = `${rev}:${file}`;
    const type = await this.run(repo, ['cat-file', '-t', spec], [0, 128]);
    if (type.code !== 0) return { kind: 'absent' };
    if (type.stdout.trim() !== 'blob') return { kind: 'notAFile' };
    const bytes = Number((await this.run(repo, ['cat-file', '-s', spec])).stdout.trim());
    if (bytes > maxBytes) return { kind: 'tooLarge', bytes };
    return { kind: 'blob', data: await this.runBytes(repo, ['cat-file', 'blob', spec]) };
  }

  /** `git …` whose stdout is bytes (file contents), with the same identity, deadline and errors as `run`. */
  private runBytes(cwd: string, args: string[]): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      execFile(
        'git',
        [...identity, ...hardenedArgs(args)],
        {
          cwd,
          timeout: this.timeoutMs,
          maxBuffer: 64 * 1024 * 1024,
          encoding: 'buffer',
          env: gitProcessEnv(),
        },
        (err, stdout, stderr) => {
          if (err)
            reject(new GitError(args, (err as { killed?: boolean }).killed ? 'timeout' : null, String(stderr?.toString() || err.message)));
          else resolve(new Uint8Array(stdout));
        },
      );
    });
  }

  async diff(cwd: string, from: string, to = 'HEAD'): Promise<string> {
    return (await this.run(cwd, ['diff', from, to])).stdout;
  }

  async applyPatch(cwd: string, patch: string): Promise<void> {
    if (!patch.trim()) return;
    const file = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'orch-patch-')), 'session.patch');
    await fs.writeFile(file, patch);
    try {
      await this.run(cwd, ['apply', '--whitespace=nowarn', file]);
    } finally {
      await fs.rm(path.dirname(file), { recursive: true, force: true });
    }
  }

  async abortMerge(cwd: string): Promise<void> {
    await this.run(cwd, ['merge', '--abort'], [0, 1, 128]);
  }

  async dirtyFiles(cwd: string): Promise<string[]> {
    const r = await this.run(cwd, ['status', '--porcelain=v1', '-z', '--untracked-files=all']);
    return r.stdout
      .split('\0')
      .filter(Boolean)
      .map((e) => e.slice(3));
  }
}
