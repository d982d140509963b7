/**
 * Building blocks of the contract. Every message between processes is declared once with
 * `defineRequest` or `defineNotification`; no method-name string appears anywhere else.
 */
import type { z } from 'zod';
import type { ParamsIssue } from './errors';

/** Who sends the message. */
export type Direction = 'clientToServer' | 'serverToClient' | 'hostToWebview' | 'webviewToHost';

/**
 * What a caller needs of a request: its literal method and direction, and (as phantom fields, never set at
 * run time) its params and result types. Every `RequestDef` is one; `methodRefs.ts` holds them all without
 * their zod schemas, for code that must not load zod (the extension's activation, issue 13).
 */
export interface RequestRef<M extends string, P, R> {
  readonly kind: 'request';
  readonly method: M;
  readonly direction: Direction;
  /** Phantom field carrying the params type; never set at run time. */
  readonly paramsType?: P;
  /** Phantom field carrying the result type; never set at run time. */
  readonly result?: R;
}

/** What a caller needs of a notification (see `RequestRef`). */
export interface NotificationRef<M extends string, P> {
  readonly kind: 'notification';
  readonly method: M;
  readonly direction: Direction;
  /** Phantom field carrying the params type; never set at run time. */
  readonly paramsType?: P;
}

/** A JSON-RPC request: literal method, zod schema for the (untrusted) params, result type. */
export interface RequestDef<M extends string, P, R> extends RequestRef<M, P, R> {
  readonly params: z.ZodType<P>;
}

/** A JSON-RPC notification: literal method and zod schema for its params. */
export interface NotificationDef<M extends string, P> extends NotificationRef<M, P> {
  readonly params: z.ZodType<P>;
}

export type AnyRequestDef = RequestDef<string, unknown, unknown>;
export type AnyNotificationDef = NotificationDef<string, unknown>;
export type AnyRequestRef = RequestRef<string, unknown, unknown>;
export type AnyNotificationRef = NotificationRef<string, unknown>;
export type ParamsOf<D> = D extends RequestRef<string, infer P, unknown> ? P : D extends NotificationRef<string, infer P> ? P : never;
export type ResultOf<D> = D extends RequestRef<string, unknown, infer R> ? R : never;
/** The schema-free view of a definition (`methodRefs.ts` is typed with it, so its names match the protocol's). */
export type RefOf<D> =
  D extends RequestDef<infer M, infer P, infer R>
    ? RequestRef<M, P, R>
    : D extends NotificationDef<infer M, infer P>
      ? NotificationRef<M, P>
      : never;

export function defineRequest<R>() {
  return <M extends string, P>(method: M, direction: Direction, params: z.ZodType<P>): RequestDef<M, P, R> => ({
    kind: 'request',
    method,
    direction,
    params,
  });
}

export function defineNotification<M extends string, P>(method: M, direction: Direction, params: z.ZodType<P>): NotificationDef<M, P> {
  return { kind: 'notification', method, direction, params };
}

/** One line per zod issue, each naming the offending field path (or `params` for the root). */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => {
      const where = i.path.length ? i.path.map(String).join('.') : 'params';
      const unknown = i.code === 'unrecognized_keys' ? ` (${i.keys.join(', ')})` : '';
      return `${where}: ${i.message}${unknown}`;
    })
    .join('; ');
}

/** Names of the fields a zod error points at (unknown keys included), for error `data`. */
export function issueFields(error: z.ZodError): string[] {
  const out = new Set<string>();
  for (const i of error.issues) {
    if (i.code === 'unrecognized_keys') i.keys.forEach((k) => out.add([...i.path.map(String), k].join('.')));
    else out.add(i.path.length ? i.path.map(String).join('.') : 'params');
  }
  return [...out];
}

/** Every zod issue with its path, an unknown key as one issue per key (its own path), for error `data.issues`. */
export function paramsIssues(error: z.ZodError): ParamsIssue[] {
  return error.issues.flatMap((i): ParamsIssue[] => {
    const path = i.path.filter((k): k is string | number => typeof k !== 'symbol');
    if (i.code === 'unrecognized_keys') return i.keys.map((k) => ({ path: [...path, k], message: `unknown field "${k}"` }));
    return [{ path, message: i.message }];
  });
}

/**
 * The part of a JSON-RPC connection the typed helpers below need; the server's `Connection`, the
 * extension's `LanguageClient` and vscode-jsonrpc's `MessageConnection` all fit.
 */
export interface RpcEndpoint {
  sendNotification(method: string, params?: unknown): unknown;
  onNotification(method: string, handler: (params: unknown) => void): unknown;
  sendRequest(method: string, params?: unknown): Promise<unknown>;
  onRequest(method: string, handler: (params: unknown) => unknown): unknown;
}

/** Send a notification by its definition: the method name and the payload type come from `protocol/`. */
export function sendNotification<D extends AnyNotificationRef>(c: RpcEndpoint, def: D, params: ParamsOf<D>): void {
  void Promise.resolve(c.sendNotification(def.method, params)).catch(() => undefined);
}

/** Subscribe to a notification by its definition; the handler gets the typed payload. */
export function onNotification<D extends AnyNotificationRef>(c: RpcEndpoint, def: D, handler: (params: ParamsOf<D>) => void): void {
  c.onNotification(def.method, handler as (params: unknown) => void);
}

/** Send a request by its definition; resolves with the typed result. */
export function sendRequest<D extends AnyRequestRef>(c: RpcEndpoint, def: D, params: ParamsOf<D>): Promise<ResultOf<D>> {
  return c.sendRequest(def.method, params) as Promise<ResultOf<D>>;
}

/** Answer a request by its definition (for server → client requests handled by the client). */
export function onRequest<D extends AnyRequestRef>(
  c: RpcEndpoint,
  def: D,
  handler: (params: ParamsOf<D>) => Promise<ResultOf<D>> | ResultOf<D>,
): void {
  c.onRequest(def.method, handler as (params: unknown) => unknown);
}
