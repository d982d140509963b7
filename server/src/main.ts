/**
 * Composition root of the orchestrator server spawned by the extension (stdio JSON-RPC).
 * It wires the connection to adapters, services and handlers and does nothing else.
 */
import { createConnection, ProposedFeatures, ResponseError, type InitializeResult } from 'vscode-languageserver/node';
import { errorCodes } from '../../protocol/errors';
import { z } from 'zod';
import { describeIssues } from '../../protocol/messages';
import { createLogger } from './adapters/lspLogger';
import { createStdioTransport, transportExitCode } from './adapters/stdioTransport';
import { redactSecrets } from './domain/redact';
import { parseAgentSettings } from './agents';
import { claimPluginFault } from './plugins';
import { createRunServices, createServices, type RunServices, type Services } from './compose';
import { argValue, defaultDataDir } from './dataDir';
import { registerServerHandlers } from './handlers/server';
import { registerAuditHandlers } from './handlers/audit';
import { registerQuotaHandlers } from './handlers/quota';
import { localUsageReport, registerUsageHandlers } from './handlers/usage';
import { registerDatasetHandlers } from './handlers/dataset';
import { registerFineTuneHandlers } from './handlers/finetune';
import { createFineTuneServices, type FineTuneServices } from './fineTuneComposition';
import { finetuneDidChange } from '../../protocol/finetune';
import { registerRunHandlers } from './handlers/run';
import { registerMarketplaceHandlers } from './handlers/marketplace';
import { registerAgentHandlers, registerSessionHandlers } from './handlers/session';
import { agentDidChange } from '../../protocol/agent';
import { sendNotification, sendRequest } from '../../protocol/messages';
import { sessionDidChange } from '../../protocol/session';
import { permissionAnswer, permissionRequest, runDidUpdate } from '../../protocol/run';
import type { LogLevel } from './ports/logger';
import { version } from './version';

const initOptions = z
  .object({
    dataDir: z.string().min(1).optional(),
    logLevel: z.enum(['error', 'warn', 'info', 'debug']).optional(),
    agents: z.unknown().optional(),
    /** Store tuning: how long a finished session stays in the hot store (tests shorten it). */
    store: z
      .object({ archiveAfterMs: z.number().int().min(0).optional() })
      .strict()
      .optional(),
  })
  .passthrough();

/** How long the user has to answer a permission request before it is denied. */

let services: Services | undefined;
let run: RunServices | undefined;
let fineTune: FineTuneServices | undefined;

/** Stops agents and trainers. */
const disposeAll = (): Promise<unknown> => Promise.all([run?.dispose(), fineTune?.dispose()]);

/** Stops agents (bounded) and exits; used when the transport fails. */
function exitNow(code: number): void {
  const deadline = new Promise((r) => setTimeout(r, 3_000).unref());
  void Promise.race([disposeAll().catch(() => undefined), deadline]).finally(() => process.exit(code));
}

const transport = createStdioTransport((line) => {
  process.stderr.write(`${line}\n`);
  exitNow(transportExitCode);
});
const connection = createConnection(ProposedFeatures.all, transport.reader, transport.writer);
// The library only exits on end of input when it owns stdin; it does not here.
for (const ev of ['end', 'close'] as const) process.stdin.on(ev, () => exitNow(shutdownReceived ? 0 : 1));
let shutdownReceived = false;
let level: LogLevel = 'info';
const logger = createLogger(connection.console, () => level);
let initializeSeen = false;

connection.onInitialize(async (params): Promise<InitializeResult> => {
  // Accepted once: a second initialize must not switch the data folder under the client.
  if (initializeSeen)
    throw new ResponseError(
      errorCodes.conflict,
      `initialize was already received; this server keeps serving ${services?.dataDir ?? 'its data folder'} (restart the server to change it)`,
    );
  initializeSeen = true;
  const parsed = initOptions.safeParse(params.initializationOptions ?? {});
  if (!parsed.success) throw new Error(`Invalid initializationOptions: ${describeIssues(parsed.error)}`);
  level = parsed.data.logLevel ?? level;
  const dataDir = parsed.data.dataDir ?? argValue(process.argv, '--data-dir') ?? defaultDataDir();
  services = await createServices({ dataDir, mode: 'stdio', logger });
  registerServerHandlers(connection, services.status, logger);
  run = await createRunServices(services, {
    agentSettings: parseAgentSettings(parsed.data.agents),
    archiveAfterMs: parsed.data.store?.archiveAfterMs,
    logger,
    publish: (u) => sendNotification(connection, runDidUpdate, u),
    publishSession: (v) => sendNotification(connection, sessionDidChange, v),
    publishAgents: (agents) => sendNotification(connection, agentDidChange, { agents }),
    // The run service applies the deadline and records a late answer as a denial; a malformed answer denies.
    askUser: async (ask) => {
      const parsed = permissionAnswer.safeParse(await sendRequest(connection, permissionRequest, ask));
      if (!parsed.success)
        logger.warn(`permission/request: the client's answer was not understood (${describeIssues(parsed.error)}); denied`);
      return parsed.success ? parsed.data : 'deny';
    },
  });
  registerRunHandlers(connection, run.runs, logger);
  registerSessionHandlers(connection, run.sessions, run.liveSession, logger);
  registerAgentHandlers(connection, run.agentViews, logger);
  registerMarketplaceHandlers(connection, run.marketplace, logger);
  registerDatasetHandlers(connection, services.datasets, logger);
  fineTune = await createFineTuneServices(services, {
    logger,
    publish: (v) => sendNotification(connection, finetuneDidChange, v),
    serving: run.serving,
  });
  registerFineTuneHandlers(connection, fineTune.fineTunes, fineTune.models, logger);
  registerAuditHandlers(connection, undefined, logger);
  registerQuotaHandlers(connection, undefined, logger);
  const local = services;
  registerUsageHandlers(connection, (p) => localUsageReport('local', local.store.read().runs, p), logger);
  logger.info(`orchestrator server ${version} (pid ${process.pid}, node ${process.version}) using ${services.dataDir}`);
  return { capabilities: {}, serverInfo: { name: 'industrial-orchestrator', version } };
});

connection.onInitialized(() => services?.status.publish());

connection.onShutdown(async () => {
  shutdownReceived = true;
  await disposeAll();
});
// The language-server library exits on `exit`; make sure agent processes go with us on signals too.
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => void disposeAll().finally(() => process.exit(0)));

// An unhandled rejection arrives here too (Node's default `throw` mode). A fault whose stack points into a
// plugin's folder is reported as that plugin's problem and the server goes on; any other one ends the process.
process.on('uncaughtException', (e, origin) => {
  if (claimPluginFault(e, origin)) return;
  process.stderr.write(`${redactSecrets(`uncaught exception: ${e.stack ?? e}`)}\n`);
  process.exit(1);
});

connection.listen();
