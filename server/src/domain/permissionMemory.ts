/**
 * "Always for this session": allow rules the user granted while answering a permission ask, remembered per
 * scope (a session: all its tasks and runs; a single run without a session: that run). Pure, in memory.
 *
 * A rule is as narrow as the ask it came from, never broader:
 * - the same permission kind (`bash`, `edit`, `read`, …);
 * - exactly the same patterns, in the same order (the whole command line, or the same paths as written):
 *   no prefix, glob or "program only" matching, so `uname -a` or `uname; rm x` do not match `uname`, and
 *   `src/../x` does not match `x`;
 * - for commands, the same working folder relative to the task's folder (a session's tasks each have their
 *   own worktree, so the same command in the same relative place matches across its tasks).
 *
 * Rules are only consulted when the policy would ask: a policy `deny` (a write outside the worktree, a
 * secret) is never overridden. Asks that are too broad to remember (no pattern, a bare wildcard) are
 * answered once and not remembered.
 */

export type RememberScope = 'session' | 'run';

/** What a remembered rule is compared on. */
export interface RememberableAsk {
  permission: string;
  patterns: readonly string[];
  /** The task's folder (its worktree); absolute. */
  taskFolder: string;
  /** The folder a command runs in when the agent chose one (bash `workdir`); defaults to the task's folder. */
  commandCwd?: string;
}

export interface PermissionRule {
  permission: string;
  patterns: readonly string[];
  /** The command's folder relative to the task's folder (`.` for the folder itself), or absolute when outside. */
  where: string;
}

/** Patterns that stand for "anything": never remembered. */
const tooBroad = /^[*?/\\.\s]*$/;

/** Why an ask cannot be remembered, or undefined when it can. */
export function whyNotRememberable(ask: RememberableAsk): string | undefined {
  if (!ask.permission) return 'the ask names no permission';
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

/** The rule an answer "always" creates for this ask; undefined when the ask cannot be remembered. */
export function ruleFor(ask: RememberableAsk): PermissionRule | undefined {
  if (whyNotRememberable(ask)) return undefined;
  return { permission: ask.permission, patterns: [...ask.patterns], where: relativeWhere(ask.taskFolder, ask.commandCwd) };
}

/** Whether `rule` allows `ask`: same kind, the very same patterns, the same place. */
export function ruleMatches(rule: PermissionRule, ask: RememberableAsk): boolean {
  if (rule.permission !== ask.permission) return false;
  if (rule.patterns.length !== ask.patterns.length) return false;
  if (!rule.patterns.every((p, i) => p === ask.patterns[i])) return false;
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
