/**
 * `usage/*` handlers. The team server answers from the caller's tenant's usage ledger (`TenantGuard`); the
 * single-user stdio server answers from its own store's ended runs, every one under the local user.
 */
import type { RpcEndpoint } from '../../../protocol/messages';
import { usageReport, type UsageReport } from '../../../protocol/usage';
import type { ParamsOf } from '../../../protocol/messages';
import { aggregateUsage, usageLine } from '../domain/auth/usageReport';
import type { Logger } from '../ports/logger';
import { onRequest } from './register';

export type UsageReporter = (p: ParamsOf<typeof usageReport>) => UsageReport | Promise<UsageReport>;

export function registerUsageHandlers(connection: RpcEndpoint, report: UsageReporter, logger: Logger): void {
  onRequest(connection, usageReport, logger, async (p) => report(p));
}

const endedStates = new Set(['succeeded', 'failed', 'cancelled']);

/** The stdio server's report: its store's ended runs, at their end time, all by the one local user. */
export function localUsageReport(
  tenantId: string,
  runs: readonly (Parameters<typeof usageLine>[0] & { state: string; createdAt: string; finishedAt?: string })[],
  p: ParamsOf<typeof usageReport>,
): UsageReport {
  const lines = runs
    .filter((r) => endedStates.has(r.state))
    .map((r) => usageLine(r, Date.parse(r.finishedAt ?? r.createdAt), { userId: 'local', userName: 'local' }));
  const { rows, total } = aggregateUsage(lines, p);
  return { tenantId, groupBy: p.groupBy, from: p.from, to: p.to, scope: 'tenant', rows, total };
}
