/**
 * Asking the caller's permission policy, the same way in every agent adapter: with the adapter's deadline,
 * and deny when the deadline passes, the policy throws, or there is no policy, saying which in `by`.
 */
import { policyAnswer, type PermissionPolicy, type PermissionRequest } from '../ports/agentRuntime';
import { DeadlineError, withDeadline } from './deadline';

export interface PolicyVerdict {
  decision: 'allow' | 'deny';
  by: 'policy' | 'timeout' | 'no_policy' | 'policy_error';
  note?: string;
}

/**
 * The policy's verdict on `req` within `ms`. When `abandon` settles first (the turn was cancelled), the answer
 * no longer matters: deny, and `abandoned` says so.
 */
export async function askPolicy(
  policy: PermissionPolicy | undefined,
  req: PermissionRequest,
  ms: number,
  abandon?: Promise<unknown>,
): Promise<PolicyVerdict & { abandoned?: true }> {
  if (!policy) return { decision: 'deny', by: 'no_policy' };
  try {
    const asked = withDeadline(policy(req), ms, 'permission policy');
    const answer = await (abandon ? Promise.race([asked, abandon.then(() => undefined)]) : asked);
    if (answer === undefined) return { decision: 'deny', by: 'no_policy', abandoned: true };
    const a = policyAnswer(answer);
    return { decision: a.decision === 'allow' ? 'allow' : 'deny', by: 'policy', ...(a.note ? { note: a.note } : {}) };
  } catch (e) {
    if (DeadlineError.is(e)) return { decision: 'deny', by: 'timeout', note: `no answer within ${Math.round(ms / 1000)} s: denied` };
    return { decision: 'deny', by: 'policy_error' };
  }
}
