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

  async resolve(p: string): Promise<string> {
    const budget = { links: maxLinks };
    return (await this.walk('/', p.split('/'), budget)) ?? loopPath;
  }

  /** Resolves `parts` starting from the real folder `cur`; undefined on a link loop. */
  private async walk(cur: string, parts: string[], budget: { links: number }): Promise<string | undefined> {
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      if (!part || part === '.') continue;
      if (part === '..') { cur = path.posix.dirname(cur); continue; }
      const next = path.posix.join(cur, part);
      const st = await fs.lstat(next).catch(() => undefined);
      // Missing (or unreadable): nothing below it can be a link yet; the rest is appended as written.
      if (!st) return path.posix.resolve(next, ...parts.slice(i + 1).filter(Boolean));
      if (!st.isSymbolicLink()) { cur = next; continue; }
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
