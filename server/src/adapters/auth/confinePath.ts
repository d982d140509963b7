/**
 * Confines a path a team-server client gives (`cwd`) to its tenant's workspace roots: the written path
 * is checked (absolute, no `..`), then resolved with every symlink followed (it must exist), and the real
 * path must lie inside a root's real path. When it is inside a git repository, the repository's top
 * folder and its git folders (a `.git` file can point anywhere) must be inside a root too, since
 * sessions and runs work on the whole repository. The answer is the real path, which replaces what the
 * client wrote, so a symlink swapped later does not move the work elsewhere.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { insideRoots, writtenPathProblem } from '../../domain/auth/workspaceRoots';
import { gitEnv, gitHygieneConfig } from '../git/gitHygiene';

export type Confined = { ok: true; real: string } | { ok: false; kind: 'bad_path' | 'outside' | 'no_roots'; message: string };

async function real(p: string): Promise<string | undefined> {
  return fs.realpath(p).catch(() => undefined);
}

/** The repository's top folder and git folders for `dir`, or undefined when `dir` is not inside a repository. */
function repoFolders(dir: string): Promise<string[] | undefined> {
  return new Promise((resolve) => {
    execFile(
      'git',
      [...gitHygieneConfig, 'rev-parse', '--show-toplevel', '--absolute-git-dir', '--git-common-dir'],
      { cwd: dir, timeout: 10_000, env: gitEnv({ GIT_CEILING_DIRECTORIES: '' }) },
      (err, stdout) => {
        if (err) return resolve(undefined);
        const lines = String(stdout)
          .split('\n')
          .filter((l) => l.length > 0);
        resolve(lines.map((l) => path.resolve(dir, l)));
      },
    );
  });
}

export async function confinePath(field: string, written: string, roots: readonly string[]): Promise<Confined> {
  if (roots.length === 0)
    return {
      ok: false,
      kind: 'no_roots',
      message: `${field}: this tenant has no workspace roots, so no path may be given; an admin sets them with: orchestrator admin set-roots TENANT PATH…`,
    };
  const problem = writtenPathProblem(written);
  if (problem) return { ok: false, kind: 'bad_path', message: `${field} ${problem}` };
  const realRoots = (await Promise.all(roots.map(real))).filter((r): r is string => r !== undefined);
  const resolved = await real(written);
  if (!resolved) return { ok: false, kind: 'bad_path', message: `${field} does not exist: ${written}` };
  const outside = (what: string, p: string): Confined => ({
    ok: false,
    kind: 'outside',
    message: `${field}: ${what} ${p} is outside this tenant's workspace roots (${roots.join(', ')})`,
  });
  if (!insideRoots(resolved, realRoots)) return outside(resolved === written ? 'the folder' : `${written} leads to`, resolved);
  const st = await fs.stat(resolved).catch(() => undefined);
  if (st?.isDirectory()) {
    for (const f of (await repoFolders(resolved)) ?? []) {
      const r = (await real(f)) ?? f;
      if (!insideRoots(r, realRoots)) return outside("the folder's git repository", r);
    }
  }
  return { ok: true, real: resolved };
}
