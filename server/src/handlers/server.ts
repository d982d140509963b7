/** `server/*` handlers: thin wrappers over StatusService. */
import { sendNotification, type RpcEndpoint } from '../../../protocol/messages';
import { serverDidChangeStatus, serverStatus } from '../../../protocol/server';
import type { Logger } from '../ports/logger';
import type { StatusService } from '../services/statusService';
import { onRequest } from './register';

export function registerServerHandlers(connection: RpcEndpoint, status: StatusService, logger: Logger): () => void {
  // Returns the status subscription's disposer (a WebSocket connection that closes stops listening).
  onRequest(connection, serverStatus, logger, (p) => {
    const s = status.get();
    return p.verbose
      ? { ...s, message: `${s.message} Transcripts: ${s.dataDir}/transcripts. Schema version ${s.store.schemaVersion}.` }
      : s;
  });
  return status.onDidChange((s) => sendNotification(connection, serverDidChangeStatus, s));
}
