/**
 * Exactly what will run, as one line a person can read and paste into a POSIX shell: the program and its
 * arguments, each quoted only when it needs to be. Shared by the marketplace webview (details) and the
 * extension host (the consent dialog), so both show the same text.
 */

/** A word that a POSIX shell reads back as itself without quotes. */
const plainWord = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** One argument quoted for a POSIX shell: as is when plain, else in single quotes (`'` as `'\''`). */
export function quoteArg(arg: string): string {
  if (arg !== '' && plainWord.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The program and its arguments on one line. */
export function commandLine(command: string, args: readonly string[]): string {
  return [command, ...args].map(quoteArg).join(' ');
}

/** The environment an agent gets, by name only (values are never shown). */
export interface EnvNames {
  set: readonly string[];
  passed: readonly string[];
  required: readonly string[];
}

/** One line per non-empty group: `set: A, B` / `passed from your environment: …` / `required: …`. */
export function envLines(env: EnvNames): string[] {
  const line = (label: string, names: readonly string[]) => (names.length ? `${label}: ${[...names].sort().join(', ')}` : '');
  return [
    line('set', env.set),
    line('copied from your environment when present', env.passed),
    line('required from your environment', env.required),
  ].filter(Boolean);
}
