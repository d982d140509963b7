/**
 * Option parsing for the permission policy's program tables (`programSpecs.ts`): combined short flags (`-rn`,
 * `-o/x`), `--opt=value`, `--opt value`, numeric shorthands (`head -5`) and `--` are understood; an option not in
 * its program's table is asked. find's primaries have their own tables here. Pure.
 */
import type { ShellWord } from './shellWords';
import { runs, writes, type ArgKind, type ProgramSpec } from './programSpecs';

/** One argument after option parsing: an operand, or the value of an option. */
export interface ParsedArg {
  word: ShellWord;
  kind: ArgKind | 'operand';
}

export type ParseResult = { args: ParsedArg[] } | { ask: string };

/** Parses `words` (the arguments after the program) against `spec`; operands keep their order. */
export function parseOptions(program: string, spec: ProgramSpec, words: readonly ShellWord[]): ParseResult {
  if (spec.anyArgs) return { args: words.map((word) => ({ word, kind: 'text' })) };
  const args: ParsedArg[] = [];
  const risky = spec.risky ?? {};
  let options = true;
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    const t = w.text;
    if (!options || t === '-' || !t.startsWith('-')) {
      args.push({ word: w, kind: 'operand' });
      continue;
    }
    if (t === '--') {
      options = false;
      continue;
    }
    if (t.startsWith('--')) {
      const eq = t.indexOf('=');
      const name = eq < 0 ? t.slice(2) : t.slice(2, eq);
      if (risky[`--${name}`]) return { ask: `${program} --${name} ${risky[`--${name}`]}` };
      if (eq < 0 && spec.long?.includes(name)) continue;
      if (spec.longOptional?.includes(name)) continue;
      const kind = spec.longValue?.[name];
      if (!kind) return { ask: `${program} --${name} is not an option known to be safe` };
      if (eq >= 0) args.push({ word: { ...w, text: t.slice(eq + 1), tilde: t[eq + 1] === '~' }, kind });
      else if (i + 1 < words.length) args.push({ word: words[++i], kind });
      else return { ask: `${program} --${name} is missing its value` };
      continue;
    }
    const letters = t.slice(1);
    if (spec.numeric && /^\d+$/.test(letters)) continue;
    for (let j = 0; j < letters.length; j++) {
      const c = letters[j];
      if (risky[`-${c}`]) return { ask: `${program} -${c} ${risky[`-${c}`]}` };
      if (spec.short?.includes(c)) continue;
      const kind = spec.shortValue?.[c];
      if (!kind) return { ask: `${program} -${c} is not an option known to be safe` };
      const rest = letters.slice(j + 1);
      if (rest) args.push({ word: { text: rest, glob: w.glob, tilde: false }, kind });
      else if (i + 1 < words.length) args.push({ word: words[++i], kind });
      else return { ask: `${program} -${c} is missing its value` };
      break;
    }
  }
  return { args };
}

/** find's primaries: the safe ones (with how many values they take) and the ones that write or run programs. */
const findSafe: Readonly<Record<string, number>> = {
  '-name': 1,
  '-iname': 1,
  '-path': 1,
  '-ipath': 1,
  '-wholename': 1,
  '-regex': 1,
  '-iregex': 1,
  '-type': 1,
  '-xtype': 1,
  '-maxdepth': 1,
  '-mindepth': 1,
  '-size': 1,
  '-mtime': 1,
  '-mmin': 1,
  '-atime': 1,
  '-amin': 1,
  '-ctime': 1,
  '-cmin': 1,
  '-user': 1,
  '-group': 1,
  '-perm': 1,
  '-newer': 1,
  '-links': 1,
  '-print': 0,
  '-print0': 0,
  '-printf': 1,
  '-ls': 0,
  '-not': 0,
  '!': 0,
  '-o': 0,
  '-or': 0,
  '-a': 0,
  '-and': 0,
  '-empty': 0,
  '-prune': 0,
  '-depth': 0,
  '-true': 0,
  '-false': 0,
  '-readable': 0,
  '-writable': 0,
  '-executable': 0,
  '-quit': 0,
  '-xdev': 0,
  '-mount': 0,
  '-P': 0,
  '-H': 0,
  '-nouser': 0,
  '-nogroup': 0,
};
const findRisky: Readonly<Record<string, string>> = {
  '-exec': runs,
  '-execdir': runs,
  '-ok': runs,
  '-okdir': runs,
  '-delete': 'deletes files',
  '-fprint': writes,
  '-fprint0': writes,
  '-fprintf': writes,
  '-fls': writes,
  '-L': 'follows symbolic links to anywhere',
  '-follow': 'follows symbolic links to anywhere',
};

/** find: starting points (read) up to the first primary, then primaries from the tables above. */
export function parseFind(words: readonly ShellWord[]): ParseResult {
  const args: ParsedArg[] = [];
  let i = 0;
  for (; i < words.length && !words[i].text.startsWith('-') && words[i].text !== '!'; i++) args.push({ word: words[i], kind: 'operand' });
  for (; i < words.length; i++) {
    const t = words[i].text;
    if (findRisky[t]) return { ask: `find ${t} ${findRisky[t]}` };
    const n = findSafe[t];
    if (n === undefined) return { ask: `find ${t} is not an expression known to be safe` };
    if (i + n >= words.length) return { ask: `find ${t} is missing its value` };
    if (t === '-newer') args.push({ word: words[i + 1], kind: 'read' });
    i += n;
  }
  return { args };
}
