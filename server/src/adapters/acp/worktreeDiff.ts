/**
 * The per-turn diff of an ACP turn. ACP reports no diff, and agents may write files themselves, so the
 * worktree is snapshotted into a git tree before and after the turn (a private index file: the worktree's
 * own index and HEAD are untouched; .gitignore is honoured) and the two trees are compared.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FileChange } from '../../ports/agentRuntime';
import { filterConfigArgs, gitEnv, gitHygieneConfig, hardenedArgs, noRepoFilters } from '../git/gitHygiene';

/** git in the agent's worktree: no hooks, fsmonitor, diff drivers, text conversions or repository filters (`git/gitHygiene.ts`). */
async function git(cwd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const filters = await exec(cwd, [...filterConfigArgs], env).then(noRepoFilters, () => []);
  return exec(cwd, [...filters, ...hardenedArgs(args)], env);
}

function exec(cwd: string, args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      [...gitHygieneConfig, ...args],
      { cwd, env: gitEnv(env), timeout: 30_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout) => (err ? reject(err) : resolve(stdout)),
    );
  });
}

/** A tree object of everything in the worktree now, or undefined when it is not a git worktree. */
export async function snapshotTree(cwd: string): Promise<string | undefined> {
  const index = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'acp-index-')), 'index');
  try {
    const env = { GIT_INDEX_FILE: index };
    await git(cwd, ['add', '-A', '.'], env);
    return (await git(cwd, ['write-tree'], env)).trim() || undefined;
  } catch {
    return undefined;
  } finally {
    fs.rmSync(path.dirname(index), { recursive: true, force: true });
  }
}

const maxPatchChars = 200_000;

export async function diffTrees(cwd: string, before: string, after: string): Promise<FileChange[]> {
  if (before === after) return [];
  const status = await git(cwd, ['diff', '--no-renames', '--name-status', '-z', before, after]);
  const numstat = await git(cwd, ['diff', '--no-renames', '--numstat', '-z', before, after]);
  const counts = new Map<string, { add: number; del: number }>();
  for (const rec of numstat.split('\0').filter(Boolean)) {
    const m = /^(\S+)\t(\S+)\t(.*)$/.exec(rec);
    if (m) counts.set(m[3], { add: Number(m[1]) || 0, del: Number(m[2]) || 0 });
  }
  const parts = status.split('\0').filter(Boolean);
  const out: FileChange[] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const code = parts[i];
    const file = parts[i + 1];
    const c = counts.get(file) ?? { add: 0, del: 0 };
    let patch = await git(cwd, ['diff', '--no-renames', before, after, '--', file]).catch(() => '');
    if (patch.length > maxPatchChars) patch = `${patch.slice(0, maxPatchChars)}\n[… patch truncated]`;
    out.push({
      path: file,
      status: code.startsWith('A') ? 'added' : code.startsWith('D') ? 'deleted' : 'modified',
      additions: c.add,
      deletions: c.del,
      ...(patch ? { patch } : {}),
    });
  }
  return out;
}
