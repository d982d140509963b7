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
  'ls', 'cat', 'head', 'tail', 'wc', 'grep', 'rg', 'find', 'echo', 'printf', 'pwd', 'true', 'false', 'test', 'diff', 'sort', 'uniq',
  'mkdir', 'touch', 'cp', 'mv', 'sed', 'awk', 'tr', 'cut', 'git', 'node', 'npm', 'npx', 'tsc', 'python3', 'pytest', 'make',
];

const readPermissions = new Set(['read', 'glob', 'grep', 'list', 'lsp', 'codesearch', 'todoread']);
const editPermissions = new Set(['edit', 'write', 'patch', 'multiedit']);

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

/** The programs a command line runs, or undefined when it uses substitution we refuse to reason about. */
export function commandPrograms(command: string): string[] | undefined {
  if (/`|\$\(|<\(|>\(/.test(command)) return undefined;
  const segments = command.split(/&&|\|\||;|\||\n/).map((s) => s.trim()).filter(Boolean);
  const programs: string[] = [];
  for (const seg of segments) {
    // Skip leading VAR=value assignments.
    const words = seg.split(/\s+/).filter((w) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(w));
    if (!words.length) continue;
    programs.push(words[0].replace(/^.*\//, ''));
  }
  return programs;
}

export function decidePermission(req: PolicyRequest, config: PolicyConfig = { allowedCommands: defaultAllowedCommands }): PolicyVerdict {
  const perm = req.permission.toLowerCase();
  if (readPermissions.has(perm)) return { decision: 'allow', reason: 'reads are allowed' };
  if (editPermissions.has(perm)) {
    const outside = req.patterns.filter((p) => p !== '*' && !isInside(req.cwd, p));
    if (!req.patterns.length) return { decision: 'ask', reason: 'an edit without a path' };
    if (outside.length) return { decision: 'deny', reason: `edits outside the task's directory: ${outside.join(', ')}` };
    return { decision: 'allow', reason: "edits inside the task's directory" };
  }
  if (perm === 'bash') {
    if (!req.patterns.length) return { decision: 'ask', reason: 'a command without a command line' };
    for (const cmd of req.patterns) {
      const programs = commandPrograms(cmd);
      if (!programs) return { decision: 'ask', reason: `command substitution in ${JSON.stringify(cmd)}` };
      const denied = programs.filter((p) => !config.allowedCommands.includes(p));
      if (denied.length) return { decision: 'ask', reason: `not on the command allow-list: ${denied.join(', ')}` };
    }
    return { decision: 'allow', reason: 'every program is on the allow-list' };
  }
  if (perm === 'external_directory') return { decision: 'ask', reason: "access outside the task's directory" };
  return { decision: 'ask', reason: `no rule for ${JSON.stringify(req.permission)}` };
}
