/**
 * The single place where params are decoded and domain errors become JSON-RPC errors.
 */
import { ResponseError } from 'vscode-languageserver/node';
import { errorCodes, type InvalidParamsData } from '../../../protocol/errors';
import {
  describeIssues,
  issueFields,
  paramsIssues,
  type ParamsOf,
  type RequestDef,
  type ResultOf,
  type RpcEndpoint,
} from '../../../protocol/messages';
import { DomainError, type DomainErrorReason } from '../domain/errors';
import type { Logger } from '../ports/logger';

const codeFor: Record<DomainErrorReason, number> = {
  store_corrupt: errorCodes.storeCorrupt,
  store_read_only: errorCodes.storeReadOnly,
  not_found: errorCodes.notFound,
  conflict: errorCodes.conflict,
  bad_input: errorCodes.invalidParams,
  agent_unavailable: errorCodes.agentUnavailable,
  agent_disabled: errorCodes.agentDisabled,
  timeout: errorCodes.timeout,
};

/** Decode untrusted params with the method's schema; throws InvalidParams naming the fields. */
export function decodeParams<D extends RequestDef<string, unknown, unknown>>(def: D, raw: unknown): ParamsOf<D> {
  const parsed = def.params.safeParse(raw ?? {});
  if (!parsed.success) {
    const data: InvalidParamsData = { method: def.method, fields: issueFields(parsed.error), issues: paramsIssues(parsed.error) };
    throw new ResponseError(errorCodes.invalidParams, `Invalid params for ${def.method}: ${describeIssues(parsed.error)}`, data);
  }
  return parsed.data as ParamsOf<D>;
}

export function toResponseError(method: string, e: unknown, logger: Logger): ResponseError<unknown> {
  if (e instanceof ResponseError) return e;
  if (DomainError.is(e)) return new ResponseError(codeFor[e.reason], e.message, { reason: e.reason, ...e.data });
  logger.error(`${method} failed: ${(e as Error)?.stack ?? String(e)}`);
  return new ResponseError(errorCodes.internalError, `${method} failed: ${(e as Error)?.message ?? String(e)}`);
}

export function onRequest<D extends RequestDef<string, unknown, unknown>>(
  connection: RpcEndpoint,
  def: D,
  logger: Logger,
  handler: (params: ParamsOf<D>) => Promise<ResultOf<D>> | ResultOf<D>,
): void {
  connection.onRequest(def.method, async (raw: unknown) => {
    try {
      return await handler(decodeParams(def, raw));
    } catch (e) {
      throw toResponseError(def.method, e, logger);
    }
  });
}
