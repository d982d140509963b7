/**
 * Per-program option tables of the permission policy: for each allow-listed program, the options known to
 * be safe, the options that take a value (and what the value is: text, a file read, a file written), the
 * options that write files or run programs (always asked), and what its operands are. An option not in
 * its program's table is not known to be safe and is asked. Combined short flags (`-rn`, `-o/x`), `--opt=value`,
 * `--opt value`, numeric shorthands (`head -5`) and `--` are understood. Pure.
 */
import type { ShellWord } from './shellWords';

/** What an option's value or an operand is. `pattern` is text that also supplies grep's pattern. */
export type ArgKind = 'text' | 'read' | 'write' | 'pattern';

/** How a program's operands are used. */
export type OperandRule = 'read' | 'write' | 'text' | 'none' | 'grep' | 'copy' | 'move' | 'uniq' | 'git' | 'find';

export interface ProgramSpec {
  /** Short flags without a value, as a string of letters. */
  short?: string;
  /** Short options that take a value. */
  shortValue?: Readonly<Record<string, ArgKind>>;
  /** Long flags without a value (`--all`). */
  long?: readonly string[];
  /** Long options that take a value (`--sort=time`, `--sort time`). */
  longValue?: Readonly<Record<string, ArgKind>>;
  /** Long options whose value is optional and only given as `--opt=value` (`--color[=when]`). */
  longOptional?: readonly string[];
  /** Options that write files or run programs: `-o` / `--output` → why; always asked. */
  risky?: Readonly<Record<string, string>>;
  /** `-5` means `-n 5` (head, tail, git log). */
  numeric?: boolean;
  operands: OperandRule;
  /** Every argument is text the program prints or compares (echo, test): no option parsing. */
  anyArgs?: boolean;
}

const writes = 'writes a file';
const runs = 'runs another program';

const colorOpt = ['color', 'colour'];

export const programSpecs: Readonly<Record<string, ProgramSpec>> = {
  ls: {
    short: 'laAhRtrS1dFpisnGgoucUvXCxmLHQNk',
    long: [
      'all',
      'almost-all',
      'human-readable',
      'recursive',
      'reverse',
      'directory',
      'classify',
      'inode',
      'size',
      'numeric-uid-gid',
      'no-group',
      'group-directories-first',
      'dereference',
      'literal',
      'si',
    ],
    longValue: {
      sort: 'text',
      'time-style': 'text',
      time: 'text',
      format: 'text',
      'indicator-style': 'text',
      width: 'text',
      'quoting-style': 'text',
      ignore: 'text',
      hide: 'text',
      'block-size': 'text',
    },
    shortValue: { w: 'text', I: 'text', T: 'text' },
    longOptional: colorOpt,
    operands: 'read',
  },
  cat: {
    short: 'nbAEsTvet',
    long: ['number', 'number-nonblank', 'show-all', 'show-ends', 'squeeze-blank', 'show-tabs', 'show-nonprinting'],
    operands: 'read',
  },
  head: {
    short: 'qvz',
    shortValue: { n: 'text', c: 'text' },
    long: ['quiet', 'silent', 'verbose', 'zero-terminated'],
    longValue: { lines: 'text', bytes: 'text' },
    numeric: true,
    operands: 'read',
  },
  tail: {
    short: 'qvzr',
    shortValue: { n: 'text', c: 'text' },
    long: ['quiet', 'silent', 'verbose', 'zero-terminated'],
    longValue: { lines: 'text', bytes: 'text' },
    numeric: true,
    operands: 'read',
  },
  wc: { short: 'lwcmL', long: ['lines', 'words', 'bytes', 'chars', 'max-line-length'], operands: 'read' },
  grep: {
    short: 'nivwxclLoqshHEFGPrIabzZUT',
    shortValue: { e: 'pattern', f: 'read', m: 'text', A: 'text', B: 'text', C: 'text' },
    numeric: true,
    long: [
      'line-number',
      'ignore-case',
      'invert-match',
      'word-regexp',
      'line-regexp',
      'count',
      'files-with-matches',
      'files-without-match',
      'only-matching',
      'quiet',
      'silent',
      'no-messages',
      'no-filename',
      'with-filename',
      'extended-regexp',
      'fixed-strings',
      'basic-regexp',
      'perl-regexp',
      'recursive',
      'text',
      'byte-offset',
      'null',
      'null-data',
      'initial-tab',
      'no-ignore-case',
    ],
    longValue: {
      regexp: 'pattern',
      file: 'read',
      'max-count': 'text',
      include: 'text',
      exclude: 'text',
      'exclude-dir': 'text',
      'binary-files': 'text',
      context: 'text',
      'after-context': 'text',
      'before-context': 'text',
      label: 'text',
    },
    longOptional: colorOpt,
    operands: 'grep',
    // -R follows every symbolic link met while recursing, so it can read outside the task's folder.
    risky: {
      '-R': 'follows symbolic links to anywhere',
      '--dereference-recursive': 'follows symbolic links to anywhere',
      '--exclude-from': 'reads a file of patterns from anywhere',
    },
  },
  rg: {
    short: 'niSswvlcoFHNIUquaxp0',
    shortValue: {
      e: 'pattern',
      f: 'read',
      g: 'text',
      t: 'text',
      T: 'text',
      m: 'text',
      A: 'text',
      B: 'text',
      C: 'text',
      M: 'text',
      r: 'text',
      j: 'text',
      d: 'text',
    },
    long: [
      'line-number',
      'ignore-case',
      'smart-case',
      'case-sensitive',
      'word-regexp',
      'invert-match',
      'files-with-matches',
      'files-without-match',
      'count',
      'count-matches',
      'only-matching',
      'fixed-strings',
      'with-filename',
      'no-filename',
      'no-line-number',
      'hidden',
      'no-ignore',
      'no-ignore-vcs',
      'files',
      'json',
      'vimgrep',
      'heading',
      'no-heading',
      'column',
      'no-column',
      'multiline',
      'pcre2',
      'trim',
      'stats',
      'quiet',
      'unrestricted',
      'null',
      'type-list',
      'byte-offset',
      'passthru',
      'line-buffered',
      'no-messages',
      'sort-files',
    ],
    longValue: {
      regexp: 'pattern',
      file: 'read',
      glob: 'text',
      iglob: 'text',
      type: 'text',
      'type-not': 'text',
      'max-count': 'text',
      context: 'text',
      'after-context': 'text',
      'before-context': 'text',
      'max-columns': 'text',
      replace: 'text',
      sort: 'text',
      sortr: 'text',
      'max-depth': 'text',
      'max-filesize': 'text',
      threads: 'text',
      encoding: 'text',
      'ignore-file': 'read',
    },
    longOptional: colorOpt,
    operands: 'grep',
    risky: {
      '--pre': runs,
      '--pre-glob': runs,
      '-z': 'runs decompression programs',
      '--search-zip': 'runs decompression programs',
      '-L': 'follows symbolic links to anywhere',
      '--follow': 'follows symbolic links to anywhere',
      '--hostname-bin': runs,
    },
  },
  echo: { anyArgs: true, operands: 'text' },
  printf: { operands: 'text', risky: { '-v': 'assigns a shell variable' } },
  pwd: { short: 'LP', operands: 'none' },
  true: { anyArgs: true, operands: 'text' },
  false: { anyArgs: true, operands: 'text' },
  test: { anyArgs: true, operands: 'text' },
  diff: {
    short: 'uqswbBiyaNpTtcEZ',
    shortValue: { U: 'text', C: 'text', W: 'text', x: 'text', I: 'text', F: 'text' },
    long: [
      'brief',
      'report-identical-files',
      'ignore-all-space',
      'ignore-space-change',
      'ignore-blank-lines',
      'ignore-case',
      'side-by-side',
      'text',
      'new-file',
      'unidirectional-new-file',
      'show-c-function',
      'strip-trailing-cr',
      'minimal',
      'speed-large-files',
      'no-dereference',
      'expand-tabs',
      'initial-tab',
      'suppress-common-lines',
      'left-column',
      'ignore-tab-expansion',
      'ignore-trailing-space',
    ],
    longValue: {
      exclude: 'text',
      'ignore-matching-lines': 'text',
      label: 'text',
      width: 'text',
      'show-function-line': 'text',
      'from-file': 'read',
      'to-file': 'read',
      tabsize: 'text',
      'starting-file': 'text',
    },
    longOptional: [...colorOpt, 'unified', 'context'],
    operands: 'read',
    // Recursive comparison follows symbolic links inside the folders by default.
    risky: {
      '-r': 'follows symbolic links to anywhere when recursing',
      '--recursive': 'follows symbolic links to anywhere when recursing',
      '--exclude-from': 'reads a file from anywhere',
      '-X': 'reads a file from anywhere',
    },
  },
  sort: {
    short: 'bdfgiMhnRrVcCsuz',
    shortValue: { k: 'text', t: 'text', S: 'text' },
    long: [
      'ignore-leading-blanks',
      'dictionary-order',
      'ignore-case',
      'general-numeric-sort',
      'ignore-nonprinting',
      'month-sort',
      'human-numeric-sort',
      'numeric-sort',
      'random-sort',
      'reverse',
      'version-sort',
      'stable',
      'unique',
      'zero-terminated',
      'check',
      'debug',
    ],
    longValue: { key: 'text', 'field-separator': 'text', sort: 'text', 'buffer-size': 'text', parallel: 'text' },
    risky: {
      '-o': writes,
      '--output': writes,
      '-T': 'writes temporary files elsewhere',
      '--temporary-directory': 'writes temporary files elsewhere',
      '--compress-program': runs,
      '--files0-from': 'reads file names from a file',
      '--random-source': 'reads a file from anywhere',
    },
    operands: 'read',
  },
  uniq: {
    short: 'cdDiuz',
    shortValue: { f: 'text', s: 'text', w: 'text' },
    long: ['count', 'repeated', 'ignore-case', 'unique', 'zero-terminated'],
    longValue: { 'skip-fields': 'text', 'skip-chars': 'text', 'check-chars': 'text', group: 'text' },
    longOptional: ['all-repeated'],
    operands: 'uniq',
  },
  tr: { short: 'cCdst', long: ['complement', 'delete', 'squeeze-repeats', 'truncate-set1'], operands: 'text' },
  cut: {
    short: 'snz',
    shortValue: { d: 'text', f: 'text', c: 'text', b: 'text' },
    long: ['only-delimited', 'complement', 'zero-terminated'],
    longValue: { delimiter: 'text', fields: 'text', characters: 'text', bytes: 'text', 'output-delimiter': 'text' },
    operands: 'read',
  },
  mkdir: { short: 'pv', shortValue: { m: 'text' }, long: ['parents', 'verbose'], longValue: { mode: 'text' }, operands: 'write' },
  touch: {
    short: 'acmfh',
    shortValue: { d: 'text', t: 'text', r: 'read' },
    long: ['no-create', 'no-dereference'],
    longValue: { date: 'text', reference: 'read', time: 'text' },
    operands: 'write',
  },
  // No -l/-s (hard or symbolic links to the source instead of copies) and no -L (follow links in the source).
  cp: {
    short: 'rRapfinuvTPdx',
    shortValue: { t: 'write' },
    long: [
      'recursive',
      'archive',
      'force',
      'interactive',
      'no-clobber',
      'update',
      'verbose',
      'no-target-directory',
      'no-dereference',
      'parents',
      'one-file-system',
      'strip-trailing-slashes',
    ],
    longValue: { 'target-directory': 'write' },
    longOptional: ['preserve', 'no-preserve'],
    operands: 'copy',
    risky: {
      '-l': 'makes hard links that write through to the source',
      '--link': 'makes hard links that write through to the source',
      '-s': 'makes symbolic links',
      '--symbolic-link': 'makes symbolic links',
      '-L': 'follows symbolic links to anywhere',
      '--dereference': 'follows symbolic links to anywhere',
      '-S': 'names backup files',
      '--suffix': 'names backup files',
    },
  },
  mv: {
    short: 'finuvT',
    shortValue: { t: 'write' },
    long: ['force', 'interactive', 'no-clobber', 'update', 'verbose', 'no-target-directory', 'strip-trailing-slashes'],
    longValue: { 'target-directory': 'write' },
    operands: 'move',
    risky: { '-S': 'names backup files', '--suffix': 'names backup files' },
  },
  // Not on the default allow-list; a user who allows it gets these checks rather than "any options".
  find: { anyArgs: true, operands: 'find' },
};

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
