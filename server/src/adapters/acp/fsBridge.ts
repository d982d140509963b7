/**
 * The client side of ACP `fs/read_text_file` and `fs/write_text_file`, confined to the task's worktree. A path
 * is refused when it is not absolute, has a `..` segment, lies outside the worktree (lexically, or really:
 * symlinks are resolved through the nearest existing parent), or is inside `.git`. Refusals are returned as
 * a reason; the caller reports them and answers the agent with an error.
 */
import fs from 'node:fs';
import path from 'node:path';

export type Confined = { ok: true; path: string } | { ok: false; reason: string };

/** realpath of `p`, or of its nearest existing parent joined with the rest. */
function realish(p: string): string {
  const rest: string[] = [];
  let cur = p;
  for (;;) {
    try {
      return path.join(fs.realpathSync(cur), ...rest.reverse());
    } catch {
      const parent = path.dirname(cur);
      if (parent === cur) return p;
      rest.push(path.basename(cur));
      cur = parent;
    }
  }
}

const inside = (dir: string, p: string) => p === dir || p.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep);

export function confine(worktree: string, p: unknown): Confined {
  if (typeof p !== 'string' || !p) return { ok: false, reason: 'no path given' };
  if (p.includes('\0')) return { ok: false, reason: 'the path contains a NUL byte' };
  if (!path.isAbsolute(p)) return { ok: false, reason: `not an absolute path: ${p}` };
  if (p.split(/[\\/]/).includes('..')) return { ok: false, reason: `the path contains "..": ${p}` };
  const root = path.resolve(worktree);
  const lexical = path.resolve(p);
  if (!inside(root, lexical)) return { ok: false, reason: `outside the task's worktree: ${p}` };
  if (path.relative(root, lexical).split(path.sep).includes('.git')) return { ok: false, reason: `inside .git: ${p}` };
  const realRoot = realish(root);
  const real = realish(lexical);
  if (!inside(realRoot, real)) return { ok: false, reason: `resolves outside the task's worktree (symlink): ${p} → ${real}` };
  if (path.relative(realRoot, real).split(path.sep).includes('.git')) return { ok: false, reason: `resolves into .git: ${p}` };
  return { ok: true, path: lexical };
}

export const maxFsBytes = 10 * 1024 * 1024;

/** Reads lines `line` (1-based) .. `line+limit-1`, or the whole file. `undefined` when the file does not exist. */
export async function readText(p: string, line?: number | null, limit?: number | null): Promise<string | undefined> {
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  if (!st.isFile()) throw new Error(`not a regular file: ${p}`);
  if (st.size > maxFsBytes) throw new Error(`file larger than ${maxFsBytes} bytes: ${p}`);
  const text = await fs.promises.readFile(p, 'utf8');
  if (!line && !limit) return text;
  const lines = text.split('\n');
  const start = Math.max(0, (line ?? 1) - 1);
  return lines.slice(start, limit ? start + limit : undefined).join('\n');
}

export async function writeText(p: string, content: string): Promise<void> {
  if (Buffer.byteLength(content) > maxFsBytes) throw new Error(`content larger than ${maxFsBytes} bytes`);
  await fs.promises.mkdir(path.dirname(p), { recursive: true });
  await fs.promises.writeFile(p, content);
}
