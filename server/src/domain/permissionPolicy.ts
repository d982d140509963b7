/**
 * Least privilege for agents (design.md §5). Every path is judged by where it really is: the caller resolves
 * each path named by `requestPaths` (symlinks included: realpath of the nearest existing parent plus the rest)
 * and passes the results in `resolved`; this module stays pure.
 *
 * - Reads (`read`, and paths a command reads): inside the task's folder or the user's repository → allow;
 *   secret locations (`/etc/shadow`, `~/.ssh`, `~/.aws`, private keys, …) → deny; secret-looking files inside
 *   (`.env`, `*.pem`) → ask; anywhere else → ask.
 * - Edits: only inside the task's folder, by lexical and by real path, and never git's own files (`.git`);
 *   anything else → deny.
 * - `external_directory` (the agent wants a folder outside its own): the task's folder or the repository
 *   for a file tool → allow (the read or edit that follows is judged on its own); secret → deny; else ask.
 * - Commands (`bash`): parsed by `policy/shellWords.ts`; every program must be on the allow-list, and
 *   programs with a table in `policy/programSpecs.ts` may only use options known to be safe (options that
 *   write files or run programs ask); what they read is judged as a read, what they write must be inside
 *   the task's folder. Programs that run other programs (`sh -c`, `xargs`, `env`, `eval`, …) always ask.
 *   A user-added program without a table may use any option, but its path-like arguments are still judged.
 * - Anything else → ask.
 */
import { lexCommand, type ShellWord } from './policy/shellWords';
import { gitGlobalFlags, gitGlobalRisky, gitSubcommands } from './policy/gitRules';
import { parseFind, parseOptions, type ParsedArg } from './policy/programRules';
import { programSpecs, type ArgKind } from './policy/programSpecs';

export type PolicyVerdict = { decision: 'allow' | 'deny' | 'ask'; reason: string };

export interface PolicyRequest {
  /** Agent permission name: OpenCode's `read`, `edit`, `bash`, `webfetch`, `external_directory`, …; ACP kinds map onto these. */
  permission: string;
  /** Paths for file permissions, command lines for `bash`, URLs for fetches. */
  patterns: string[];
  /** The task's directory; absolute. */
  cwd: string;
  /** The user's repository (reads inside it are allowed); absolute. Defaults to `cwd`. */
  repoRoot?: string;
  /** What relative file patterns are relative to (OpenCode: the project's root); defaults to `cwd`. */
  patternBase?: string;
  /** The folder a command runs in when the agent chose one (bash `workdir`); defaults to `cwd`. */
  commandCwd?: string;
  /** An absolute file path the agent reported with the request (`metadata.filepath`); judged like a pattern. */
  filepath?: string;
  /** The user's home folder: secret locations (`~/.ssh`, …) and `~` in commands. */
  home?: string;
  /** Real paths: each path of `requestPaths` → where it really is. A path missing here is taken as is. */
  resolved?: Readonly<Record<string, string>>;
  /** What each wildcard of `requestGlobs` matches (`null`: too many to judge); each match is then judged like a named path. */
  expanded?: Readonly<Record<string, readonly string[] | null>>;
}

export interface PolicyConfig {
  /** Programs allowed in shell commands (first word of each segment). */
  allowedCommands: readonly string[];
}

/**
 * Programs allowed without asking. `node`, `npm` and other runtimes are deliberately absent: they execute
 * code the agent may just have written. Users add them (`--allow node`, the config's allow-list).
 */
export const defaultAllowedCommands: readonly string[] = [
  'ls',
  'cat',
  'head',
  'tail',
  'wc',
  'grep',
  'rg',
  'echo',
  'printf',
  'pwd',
  'true',
  'false',
  'test',
  'diff',
  'sort',
  'uniq',
  'mkdir',
  'touch',
  'cp',
  'mv',
  'tr',
  'cut',
  'git',
];
/** Programs that run other programs: always asked, even when a user puts them on the allow-list. */
export const programRunners: readonly string[] = [
  'eval',
  'exec',
  'xargs',
  'env',
  'sh',
  'bash',
  'zsh',
  'dash',
  'ksh',
  'fish',
  'csh',
  'tcsh',
  'sudo',
  'su',
  'doas',
  'nohup',
  'nice',
  'timeout',
  'time',
  'command',
  'builtin',
  'source',
  '.',
  'watch',
  'parallel',
  'setsid',
  'chroot',
  'unshare',
  'nsenter',
  'strace',
  'ltrace',
  'gdb',
  'script',
  'busybox',
  'stdbuf',
  'ionice',
  'flock',
];

const readPermissions = new Set(['read']);
/** Permissions whose patterns are not paths (their folders are guarded by `external_directory`). */
const harmlessPermissions = new Set(['glob', 'grep', 'list', 'lsp', 'codesearch', 'todoread', 'todowrite']);
const editPermissions = new Set(['edit', 'write', 'patch', 'multiedit']);

/** System places that hold secrets: never read. */
const systemSecret =
  /^(\/etc\/(shadow|gshadow|sudoers|master\.passwd)(\/|$|-)|\/etc\/sudoers\.d(\/|$)|\/etc\/ssh\/ssh_host_[^/]*_key$|\/proc\/[^/]+\/(environ|mem|cmdline|auxv)$|\/var\/run\/secrets(\/|$)|\/run\/secrets(\/|$))/;
/** Folders or files under a home folder that hold credentials: never read. */
const homeSecrets = [
  '.ssh',
  '.aws',
  '.gnupg',
  '.config/gcloud',
  '.azure',
  '.kube',
  '.docker',
  '.netrc',
  '.git-credentials',
  '.config/gh',
  '.password-store',
  '.pgpass',
  '.npmrc',
  '.pypirc',
  '.cargo/credentials',
  '.cargo/credentials.toml',
  '.config/git/credentials',
  '.local/share/keyrings',
  '.vault-token',
  '.bash_history',
  '.zsh_history',
];
/** Credential folders wherever they are (another user's home, a copied folder). */
const secretDir = /(^|\/)\.(ssh|aws|gnupg)(\/|$)/;
/** Files that usually hold secrets, by name: asked inside the task's folder or repository, denied elsewhere. */
const secretFile =
  /(^|\/)(\.env(\.(?!example$|sample$|template$|dist$)[^/]*)?|\.netrc|\.pgpass|\.git-credentials|id_(rsa|dsa|ecdsa|ed25519)|[^/]*\.(pem|key|p12|pfx|jks|keystore))$/i;

/** Normalise a POSIX path: resolve `.`/`..` lexically against `cwd` when relative. */
export function resolvePosix(cwd: string, p: string): string {
  const parts = (p.startsWith('/') ? p : `${cwd}/${p}`).split('/');
  const out: string[] = [];
  for (const part of parts) {
    if (!part || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return `/${out.join('/')}`;
}

export function isInside(dir: string, p: string): boolean {
  const d = resolvePosix('/', dir);
  const r = resolvePosix(d, p);
  return r === d || r.startsWith(`${d}/`);
}

/** `p` joined to `base` without normalising (`..` after a symlink must be resolved by the resolver). */
export function absoluteRaw(base: string, p: string): string {
  return p.startsWith('/') ? p : `${base.replace(/\/+$/, '')}/${p}`;
}

/** The segments of a command line as word lists, or a reason to ask (see policy/shellWords.ts). */
export function commandSegments(command: string): { segments: string[][] } | { ask: string } {
  const r = lexCommand(command);
  return 'ask' in r ? r : { segments: r.segments.map((s) => s.words.map((w) => w.text)) };
}

/** The programs a command line runs (first word of each segment), or undefined when it needs asking. */
export function commandPrograms(command: string): string[] | undefined {
  const r = commandSegments(command);
  return 'ask' in r ? undefined : r.segments.map((w) => w[0]);
}

type Access = 'read' | 'write';
interface PathUse {
  raw: string;
  abs: string;
  access: Access;
}
type Analysis = { uses: PathUse[]; globs: string[]; ask?: string };

function home(req: PolicyRequest): string {
  return req.home ?? '/nonexistent-home';
}

/** A word that names a path, as an absolute raw path; undefined when it cannot be judged (`~user`). */
function wordPath(word: ShellWord, base: string, req: PolicyRequest): string | undefined {
  let t = word.text;
  if (word.tilde) {
    if (t !== '~' && !t.startsWith('~/')) return undefined;
    t = `${home(req)}${t.slice(1)}`;
  }
  // A wildcard is judged by the folder it searches (`src/*.ts` → `src`) and by what it matches (see analyzeCommand).
  if (word.glob) {
    const fixed = t.slice(0, t.search(/[*?[]/));
    t = fixed.includes('/') ? fixed.slice(0, fixed.lastIndexOf('/')) || '/' : '.';
  }
  return absoluteRaw(base, t || '.');
}

function analyzeCommand(command: string, req: PolicyRequest, config: PolicyConfig): Analysis {
  const lexed = lexCommand(command);
  if ('ask' in lexed) return { uses: [], globs: [], ask: `${lexed.ask} in ${JSON.stringify(command)}` };
  const uses: PathUse[] = [];
  const globs: string[] = [];
  const ask = (reason: string): Analysis => ({ uses, globs, ask: reason });
  let base = req.commandCwd ?? req.cwd;
  if (req.commandCwd) uses.push({ raw: req.commandCwd, abs: req.commandCwd, access: 'read' });
  for (const seg of lexed.segments) {
    const [first, ...rest] = seg.words;
    const program = first.text;
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(program)) return ask(`an environment prefix (${program.split('=')[0]}=…)`);
    if (program.includes('/') || first.tilde) return ask(`a program given by path (${program})`);
    if (first.glob) return ask(`a wildcard as the program (${program})`);
    if (programRunners.includes(program)) return ask(`${program} runs other programs`);
    // `cd` (a shell builtin) is always understood: it only changes where the next commands' paths are judged.
    if (program !== 'cd' && !config.allowedCommands.includes(program)) return ask(`not on the command allow-list: ${program}`);
    if (program === 'cd') {
      // The next commands run in that folder; only followed by && or ; (a pipe or || would not carry it over).
      if (rest.length !== 1 || rest[0].text.startsWith('-') || rest[0].glob) return ask('cd needs exactly one folder');
      if (seg.sep !== '&&' && seg.sep !== ';' && seg.sep !== '') return ask(`cd followed by ${seg.sep}`);
      const dir = wordPath(rest[0], base, req);
      if (!dir) return ask(`a path that cannot be judged (${rest[0].text})`);
      uses.push({ raw: rest[0].text, abs: dir, access: 'read' });
      base = dir;
      continue;
    }
    const parsed = parseProgram(program, rest);
    if ('ask' in parsed) return ask(parsed.ask);
    for (const a of parsed.uses) {
      if (a.word.glob && a.access === 'write') return ask(`a wildcard in a path ${program} writes (${a.word.text})`);
      const abs = wordPath(a.word, base, req);
      if (!abs) return ask(`a path that cannot be judged (${a.word.text})`);
      uses.push({ raw: a.word.text, abs, access: a.access });
      if (a.word.glob) {
        // What the shell will pass: every match is judged (a committed symlink matched by `*` included).
        const pattern = absoluteRaw(base, a.word.tilde ? `${home(req)}${a.word.text.slice(1)}` : a.word.text);
        globs.push(pattern);
        const matches = req.expanded?.[pattern];
        if (matches === null) return ask(`a wildcard that matches too many files to judge (${a.word.text})`);
        for (const m of matches ?? []) uses.push({ raw: m, abs: m, access: a.access });
      }
    }
  }
  return { uses, globs };
}

/** What a program's arguments read and write, or why it must be asked. */
function parseProgram(program: string, words: ShellWord[]): { uses: { word: ShellWord; access: Access }[] } | { ask: string } {
  if (program === 'git') return parseGit(words);
  const spec = programSpecs[program];
  if (!spec) {
    // A user-added program without a table: any option, but every path-like argument is judged as a read.
    const uses = words.flatMap((w) => {
      const eq = w.text.startsWith('-') ? w.text.indexOf('=') : -1;
      const word = eq >= 0 ? { text: w.text.slice(eq + 1), glob: w.glob, tilde: w.text[eq + 1] === '~' } : w;
      return word.text && (eq >= 0 || !w.text.startsWith('-')) ? [{ word, access: 'read' as const }] : [];
    });
    return { uses };
  }
  const parsed = spec.operands === 'find' ? parseFind(words) : parseOptions(program, spec, words);
  if ('ask' in parsed) return parsed;
  return operandUses(program, spec.operands, parsed.args);
}

function parseGit(words: ShellWord[]): { uses: { word: ShellWord; access: Access }[] } | { ask: string } {
  let i = 0;
  for (; i < words.length && words[i].text.startsWith('-'); i++) {
    const name = words[i].text.split('=')[0];
    if (gitGlobalRisky[name]) return { ask: `git ${name} ${gitGlobalRisky[name]}` };
    if (!gitGlobalFlags.includes(name)) return { ask: `git ${name} is not an option known to be safe` };
  }
  const sub = words[i]?.text ?? '';
  const spec = gitSubcommands[sub];
  if (!spec) return { ask: `git ${sub || '(no subcommand)'} is not allowed without asking` };
  const rest = words.slice(i + 1);
  const parsed = parseOptions(`git ${sub}`, spec, rest);
  if ('ask' in parsed) return parsed;
  if (sub === 'branch' && parsed.args.some((a) => a.kind === 'operand') && !rest.some((w) => w.text === '--list' || w.text === '-l')) {
    return { ask: 'git branch with a name creates, renames or deletes branches' };
  }
  return operandUses(`git ${sub}`, 'git', parsed.args);
}

function operandUses(program: string, rule: string, args: ParsedArg[]): { uses: { word: ShellWord; access: Access }[] } | { ask: string } {
  const uses: { word: ShellWord; access: Access }[] = [];
  const byKind = (k: ArgKind | 'operand') => args.filter((a) => a.kind === k).map((a) => a.word);
  for (const w of byKind('read')) uses.push({ word: w, access: 'read' });
  for (const w of byKind('write')) uses.push({ word: w, access: 'write' });
  let operands = byKind('operand');
  switch (rule) {
    case 'read':
    case 'git':
    case 'find':
      for (const w of operands) uses.push({ word: w, access: 'read' });
      break;
    case 'write':
      for (const w of operands) uses.push({ word: w, access: 'write' });
      break;
    case 'grep':
      if (!byKind('pattern').length && !byKind('read').length) operands = operands.slice(1);
      for (const w of operands) uses.push({ word: w, access: 'read' });
      break;
    case 'copy':
    case 'move': {
      const targetDir = byKind('write').length > 0;
      const sources = targetDir ? operands : operands.slice(0, -1);
      if (!targetDir && operands.length) uses.push({ word: operands[operands.length - 1], access: 'write' });
      // mv removes its sources, so they are written too.
      for (const w of sources) uses.push({ word: w, access: rule === 'move' ? 'write' : 'read' });
      break;
    }
    case 'uniq':
      if (operands.length > 1) return { ask: `${program} writes its second operand (${operands[1].text})` };
      for (const w of operands) uses.push({ word: w, access: 'read' });
      break;
    default:
      break;
  }
  return { uses };
}

/** The wildcards (absolute, raw) whose matches the caller lists in `expanded` before asking for `requestPaths`. */
export function requestGlobs(req: PolicyRequest, config: PolicyConfig = { allowedCommands: defaultAllowedCommands }): string[] {
  if (req.permission.toLowerCase() !== 'bash') return [];
  return [...new Set(req.patterns.flatMap((cmd) => analyzeCommand(cmd, req, config).globs))];
}

/** Every absolute path the policy will look up in `resolved` for this request (the caller resolves them). */
export function requestPaths(req: PolicyRequest, config: PolicyConfig = { allowedCommands: defaultAllowedCommands }): string[] {
  const out = new Set<string>([req.cwd, req.repoRoot ?? req.cwd]);
  for (const p of filePatterns(req)) out.add(p);
  if (req.permission.toLowerCase() === 'bash')
    for (const cmd of req.patterns) for (const u of analyzeCommand(cmd, req, config).uses) out.add(u.abs);
  return [...out];
}

/** The file paths a file permission names, absolute (raw). */
function filePatterns(req: PolicyRequest): string[] {
  const perm = req.permission.toLowerCase();
  const base = req.patternBase ?? req.cwd;
  if (perm === 'external_directory') return req.patterns.map((p) => absoluteRaw(base, p.replace(/\/\*+$/, '') || '/'));
  if (!readPermissions.has(perm) && !editPermissions.has(perm)) return [];
  const list = req.patterns.filter((p) => p !== '*' && p !== '').map((p) => absoluteRaw(base, p));
  if (req.filepath?.startsWith('/')) list.push(req.filepath);
  return list;
}

interface Place {
  lexical: string;
  real: string;
}

function place(req: PolicyRequest, abs: string): Place {
  return { lexical: resolvePosix('/', abs), real: resolvePosix('/', req.resolved?.[abs] ?? abs) };
}

function roots(req: PolicyRequest): { task: Place; repo: Place } {
  return { task: place(req, req.cwd), repo: place(req, req.repoRoot ?? req.cwd) };
}

/** Where a read lands is where it really is. */
const readsIn = (root: Place, p: Place) => isInside(root.real, p.real) || isInside(root.lexical, p.real);
/** A write must be inside both as written and as resolved (a link out of the folder, or into it from outside, is refused). */
const inPlace = (root: Place, p: Place) => readsIn(root, p) && (isInside(root.lexical, p.lexical) || isInside(root.real, p.lexical));

function secretLocation(req: PolicyRequest, p: string): boolean {
  if (systemSecret.test(p) || secretDir.test(p)) return true;
  const h = req.home;
  return !!h && homeSecrets.some((s) => isInside(`${h}/${s}`, p));
}

/** The verdict on reading `abs` (`raw` is how the agent wrote it, for the reason). */
function judgeRead(req: PolicyRequest, raw: string, abs: string): PolicyVerdict {
  const p = place(req, abs);
  const via = p.real !== p.lexical ? ` (really ${p.real})` : '';
  if (secretLocation(req, p.real) || secretLocation(req, p.lexical))
    return { decision: 'deny', reason: `a place that holds secrets: ${raw}${via}` };
  const { task, repo } = roots(req);
  const inside = readsIn(task, p) || readsIn(repo, p);
  if (secretFile.test(p.real) || secretFile.test(p.lexical)) {
    return inside
      ? { decision: 'ask', reason: `a file that usually holds secrets: ${raw}${via}` }
      : { decision: 'deny', reason: `a file that usually holds secrets, outside the repository: ${raw}${via}` };
  }
  if (inside) return { decision: 'allow', reason: 'reads inside the task folder or the repository' };
  return { decision: 'ask', reason: `a read outside the task folder and the repository: ${raw}${via}` };
}

/** The verdict on writing `abs`: inside the task's folder (really), and not git's own files. */
function judgeWrite(req: PolicyRequest, raw: string, abs: string, outside: 'deny' | 'ask'): PolicyVerdict {
  const p = place(req, abs);
  const { task } = roots(req);
  if (!inPlace(task, p)) {
    const via =
      p.real !== p.lexical
        ? ` (it resolves to ${p.real}${isInside(task.real, p.lexical) || isInside(task.lexical, p.lexical) ? ' through a symbolic link' : ''})`
        : '';
    return { decision: outside, reason: `a write outside the task's directory: ${raw}${via}` };
  }
  const rel = p.real.slice(task.real.length);
  if (/(^|\/)\.git(\/|$)/.test(rel) || /(^|\/)\.git(\/|$)/.test(p.lexical.slice(task.lexical.length))) {
    return { decision: outside, reason: `git's own files (configuration and hooks make git run programs): ${raw}` };
  }
  return { decision: 'allow', reason: "writes inside the task's directory" };
}

/** The strictest verdict: deny over ask over allow (the first reason of that kind). */
function strictest(verdicts: PolicyVerdict[], allow: PolicyVerdict): PolicyVerdict {
  return verdicts.find((v) => v.decision === 'deny') ?? verdicts.find((v) => v.decision === 'ask') ?? allow;
}

export function decidePermission(req: PolicyRequest, config: PolicyConfig = { allowedCommands: defaultAllowedCommands }): PolicyVerdict {
  const perm = req.permission.toLowerCase();
  if (readPermissions.has(perm)) {
    const paths = filePatterns(req);
    if (!paths.length) return { decision: 'ask', reason: 'a read without a specific path' };
    return strictest(
      paths.map((p) => judgeRead(req, p, p)),
      { decision: 'allow', reason: 'reads inside the task folder or the repository' },
    );
  }
  if (harmlessPermissions.has(perm)) return { decision: 'allow', reason: `${perm} is confined to allowed folders by external_directory` };
  if (editPermissions.has(perm)) {
    if (!req.patterns.length || req.patterns.includes('*')) return { decision: 'ask', reason: 'an edit without a specific path' };
    return strictest(
      filePatterns(req).map((p) => judgeWrite(req, p, p, 'deny')),
      { decision: 'allow', reason: "edits inside the task's directory" },
    );
  }
  if (perm === 'external_directory') {
    const dirs = filePatterns(req);
    if (!dirs.length) return { decision: 'ask', reason: 'access outside the task folder without a path' };
    const { task, repo } = roots(req);
    const verdicts = dirs.map((d): PolicyVerdict => {
      const p = place(req, d);
      if (secretLocation(req, p.real) || secretLocation(req, p.lexical))
        return { decision: 'deny', reason: `a place that holds secrets: ${d}` };
      if (readsIn(task, p)) return { decision: 'allow', reason: "inside the task's directory" };
      // A file tool's later read or edit is judged on its own; a command's working folder is not.
      if (readsIn(repo, p) && req.filepath)
        return { decision: 'allow', reason: 'a file in the repository (the read or edit is judged next)' };
      return { decision: 'ask', reason: `access outside the task's directory: ${d}` };
    });
    return strictest(verdicts, { decision: 'allow', reason: 'inside the task folder or the repository' });
  }
  if (perm === 'bash') {
    if (!req.patterns.length) return { decision: 'ask', reason: 'a command without a command line' };
    const verdicts: PolicyVerdict[] = [];
    let firstAsk: PolicyVerdict | undefined;
    for (const cmd of req.patterns) {
      const a = analyzeCommand(cmd, req, config);
      // Every command is judged: an earlier one that needs asking must not hide a later one that is denied.
      if (a.ask) {
        firstAsk ??= { decision: 'ask', reason: a.ask };
        continue;
      }
      for (const u of a.uses) verdicts.push(u.access === 'read' ? judgeRead(req, u.raw, u.abs) : judgeWrite(req, u.raw, u.abs, 'ask'));
    }
    const denied = verdicts.find((x) => x.decision === 'deny');
    if (!denied && firstAsk) return firstAsk;
    const v = strictest(verdicts, { decision: 'allow', reason: 'allow-listed programs with safe options, inside allowed folders' });
    return v.decision === 'allow' ? v : { decision: v.decision, reason: `${v.reason} (in ${JSON.stringify(req.patterns.join(' ; '))})` };
  }
  return { decision: 'ask', reason: `no rule for ${JSON.stringify(req.permission)}` };
}
