/**
 * Where a session lives in git and on disk, in one place: its branches (`orchestrator/<session>/…`) in
 * the user's repository and its worktrees under the server's worktree root.
 *
 *   orchestrator/<session>/integration   the session's integration branch (every merged task)
 *   orchestrator/<session>/<planId>      one task's branch
 *   <root>/<session>/_integration        the integration branch's worktree (merges happen there)
 *   <root>/<session>/<planId>            one task's worktree
 */
import path from 'node:path';

/** Prefix of every branch of a session (what deleting the session removes). */
export const sessionBranchPrefix = (sessionId: string): string => `orchestrator/${sessionId}/`;
export const integrationBranchOf = (sessionId: string): string => `${sessionBranchPrefix(sessionId)}integration`;
export const taskBranchOf = (sessionId: string, planId: string): string => `${sessionBranchPrefix(sessionId)}${planId}`;

export const integrationDirOf = (root: string, sessionId: string): string => path.join(root, sessionId, '_integration');
export const taskWorktreeOf = (root: string, sessionId: string, planId: string): string => path.join(root, sessionId, planId);
