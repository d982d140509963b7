/** `server/*` handlers: thin wrappers over StatusService. */
import { sendNotification, type RpcEndpoint } from '../../../protocol/messages';
import { serverDidChangeStatus, serverStatus, serverWhoami, type WhoAmI } from '../../../protocol/server';
import type { Logger } from '../ports/logger';
import type { StatusService } from '../services/statusService';
import { onRequest } from './register';

/**
 * `whoami`: the connection's account on a team server; the stdio server has none (`null`).
 * Returns the status subscription's disposer (a WebSocket connection that closes stops listening).
 */
export function registerServerHandlers(
  connection: RpcEndpoint,
  status: StatusService,
  logger: Logger,
  whoami: () => WhoAmI | null = () => null,
): () => void {
  onRequest(connection, serverStatus, logger, (p) => {
    const s = status.get();
    return p.verbose
      ? { ...s, message: `${s.message} Transcripts: ${s.dataDir}/transcripts. Schema version ${s.store.schemaVersion}.` }
      : s;
  });
  onRequest(connection, serverWhoami, logger, () => whoami());
  return status.onDidChange((s) => sendNotification(connection, serverDidChangeStatus, s));
}
