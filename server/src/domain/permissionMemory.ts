/**
 * "Always for this session": allow rules the user granted while answering a permission ask, remembered per
 * scope (a session: all its tasks and runs; a single run without a session: that run). Pure, in memory.
 *
 * A rule is as narrow as the ask it came from, never broader:
 * - the same permission kind (`bash`, `edit`, `read`, …) and the same tool kind of the agent (ACP's `read`,
 *   `edit`, `delete`, `move`, `execute`, `search`: a remembered `edit` does not cover a `delete`);
 * - exactly the same patterns, in the same order (the same paths as written, the same commands):
 *   no prefix, glob or "program only" matching, so `uname -a` or `uname; rm x` do not match `uname`, and
 *   `src/../x` does not match `x`;
 * - for commands, the same whole command line (trimmed, otherwise byte for byte). OpenCode's patterns are the
 *   commands it found in the line and drop `cd x &&`, `;`/`&&`/`|` and repeats, so `cd /etc && npm test` has
 *   the same patterns as `npm test`; the line tells them apart. A command whose whole line is unknown is
 *   never remembered;
 * - the same real paths: where each path the ask names (or a command uses) really leads, relative to the
 *   task's folder when inside it, so a path that became a symlink to elsewhere asks again;
 * - for commands, the same working folder relative to the task's folder (a session's tasks each have their
 *   own worktree, so the same command in the same relative place matches across its tasks).
 *
 * Never remembered (answered once, asked again next time): a tool kind that says nothing certain about what
 * the tool does (ACP `other`, `think`, `switch_mode`, no kind at all) and `fetch` (what a URL returns or
 * redirects to changes from one call to the next); a command without its whole command line.
 *
 * Rules are only consulted when the policy would ask: a policy `deny` (a write outside the worktree, a
 * secret) is never overridden. Asks that are too broad to remember (no pattern, a bare wildcard) are
 * answered once and not remembered.
 */

export type RememberScope = 'session' | 'run';

/** What a remembered rule is compared on. */
export interface RememberableAsk {
  permission: string;
  /** The agent's own tool kind when it has one (ACP: `read`, `edit`, `delete`, `execute`, `other`, …). */
  toolKind?: string;
  patterns: readonly string[];
  /** For commands: the whole command line as the agent will run it. */
  commandLine?: string;
  /** Where each path of the ask really leads (symlinks resolved), in the policy's order. */
  realPaths?: readonly string[];
  /** The task's folder with symlinks resolved (what `realPaths` are made relative to); defaults to `taskFolder`. */
  realTaskFolder?: string;
  /** The task's folder (its worktree); absolute. */
  taskFolder: string;
  /** The folder a command runs in when the agent chose one (bash `workdir`); defaults to the task's folder. */
  commandCwd?: string;
}

export interface PermissionRule {
  permission: string;
  toolKind?: string;
  patterns: readonly string[];
  /** The whole command line (commands only), trimmed. */
  commandLine?: string;
  /** The real paths, relative to the task's real folder when inside it, else absolute. */
  paths: readonly string[];
  /** The command's folder relative to the task's folder (`.` for the folder itself), or absolute when outside. */
  where: string;
}

/** Patterns that stand for "anything": never remembered. */
const tooBroad = /^[*?/\\.\s]*$/;

/** Agent tool kinds (ACP) whose asks may be remembered; any other kind is answered once. */
export const rememberableToolKinds: readonly string[] = ['read', 'edit', 'delete', 'move', 'execute', 'search'];

const isCommand = (ask: RememberableAsk) => ask.permission === 'bash' || ask.toolKind === 'execute';
const lineOf = (ask: RememberableAsk) => ask.commandLine?.trim() || undefined;

/** Why an ask cannot be remembered, or undefined when it can. */
export function whyNotRememberable(ask: RememberableAsk): string | undefined {
  if (!ask.permission) return 'the ask names no permission';
  if (ask.toolKind !== undefined && !rememberableToolKinds.includes(ask.toolKind))
    return `the tool kind ${JSON.stringify(ask.toolKind)} does not say exactly what the tool does`;
  if (isCommand(ask) && !lineOf(ask)) return 'the whole command line is unknown';
  if (ask.patterns.length === 0) return 'the ask names nothing specific (no pattern)';
  const broad = ask.patterns.find((p) => tooBroad.test(p));
  if (broad !== undefined) return `the pattern ${JSON.stringify(broad)} stands for anything`;
  return undefined;
}

const trimSlash = (p: string) => (p.length > 1 ? p.replace(/\/+$/, '') : p);

/** The command's folder relative to the task's folder; lexical, no `..` resolution (a `..` makes it differ). */
export function relativeWhere(taskFolder: string, commandCwd: string | undefined): string {
  if (commandCwd === undefined || commandCwd === '') return '.';
  const base = trimSlash(taskFolder);
  const dir = trimSlash(commandCwd);
  if (dir === base) return '.';
  if (dir.startsWith(`${base}/`)) return dir.slice(base.length + 1);
  return dir;
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

const realPathsOf = (ask: RememberableAsk) => (ask.realPaths ?? []).map((p) => relativeWhere(ask.realTaskFolder ?? ask.taskFolder, p));

/** The rule an answer "always" creates for this ask; undefined when the ask cannot be remembered. */
export function ruleFor(ask: RememberableAsk): PermissionRule | undefined {
  if (whyNotRememberable(ask)) return undefined;
  const line = isCommand(ask) ? lineOf(ask) : undefined;
  return {
    permission: ask.permission,
    ...(ask.toolKind !== undefined ? { toolKind: ask.toolKind } : {}),
    patterns: [...ask.patterns],
    ...(line !== undefined ? { commandLine: line } : {}),
    paths: realPathsOf(ask),
    where: relativeWhere(ask.taskFolder, ask.commandCwd),
  };
}

/** Whether `rule` allows `ask`: same kinds, the very same patterns, command line and real paths, the same place. */
export function ruleMatches(rule: PermissionRule, ask: RememberableAsk): boolean {
  if (whyNotRememberable(ask)) return false;
  if (rule.permission !== ask.permission || rule.toolKind !== ask.toolKind) return false;
  if (!sameList(rule.patterns, ask.patterns)) return false;
  if (rule.commandLine !== (isCommand(ask) ? lineOf(ask) : undefined)) return false;
  if (!sameList(rule.paths, realPathsOf(ask))) return false;
  return rule.where === relativeWhere(ask.taskFolder, ask.commandCwd);
}

/** The key of a scope: `session:<id>` or `run:<id>`. */
export function scopeKey(s: { sessionId?: string; runId: string }): { key: string; scope: RememberScope } {
  return s.sessionId ? { key: `session:${s.sessionId}`, scope: 'session' } : { key: `run:${s.runId}`, scope: 'run' };
}

/** At most this many rules per scope; the oldest goes first. */
export const maxRulesPerScope = 200;

/** Remembered allow rules by scope key. */
export class PermissionMemory {
  private readonly rules = new Map<string, PermissionRule[]>();

  /** Remembers an allow rule for `ask` in `scope`; returns it, or undefined when the ask cannot be remembered. */
  remember(scope: string, ask: RememberableAsk): PermissionRule | undefined {
    const rule = ruleFor(ask);
    if (!rule) return undefined;
    const list = this.rules.get(scope) ?? [];
    if (list.some((r) => ruleMatches(r, ask))) return rule;
    this.rules.set(scope, [...list, rule].slice(-maxRulesPerScope));
    return rule;
  }

  /** The rule of `scope` that allows `ask`, if any. */
  find(scope: string, ask: RememberableAsk): PermissionRule | undefined {
    return this.rules.get(scope)?.find((r) => ruleMatches(r, ask));
  }

  /** The rules of a scope (a copy), oldest first. */
  list(scope: string): PermissionRule[] {
    return [...(this.rules.get(scope) ?? [])];
  }

  forget(scope: string): void {
    this.rules.delete(scope);
  }
}
