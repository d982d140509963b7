/**
 * Where a path really is, for the permission policy (design.md §5: paths are resolved, symlinks included,
 * before deciding). Implemented by adapters/fs/realPathResolver.ts.
 */
export interface PathResolverPort {
  /**
   * The real location of the absolute path `p`: symbolic links are followed component by component (so a
   * `..` after a link climbs from the link's target, as the kernel does), dangling links to their target,
   * and the part that does not exist yet is appended as written. Never rejects; a link loop resolves to a
   * path under `/nonexistent` (outside everything).
   */
  resolve(p: string): Promise<string>;
  /**
   * The existing paths a shell wildcard (`*`, `?`, `[…]` in any component of the absolute `pattern`) matches,
   * as the shell would list them (dot-files only for components that start with a dot), not resolved;
   * `null` when more than `limit` match. Never rejects (an unreadable folder matches nothing).
   */
  expand(pattern: string, limit?: number): Promise<string[] | null>;
  /** The user's home folder (secret locations such as `~/.ssh` are under it). */
  home(): string;
}
