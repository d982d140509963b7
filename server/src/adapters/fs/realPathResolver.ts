/**
 * PathResolverPort on the real file system: lstat/readlink per component, so the policy sees where a write
 * through a committed symlink (or a dangling one) would really land.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PathResolverPort } from '../../ports/pathResolver';

/** More links than this in one path is a loop (Linux gives up at 40 as well). */
const maxLinks = 40;
export const loopPath = '/nonexistent/symlink-loop';

export class RealPathResolver implements PathResolverPort {
  constructor(private readonly homeDir: string = os.homedir()) {}

  home(): string {
    return this.homeDir;
  }

  async expand(pattern: string, limit = 1000): Promise<string[] | null> {
    let current = ['/'];
    for (const part of pattern.split('/').filter(Boolean)) {
      if (!/[*?[]/.test(part)) {
        current = current.map((d) => path.posix.join(d, part));
        continue;
      }
      const re = wildcardRegExp(part);
      const next: string[] = [];
      for (const dir of current) {
        const names = await fs.readdir(dir).catch(() => [] as string[]);
        for (const name of names) {
          if (name.startsWith('.') && !part.startsWith('.')) continue;
          if (re.test(name)) next.push(path.posix.join(dir, name));
        }
        if (next.length > limit) return null;
      }
      current = next;
    }
    const found = await Promise.all(current.map(async (p) => ((await fs.lstat(p).catch(() => undefined)) ? p : undefined)));
    return found.filter((p): p is string => !!p).sort();
  }

  async resolve(p: string): Promise<string> {
    const budget = { links: maxLinks };
    return (await this.walk('/', p.split('/'), budget)) ?? loopPath;
  }

  /** Resolves `parts` starting from the real folder `cur`; undefined on a link loop. */
  private async walk(cur: string, parts: string[], budget: { links: number }): Promise<string | undefined> {
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      if (!part || part === '.') continue;
      if (part === '..') {
        cur = path.posix.dirname(cur);
        continue;
      }
      const next = path.posix.join(cur, part);
      const st = await fs.lstat(next).catch(() => undefined);
      // Missing (or unreadable): nothing below it can be a link yet; the rest is appended as written.
      if (!st) return path.posix.resolve(next, ...parts.slice(i + 1).filter(Boolean));
      if (!st.isSymbolicLink()) {
        cur = next;
        continue;
      }
      if (--budget.links < 0) return undefined;
      const target = await fs.readlink(next).catch(() => undefined);
      if (target === undefined) return path.posix.resolve(next, ...parts.slice(i + 1).filter(Boolean));
      const resolved = await this.walk(target.startsWith('/') ? '/' : cur, target.split('/'), budget);
      if (resolved === undefined) return undefined;
      cur = resolved;
    }
    return cur;
  }
}

/** One path component of a shell wildcard as a regular expression (`*`, `?`, `[abc]`, `[!abc]`). */
export function wildcardRegExp(part: string): RegExp {
  let re = '';
  for (let i = 0; i < part.length; i++) {
    const c = part[i];
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = part.indexOf(']', i + 2);
      if (end < 0) {
        re += '\\[';
        continue;
      }
      let body = part.slice(i + 1, end);
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      re += `[${body.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
