/**
 * `quota/*`: a team server tenant's quotas (tenant, user, API key) and what each uses now. Tenant quotas are
 * set only on the server's machine (`orchestrator admin set-quota`); a tenant's admin may set its users' and
 * keys' quotas over the protocol. The single-user stdio server has no quotas: both methods answer an error
 * saying they are served by the team server only.
 */
import { z } from 'zod';
import { defineRequest } from './messages';

const windowBounds = { min: 60_000, max: 366 * 86_400_000 } as const;

/** One scope's limits (absent: no limit). The server's `auth.json` stores the same shape. */
export const quotaLimitsSchema = z
  .object({
    /** Sessions running, paused or awaiting approval at once. */
    sessions: z.number().int().min(0).optional(),
    /** Agent turns running at once (session tasks from dispatch until their end is recorded, and single runs). */
    tasks: z.number().int().min(1).optional(),
    /** Agent tokens (input + output + reasoning) per window. */
    tokens: z.number().int().min(0).optional(),
    /** Money (the providers' currency) per window. */
    money: z.number().min(0).optional(),
    /** Price hint: money per million tokens for runs whose agent reports no cost (the demo model, most local models). */
    moneyPerMillionTokens: z.number().min(0).optional(),
    /** The tokens and money window in ms (rolling; default one day). */
    windowMs: z.number().int().min(windowBounds.min).max(windowBounds.max).optional(),
  })
  .strict();
export type QuotaLimits = z.infer<typeof quotaLimitsSchema>;

/** What a scope uses now; tokens and money in its window (ended and running runs). */
export interface QuotaUsageView {
  sessions: number;
  tasks: number;
  tokens: number;
  money: number;
  windowMs: number;
}

export interface QuotaScopeView {
  kind: 'tenant' | 'user' | 'key';
  id: string;
  /** The user's name (a user scope), or the key's user's name (a key scope). */
  name?: string;
  /** A key scope: its user's id. */
  userId?: string;
  quotas: QuotaLimits;
  usage: QuotaUsageView;
}

export interface QuotaReport {
  tenantId: string;
  /** `tenant`: every user and key of the tenant (admins); `own`: the tenant and the caller's own user and key (developers). */
  scope: 'tenant' | 'own';
  scopes: QuotaScopeView[];
}

/** `quota/get` (client → server; team server: admins and developers). */
export const quotaGet = defineRequest<QuotaReport>()('quota/get', 'clientToServer', z.object({}).strict());

/** A change: a number sets a limit, `null` removes it, an absent field is unchanged. */
export const quotaPatchSchema = z
  .object({
    sessions: z.number().int().min(0).nullable().optional(),
    tasks: z.number().int().min(1).nullable().optional(),
    tokens: z.number().int().min(0).nullable().optional(),
    money: z.number().min(0).nullable().optional(),
    moneyPerMillionTokens: z.number().min(0).nullable().optional(),
    windowMs: z.number().int().min(windowBounds.min).max(windowBounds.max).nullable().optional(),
  })
  .strict()
  .refine((p) => Object.values(p).some((v) => v !== undefined), { message: 'give at least one quota to set (or null to remove)' });

export interface QuotaSetResult {
  tenantId: string;
  scope: { kind: 'user' | 'key'; id: string; name?: string };
  before: QuotaLimits;
  after: QuotaLimits;
}

/**
 * `quota/set` (client → server; team server: admins only): a user's (`id`: user id or name) or an API key's
 * (`id`: key id) quotas in the caller's tenant. Tenant quotas stay with `orchestrator admin set-quota`.
 */
export const quotaSet = defineRequest<QuotaSetResult>()(
  'quota/set',
  'clientToServer',
  z
    .object({
      scope: z.enum(['user', 'key'], {
        error: 'scope must be user or key: tenant quotas are set on the server with orchestrator admin set-quota',
      }),
      id: z.string().min(1).max(200),
      quotas: quotaPatchSchema,
    })
    .strict(),
);
