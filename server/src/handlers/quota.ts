/**
 * `quota/*` handlers. The team server answers from the caller's tenant (`TenantGuard`); the single-user stdio
 * server has no tenants or quotas and passes none: both methods then answer that they are served by the team
 * server only (after decoding, so malformed params are still InvalidParams naming the field).
 */
import { ResponseError } from 'vscode-languageserver/node';
import { errorCodes } from '../../../protocol/errors';
import type { ParamsOf, RpcEndpoint } from '../../../protocol/messages';
import { quotaGet, quotaSet, type QuotaReport, type QuotaSetResult } from '../../../protocol/quota';
import type { Logger } from '../ports/logger';
import { onRequest } from './register';

export interface QuotaDesk {
  get(): Promise<QuotaReport>;
  set(p: ParamsOf<typeof quotaSet>): Promise<QuotaSetResult>;
}

function teamOnly(method: string): never {
  throw new ResponseError(
    errorCodes.methodNotFound,
    `${method} is served by the team server only (orchestrator serve): this single-user server has no tenants or quotas`,
    { method, teamServerOnly: true },
  );
}

export function registerQuotaHandlers(connection: RpcEndpoint, desk: QuotaDesk | undefined, logger: Logger): void {
  onRequest(connection, quotaGet, logger, () => (desk ? desk.get() : teamOnly(quotaGet.method)));
  onRequest(connection, quotaSet, logger, (p) => (desk ? desk.set(p) : teamOnly(quotaSet.method)));
}
