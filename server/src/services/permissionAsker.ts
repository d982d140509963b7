/**
 * What happens when the permission policy would ask: a rule the user remembered for this session (or this
 * single run) answers; otherwise the user is asked, with a deadline. "Always" answers become rules of the
 * pure `domain/permissionMemory.ts` (exact permission and tool kind, patterns, whole command line, real paths
 * and place); they are kept in memory only, so a
 * server restart forgets them. The caller consults this only after the policy said `ask`, so a remembered
 * rule never overrides a policy denial.
 */
import type { PermissionAnswer, PermissionAsk } from '../../../protocol/run';
import { PermissionMemory, scopeKey, whyNotRememberable, type RememberableAsk } from '../domain/permissionMemory';
import type { PolicyRequest } from '../domain/permissionPolicy';
import type { PermissionDecision } from '../domain/agentEvent';
import type { PermissionRequest } from '../ports/agentRuntime';
import type { Logger } from '../ports/logger';

export interface PermissionAskerDeps {
  askUser(ask: PermissionAsk): Promise<PermissionAnswer | 'allow' | 'deny'>;
  logger: Logger;
}

export interface AskInput {
  run: { id: string; sessionId?: string; taskId?: string; cwd: string };
  req: PermissionRequest;
  /** The request as the policy judged it (task folder, command folder, file path). */
  base: PolicyRequest;
  /** Where each path the policy judged really leads (symlinks resolved), in the policy's order. */
  realPaths?: readonly string[];
  /** The task's folder with symlinks resolved. */
  realTaskFolder?: string;
  /** The policy's reason for asking. */
  reason: string;
  /** How long the user may take. */
  askMs: number;
}

export interface AskOutcome {
  decision: PermissionDecision;
  /** Who answered: a remembered rule, the user, nobody in time, or nobody reachable. */
  by: 'remembered' | 'user' | 'deadline' | 'undelivered';
  /** Who decided, in words, for the transcript. */
  note?: string;
  /** For a denial: the reason kept in the run's denied list. */
  why?: string;
}

const maxDiffChars = 20_000;

export class PermissionAsker {
  private readonly memory = new PermissionMemory();

  constructor(private readonly deps: PermissionAskerDeps) {}

  async decide({ run, req, base, reason, askMs, realPaths, realTaskFolder }: AskInput): Promise<AskOutcome> {
    const scope = scopeKey({ sessionId: run.sessionId, runId: run.id });
    const remembered: RememberableAsk = {
      permission: req.permission,
      ...(req.toolKind !== undefined ? { toolKind: req.toolKind } : {}),
      patterns: req.patterns,
      ...(req.commandLine !== undefined ? { commandLine: req.commandLine } : {}),
      ...(realPaths ? { realPaths } : {}),
      ...(realTaskFolder ? { realTaskFolder } : {}),
      taskFolder: base.cwd,
      ...(base.commandCwd ? { commandCwd: base.commandCwd } : {}),
    };
    if (this.memory.find(scope.key, remembered)) {
      this.deps.logger.info(`run ${run.id}: ${req.permission} allowed by a rule remembered for this ${scope.scope}`);
      return { decision: 'allow', by: 'remembered', note: `remembered for this ${scope.scope}` };
    }
    const diff = typeof req.metadata?.diff === 'string' ? req.metadata.diff : undefined;
    const ask: PermissionAsk = {
      runId: run.id,
      ...(run.sessionId ? { sessionId: run.sessionId } : {}),
      ...(run.taskId ? { taskId: run.taskId } : {}),
      permission: req.permission,
      patterns: req.patterns,
      reason,
      cwd: run.cwd,
      ...(base.commandCwd && base.commandCwd !== run.cwd ? { commandCwd: base.commandCwd } : {}),
      ...(req.commandLine ? { commandLine: req.commandLine } : {}),
      ...(base.filepath ? { filepath: base.filepath } : {}),
      ...(diff ? { diff: diff.length > maxDiffChars ? `${diff.slice(0, maxDiffChars)}\n… (clipped)` : diff } : {}),
      ...(whyNotRememberable(remembered) ? {} : { rememberScope: scope.scope }),
      deadlineMs: askMs,
    };
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), askMs)));
    try {
      const raw = await Promise.race([this.deps.askUser(ask), late]);
      if (raw === 'late') {
        const note = `no answer within ${Math.round(askMs / 1000)} s: denied`;
        this.deps.logger.warn(`run ${run.id}: ${req.permission}: ${note}`);
        return { decision: 'deny', by: 'deadline', note, why: `${note} (${reason})` };
      }
      const answer: PermissionAnswer = typeof raw === 'string' ? { decision: raw } : raw;
      if (answer.decision !== 'allow')
        return { decision: 'deny', by: 'user', note: 'denied by the user', why: `the user denied it (${reason})` };
      if (answer.remember && ask.rememberScope && this.memory.remember(scope.key, remembered)) {
        this.deps.logger.info(`run ${run.id}: ${req.permission} allowed and remembered for this ${scope.scope}`);
        return { decision: 'allow', by: 'user', note: `allowed by the user for this ${scope.scope}` };
      }
      return { decision: 'allow', by: 'user', note: 'allowed by the user once' };
    } catch (e) {
      this.deps.logger.warn(`run ${run.id}: the permission ask could not be delivered (${String(e)}); denied`);
      return { decision: 'deny', by: 'undelivered', note: 'the ask could not be delivered: denied', why: `nobody answered (${reason})` };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Drops the remembered answers of a session, or of a single run. */
  forget(s: { sessionId?: string; runId: string }): void {
    this.memory.forget(scopeKey(s).key);
  }
}
