/** `session/*` handlers: thin wrappers over SessionService. */
import type { RpcEndpoint } from '../../../protocol/messages';
import { agentList, type AgentView } from '../../../protocol/agent';
import {
  sessionApply,
  sessionApprove,
  sessionCancel,
  sessionDelete,
  sessionDiff,
  sessionFileContent,
  sessionGet,
  sessionList,
  sessionPause,
  sessionPlan,
  sessionResume,
  sessionRetry,
  sessionStart,
  type SessionView,
} from '../../../protocol/session';
import { taskCancel, taskRetry, taskSetPriority } from '../../../protocol/task';
import type { Logger } from '../ports/logger';
import type { SessionService } from '../services/sessionService';
import { onRequest } from './register';

export function registerAgentHandlers(connection: RpcEndpoint, list: () => AgentView[], logger: Logger): void {
  onRequest(connection, agentList, logger, () => list());
}

/** `session/*` and `task/*` (one task inside its session). `live` adds the running tasks' activity (tool in progress, usage so far) to every session view answered. */
export function registerSessionHandlers(
  connection: RpcEndpoint,
  sessions: SessionService,
  live: (v: SessionView) => SessionView,
  logger: Logger,
): void {
  onRequest(connection, sessionStart, logger, async (p) => live(await sessions.start(p)));
  onRequest(connection, sessionPlan, logger, async (p) => live(await sessions.setPlan(p.sessionId, p.plan, { dryRun: p.dryRun })));
  onRequest(connection, sessionApprove, logger, async (p) => live(await sessions.approve(p.sessionId, p.budget, p.plan)));
  onRequest(connection, sessionGet, logger, (p) => live(sessions.get(p.sessionId)));
  onRequest(connection, sessionList, logger, (p) => sessions.list(p.limit).map(live));
  onRequest(connection, sessionPause, logger, async (p) => live(await sessions.pause(p.sessionId)));
  onRequest(connection, sessionResume, logger, async (p) => live(await sessions.resume(p.sessionId)));
  onRequest(connection, sessionCancel, logger, async (p) => live(await sessions.cancel(p.sessionId)));
  onRequest(connection, sessionRetry, logger, async (p) => live(await sessions.retry(p.sessionId)));
  onRequest(connection, sessionDiff, logger, (p) => sessions.review.diff(p.sessionId, p.taskId));
  onRequest(connection, sessionFileContent, logger, (p) => sessions.review.fileContent(p));
  onRequest(connection, sessionApply, logger, (p) => sessions.apply(p.sessionId));
  onRequest(connection, sessionDelete, logger, (p) => sessions.delete(p.sessionId));
  onRequest(connection, taskRetry, logger, async (p) => live(await sessions.tasks.retry(p.sessionId, p.taskId, p.raiseLimit)));
  onRequest(connection, taskCancel, logger, async (p) => live(await sessions.tasks.cancel(p.sessionId, p.taskId)));
  onRequest(connection, taskSetPriority, logger, async (p) => live(await sessions.tasks.setPriority(p.sessionId, p.taskId, p.priority)));
}
