/** `session/*` handlers: thin wrappers over SessionService. */
import type { Connection } from 'vscode-languageserver/node';
import { agentList, type AgentView } from '../../../protocol/agent';
import {
  sessionApply,
  sessionApprove,
  sessionCancel,
  sessionDelete,
  sessionDiff,
  sessionGet,
  sessionList,
  sessionPause,
  sessionPlan,
  sessionResume,
  sessionRetry,
  sessionStart,
} from '../../../protocol/session';
import type { Logger } from '../ports/logger';
import type { SessionService } from '../services/sessionService';
import { onRequest } from './register';

export function registerAgentHandlers(connection: Connection, list: () => AgentView[], logger: Logger): void {
  onRequest(connection, agentList, logger, () => list());
}

export function registerSessionHandlers(connection: Connection, sessions: SessionService, logger: Logger): void {
  onRequest(connection, sessionStart, logger, (p) => sessions.start(p));
  onRequest(connection, sessionPlan, logger, (p) => sessions.setPlan(p.sessionId, p.plan));
  onRequest(connection, sessionApprove, logger, (p) => sessions.approve(p.sessionId, p.budget));
  onRequest(connection, sessionGet, logger, (p) => sessions.get(p.sessionId));
  onRequest(connection, sessionList, logger, (p) => sessions.list(p.limit));
  onRequest(connection, sessionPause, logger, (p) => sessions.pause(p.sessionId));
  onRequest(connection, sessionResume, logger, (p) => sessions.resume(p.sessionId));
  onRequest(connection, sessionCancel, logger, (p) => sessions.cancel(p.sessionId));
  onRequest(connection, sessionRetry, logger, (p) => sessions.retry(p.sessionId));
  onRequest(connection, sessionDiff, logger, (p) => sessions.diff(p.sessionId));
  onRequest(connection, sessionApply, logger, (p) => sessions.apply(p.sessionId));
  onRequest(connection, sessionDelete, logger, (p) => sessions.delete(p.sessionId));
}
