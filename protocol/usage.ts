/**
 * `usage/*`: what a tenant's agents used, from the tenant's usage ledger (`<tenant>/usage.jsonl`, one line
 * per ended run) on the team server, or from the store's ended runs on the single-user stdio server.
 */
import { z } from 'zod';
import { defineRequest } from './messages';

export const usageGroupBys = ['user', 'agent', 'model', 'day'] as const;
export type UsageGroupBy = (typeof usageGroupBys)[number];

export interface UsageTotalsView {
  /** Input tokens; 0 for ledger lines written before they were split (their tokens are in `tokens`). */
  inputTokens: number;
  outputTokens: number;
  /** Every token counted against the quota (input + output + reasoning). */
  tokens: number;
  /** Money in the provider's currency unit; 0 when unknown. */
  cost: number;
  runs: number;
}

export interface UsageReportRow extends UsageTotalsView {
  /** The user id, agent id, model (`unknown` when not recorded) or UTC day `YYYY-MM-DD`. */
  key: string;
  /** The user's name when grouped by user and known. */
  label?: string;
}

export interface UsageReport {
  tenantId: string;
  groupBy: UsageGroupBy;
  from?: string;
  to?: string;
  /** `tenant`: every user's runs (admins, stdio); `own`: only the caller's runs (developers). */
  scope: 'tenant' | 'own';
  rows: UsageReportRow[];
  total: UsageTotalsView;
}

const isoTime = z.string().refine((s) => /^\d{4}-\d{2}-\d{2}/.test(s) && Number.isFinite(Date.parse(s)), {
  message: 'must be an ISO date (YYYY-MM-DD) or date-time',
});

/** `usage/report` (client → server; team server: admins see the tenant, developers their own runs). */
export const usageReport = defineRequest<UsageReport>()(
  'usage/report',
  'clientToServer',
  z
    .object({
      /** Inclusive: runs ended at or after. A bare date is its UTC midnight. */
      from: isoTime.optional(),
      /** Exclusive: runs ended before. A bare date is its UTC midnight. */
      to: isoTime.optional(),
      groupBy: z.enum(usageGroupBys),
    })
    .strict(),
);
