/**
 * The team server's one authorisation layer: every request handler registered on a connection goes
 * through `authorizedEndpoint`, which, before the handler (and its params decoding) runs, refuses a
 * caller over its request rate (`tooManyRequests`), a key revoked or expired since it connected
 * (`unauthorized`) and a method the caller's role may not call or that has no declared permission
 * (`forbidden`, fail closed).
 */
import { ResponseError } from 'vscode-languageserver/node';
import { errorCodes } from '../../../protocol/errors';
import type { RpcEndpoint } from '../../../protocol/messages';
import type { KeyCheck, Principal } from '../domain/auth/accounts';
import { authorize } from '../domain/auth/permissions';
import type { RateDecision } from '../domain/auth/rateLimit';

export interface Gate {
  principal: Principal;
  /** Counts one request of this key; refused past the limit. */
  rate(): RateDecision;
  /** Is the key still valid (not revoked, not expired)? */
  recheck(): Promise<KeyCheck>;
}

export async function admit(method: string, gate: Gate): Promise<void> {
  const r = gate.rate();
  if (!r.allowed)
    throw new ResponseError(
      errorCodes.tooManyRequests,
      `too many requests from this key; try again in ${Math.ceil(r.retryAfterMs / 1000)} s`,
      {
        retryAfterMs: r.retryAfterMs,
      },
    );
  const k = await gate.recheck();
  if (!k.ok)
    throw new ResponseError(
      errorCodes.unauthorized,
      `this API key is ${k.reason === 'unknown' ? 'no longer valid' : k.reason}; reconnect with a valid key`,
    );
  const d = authorize(method, gate.principal.role);
  if (!d.allowed) throw new ResponseError(errorCodes.forbidden, d.message, { method, role: gate.principal.role, required: d.required });
}

/** `inner` with every request handler behind `admit`. Notifications and outgoing messages pass unchanged. */
export function authorizedEndpoint(inner: RpcEndpoint, gate: Gate): RpcEndpoint {
  return {
    sendNotification: (m, p) => inner.sendNotification(m, p),
    onNotification: (m, h) => inner.onNotification(m, h),
    sendRequest: (m, p) => inner.sendRequest(m, p),
    onRequest: (method, handler) =>
      inner.onRequest(method, async (params: unknown) => {
        await admit(method, gate);
        return handler(params);
      }),
  };
}
