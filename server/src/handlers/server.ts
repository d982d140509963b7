/** `server/*` handlers: thin wrappers over StatusService. */
import type { Connection } from 'vscode-languageserver/node';
import { sendNotification } from '../../../protocol/messages';
import { serverDidChangeStatus, serverStatus } from '../../../protocol/server';
import type { Logger } from '../ports/logger';
import type { StatusService } from '../services/statusService';
import { onRequest } from './register';

export function registerServerHandlers(connection: Connection, status: StatusService, logger: Logger): void {
  onRequest(connection, serverStatus, logger, (p) => {
    const s = status.get();
    return p.verbose
      ? { ...s, message: `${s.message} Transcripts: ${s.dataDir}/transcripts. Schema version ${s.store.schemaVersion}.` }
      : s;
  });
  status.onDidChange((s) => sendNotification(connection, serverDidChangeStatus, s));
}
