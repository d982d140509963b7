/**
 * `audit/*`: a tenant's audit log on the team server (admin actions from the CLI, quota and workspace-root
 * changes, permission answers (a client's, and the ones the server gave by itself: the policy, a remembered
 * rule, a deadline), model alias moves, path and quota refusals). Append-only;
 * admins read it. The single-user stdio server has no tenants and answers an empty list.
 */
import { z } from 'zod';
import { defineRequest } from './messages';

export interface AuditEntryView {
  at: string;
  tenantId: string;
  /** `cli`: the admin command line on the server's machine; `server`: an answer it gave by itself (`by`: policy, remembered, deadline, undelivered); `user`: a client's key. */
  actor: { kind: 'cli' } | { kind: 'server'; by: string } | { kind: 'user'; userId: string; userName: string; keyId: string; role: string };
  /** e.g. `tenant.create`, `user.create`, `key.create`, `key.revoke`, `roots.set`, `quota.set`, `permission.answer`, `model.setAlias`, `quota.refused`, `path.refused`. */
  action: string;
  details?: Record<string, unknown>;
}

/** `audit/list` (client → server, team server: admins only): the caller's tenant's entries, newest first. */
export const auditList = defineRequest<AuditEntryView[]>()(
  'audit/list',
  'clientToServer',
  z.object({ limit: z.number().int().min(1).max(10_000).optional() }).strict(),
);
