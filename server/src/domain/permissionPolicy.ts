/**
 * Least privilege for agents (design.md §5): reads are allowed; edits only inside the task's directory
 * (its worktree); shell commands only when every program in the command line is on the allow-list;
 * anything else is asked of the user. Pure: paths are handled as POSIX strings, no node:path.
 */
export type PolicyVerdict = { decision: 'allow' | 'deny' | 'ask'; reason: string };

export interface PolicyRequest {
  /** Agent permission name: OpenCode's `read`, `edit`, `bash`, `webfetch`, `external_directory`, …; ACP kinds map onto these. */
  permission: string;
  /** Paths for file permissions, command lines for `bash`, URLs for fetches. */
  patterns: string[];
  /** The task's directory; absolute. */
  cwd: string;
}

export interface PolicyConfig {
  /** Programs allowed in shell commands (first word of each pipeline segment). */
  allowedCommands: readonly string[];
}

export const defaultAllowedCommands: readonly string[] = [
  'ls', 'cat', 'head', 'tail', 'wc', 'grep', 'rg', 'echo', 'printf', 'pwd', 'true', 'false', 'test', 'diff', 'sort', 'uniq',
  'mkdir', 'touch', 'cp', 'mv', 'tr', 'cut', 'git',
];
/** git subcommands allowed without asking (no config, no hooks, nothing that leaves the work tree). */
export const allowedGitSubcommands: readonly string[] = ['status', 'diff', 'log', 'show', 'add', 'ls-files', 'rev-parse', 'blame', 'grep'];

const readPermissions = new Set(['read', 'glob', 'grep', 'list', 'lsp', 'codesearch', 'todoread']);
const editPermissions = new Set(['edit', 'write', 'patch', 'multiedit']);
/** Files that usually hold secrets: reading them is asked even inside the task's folder. */
const secretPath = /(^|\/)(\.env(\.[^/]*)?|\.npmrc|\.netrc|\.pgpass|id_(rsa|dsa|ecdsa|ed25519)[^/]*|[^/]*\.(pem|key|p12|pfx))$|(^|\/)\.(ssh|aws|gnupg|docker|kube)(\/|$)/i;

/** Normalise a POSIX path: resolve `.`/`..` against `cwd` when relative. */
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

/**
 * The segments of a command line as word lists, or a reason to ask: expansions, substitutions,
 * redirections, environment prefixes and path-qualified programs are not reasoned about.
 */
export function commandSegments(command: string): { segments: string[][] } | { ask: string } {
  if (/[`$]/.test(command)) return { ask: 'variable expansion or command substitution' };
  if (/[<>]/.test(command)) return { ask: 'a redirection' };
  const segments = command.split(/&&|\|\||;|\||&|\n/).map((s) => s.trim()).filter(Boolean).map((s) => s.split(/\s+/));
  for (const words of segments) {
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0])) return { ask: `an environment prefix (${words[0].split('=')[0]}=…)` };
    if (words[0].includes('/')) return { ask: `a program given by path (${words[0]})` };
  }
  return { segments };
}

/** The programs a command line runs (first word of each segment), or undefined when it needs asking. */
export function commandPrograms(command: string): string[] | undefined {
  const r = commandSegments(command);
  return 'ask' in r ? undefined : r.segments.map((w) => w[0]);
}

function checkCommand(cmd: string, cwd: string, config: PolicyConfig): PolicyVerdict | undefined {
  const r = commandSegments(cmd);
  if ('ask' in r) return { decision: 'ask', reason: `${r.ask} in ${JSON.stringify(cmd)}` };
  for (const words of r.segments) {
    const [program, ...args] = words;
    if (!config.allowedCommands.includes(program)) return { decision: 'ask', reason: `not on the command allow-list: ${program}` };
    if (program === 'git') {
      const sub = args[0] ?? '';
      if (!allowedGitSubcommands.includes(sub)) return { decision: 'ask', reason: `git ${sub || '(no subcommand)'} is not allowed without asking` };
    }
    const outside = args.filter((a) => !a.startsWith('-') && (a.startsWith('/') || a.startsWith('~') || a.includes('..')) && (a.startsWith('~') || !isInside(cwd, a)));
    if (outside.length) return { decision: 'ask', reason: `paths outside the task's directory: ${outside.join(', ')}` };
    const secrets = args.filter((a) => secretPath.test(a));
    if (secrets.length) return { decision: 'ask', reason: `files that usually hold secrets: ${secrets.join(', ')}` };
  }
  return undefined;
}

export function decidePermission(req: PolicyRequest, config: PolicyConfig = { allowedCommands: defaultAllowedCommands }): PolicyVerdict {
  const perm = req.permission.toLowerCase();
  if (readPermissions.has(perm)) {
    const secret = req.patterns.filter((p) => secretPath.test(p));
    if (secret.length) return { decision: 'ask', reason: `files that usually hold secrets: ${secret.join(', ')}` };
    return { decision: 'allow', reason: 'reads are allowed' };
  }
  if (editPermissions.has(perm)) {
    if (!req.patterns.length || req.patterns.includes('*')) return { decision: 'ask', reason: 'an edit without a specific path' };
    const outside = req.patterns.filter((p) => !isInside(req.cwd, p));
    if (outside.length) return { decision: 'deny', reason: `edits outside the task's directory: ${outside.join(', ')}` };
    return { decision: 'allow', reason: "edits inside the task's directory" };
  }
  if (perm === 'bash') {
    if (!req.patterns.length) return { decision: 'ask', reason: 'a command without a command line' };
    for (const cmd of req.patterns) {
      const verdict = checkCommand(cmd, req.cwd, config);
      if (verdict) return verdict;
    }
    return { decision: 'allow', reason: 'every program is on the allow-list' };
  }
  if (perm === 'external_directory') return { decision: 'ask', reason: "access outside the task's directory" };
  return { decision: 'ask', reason: `no rule for ${JSON.stringify(req.permission)}` };
}
