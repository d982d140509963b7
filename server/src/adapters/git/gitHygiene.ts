/**
 * How the server runs git in repositories an agent could have written to (its worktree, the session's
 * repository: worktrees share the repository's config). Git runs programs named by the repository itself:
 * hooks, an fsmonitor, external diff drivers (`diff.external`, `diff.<driver>.command` chosen by
 * `.gitattributes`) and text conversions (`diff.<driver>.textconv`). Our git calls run none of them:
 * - every call: `-c core.hooksPath=/dev/null -c core.fsmonitor=false`, and `GIT_EXTERNAL_DIFF` is dropped
 *   from the environment;
 * - every command that can print a patch (`diff`, `log`, `show`, `whatchanged`, `format-patch`):
 *   `--no-ext-diff --no-textconv`, inserted after the subcommand by `hardenedArgs`, so no caller can forget.
 *
 * `-c diff.external=` is not used: git 2.39 then tries to run an empty program and fails the diff.
 */

/** Settings given to every git call (`-c` pairs). */
export const gitHygieneConfig: readonly string[] = ['-c', 'core.hooksPath=/dev/null', '-c', 'core.fsmonitor=false'];

/** Subcommands that may run a diff driver or a text conversion while producing a patch. */
const patchCommands = new Set(['diff', 'log', 'show', 'whatchanged', 'format-patch']);

/** Flags that keep a patch-producing command from running repository-defined programs. */
export const noDiffDrivers: readonly string[] = ['--no-ext-diff', '--no-textconv'];

/** `args` (subcommand first) with `noDiffDrivers` right after a patch-producing subcommand. */
export function hardenedArgs(args: readonly string[]): string[] {
  const [sub, ...rest] = args;
  if (sub === undefined || !patchCommands.has(sub)) return [...args];
  return [sub, ...noDiffDrivers, ...rest];
}

/** The environment for git: ours, without variables that make git run a program of someone else's choosing. */
export function gitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.GIT_EXTERNAL_DIFF;
  delete env.GIT_DIFF_OPTS;
  return env;
}

/** Reads the filter drivers of the repository's own config (`git config --show-scope -z --get-regexp '^filter\.'`). */
export const filterConfigArgs: readonly string[] = ['config', '--show-scope', '-z', '--get-regexp', '^filter\\.'];

/**
 * `-c` pairs that switch off the filter drivers (`filter.<name>.clean/smudge/process`) set in the repository's
 * own config (scopes `local`, `worktree`; includes count as their includer), which an agent could have written:
 * `git add`, `commit`, `merge` and checkouts would run them. The user's global and system filters (Git LFS) are
 * kept. `out` is the output of `filterConfigArgs`: records `scope\0key\nvalue\0`.
 */
export function noRepoFilters(out: string): string[] {
  const parts = out.split('\0');
  const names = new Set<string>();
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const scope = parts[i];
    const key = parts[i + 1].split('\n')[0];
    const m = /^filter\.(.+)\.[^.]+$/.exec(key);
    if (m && (scope === 'local' || scope === 'worktree')) names.add(m[1]);
  }
  return [...names].flatMap((n) => [
    '-c',
    `filter.${n}.clean=`,
    '-c',
    `filter.${n}.smudge=`,
    '-c',
    `filter.${n}.process=`,
    '-c',
    `filter.${n}.required=false`,
  ]);
}
