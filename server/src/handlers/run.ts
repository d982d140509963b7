/** `run/*` handlers: thin wrappers over RunService. Params arrive decoded by the protocol's schemas. */
import type { RpcEndpoint } from '../../../protocol/messages';
import { runCancel, runGet, runList, runStart, runTranscript } from '../../../protocol/run';
import type { Logger } from '../ports/logger';
import type { RunService } from '../services/runService';
import { onRequest } from './register';

export function registerRunHandlers(connection: RpcEndpoint, runs: RunService, logger: Logger): void {
  onRequest(connection, runStart, logger, async (p) => ({ runId: (await runs.start(p)).runId }));
  onRequest(connection, runGet, logger, (p) => runs.get(p.runId));
  onRequest(connection, runList, logger, (p) => runs.list(p.limit));
  onRequest(connection, runCancel, logger, (p) => runs.cancel(p.runId));
  onRequest(connection, runTranscript, logger, async (p) => ({ events: await runs.transcript(p.runId, p.afterSeq) }));
}
