/**
 * The registry of every JSON-RPC method between the extension (or a remote client) and the server.
 * Tests iterate it (malformed params to every request; README table drift).
 */
import type { AnyNotificationDef, AnyRequestDef } from './messages';
import { serverDidChangeStatus, serverStatus } from './server';

export const requests: readonly AnyRequestDef[] = [serverStatus as AnyRequestDef];
export const notifications: readonly AnyNotificationDef[] = [serverDidChangeStatus as AnyNotificationDef];
