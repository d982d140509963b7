/**
 * One JSON-RPC message per WebSocket text frame. A frame that is not JSON gets a parse error (-32700), a
 * JSON value that is not one JSON-RPC 2.0 message gets an invalid request (-32600, with its id when it
 * has a usable one); nothing reaches a handler and the connection stays open.
 */
import type { Message } from 'vscode-jsonrpc';

export const parseErrorCode = -32700;
export const invalidRequestCode = -32600;

export interface ErrorReply {
  jsonrpc: '2.0';
  id: string | number | null;
  error: { code: number; message: string };
}

export type Frame = { kind: 'message'; message: Message } | { kind: 'reject'; reply: ErrorReply };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is string | number => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));

function reject(code: number, message: string, id: string | number | null = null): Frame {
  return { kind: 'reject', reply: { jsonrpc: '2.0', id, error: { code, message } } };
}

export function parseFrame(text: string): Frame {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return reject(parseErrorCode, `Parse error: the frame is not JSON (${(e as Error).message})`);
  }
  if (Array.isArray(v)) return reject(invalidRequestCode, 'Invalid request: batches are not supported; send one message per frame');
  if (!isObject(v)) return reject(invalidRequestCode, 'Invalid request: a frame must hold one JSON-RPC message (an object)');
  const id = isId(v.id) ? v.id : null;
  if (v.jsonrpc !== '2.0') return reject(invalidRequestCode, 'Invalid request: "jsonrpc" must be "2.0"', id);
  if ('params' in v && v.params !== undefined && typeof v.params !== 'object')
    return reject(invalidRequestCode, 'Invalid request: "params" must be an object or an array', id);
  if ('method' in v) {
    if (typeof v.method !== 'string' || !v.method) return reject(invalidRequestCode, 'Invalid request: "method" must be a string', id);
    if ('id' in v && !isId(v.id)) return reject(invalidRequestCode, 'Invalid request: "id" must be a string or a number');
    // vscode-jsonrpc reads `params.id` of a cancellation without checking it (the fuzz test found this).
    if (v.method === '$/cancelRequest' && !(isObject(v.params) && isId(v.params.id)))
      return reject(invalidRequestCode, 'Invalid request: $/cancelRequest needs params.id (a string or a number)');
    return { kind: 'message', message: v as unknown as Message };
  }
  // A response to one of our requests (permission/request).
  if (('result' in v || isObject(v.error)) && (isId(v.id) || v.id === null)) return { kind: 'message', message: v as unknown as Message };
  return reject(invalidRequestCode, 'Invalid request: neither a request, a notification nor a response', id);
}
