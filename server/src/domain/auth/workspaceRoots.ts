/**
 * Which folders a tenant's clients may name (`cwd` of `run/start` and `session/start`), pure. An admin
 * gives each tenant its workspace roots (`orchestrator admin set-roots`); with none, every method that
 * takes a path is refused. The adapter (`adapters/auth/confinePath.ts`) resolves the real path (symlinks
 * followed, the path must exist) and the repository's real git folders; this module decides.
 */

/** What is wrong with a path as written, before it is resolved; undefined when it may be resolved. */
export function writtenPathProblem(p: string): string | undefined {
  if (p.includes('\0')) return 'contains a NUL character';
  if (!p.startsWith('/')) return `must be an absolute path inside the tenant's workspace roots (got ${JSON.stringify(p)})`;
  if (p.split(/[\\/]+/).some((seg) => seg === '..')) return `must not contain ".." (got ${JSON.stringify(p)})`;
  return undefined;
}

/** Is the (resolved) `real` path equal to or below one of the (resolved) roots? */
export function insideRoots(real: string, roots: readonly string[]): boolean {
  const clean = (s: string) => (s.length > 1 ? s.replace(/\/+$/, '') : s);
  const r = clean(real);
  return roots.some((root) => {
    const c = clean(root);
    return r === c || r.startsWith(c === '/' ? '/' : `${c}/`);
  });
}

/** A root as an admin gives it: absolute, no `..`. */
export function rootProblem(p: string): string | undefined {
  return writtenPathProblem(p);
}
