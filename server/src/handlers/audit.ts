/** `audit/*` handlers: the caller's tenant's audit log (the stdio server, with no tenants, passes none and answers []). */
import { auditList, type AuditEntryView } from '../../../protocol/audit';
import type { RpcEndpoint } from '../../../protocol/messages';
import type { Logger } from '../ports/logger';
import { onRequest } from './register';

export function registerAuditHandlers(
  connection: RpcEndpoint,
  list: ((limit: number) => Promise<AuditEntryView[]>) | undefined,
  logger: Logger,
): void {
  onRequest(connection, auditList, logger, async (p) => (list ? list(p.limit ?? 100) : []));
}
