/**
 * Composition root of the orchestrator server spawned by the extension (stdio JSON-RPC).
 * It wires the connection to adapters, services and handlers and does nothing else.
 */
import { createConnection, ProposedFeatures, type InitializeResult } from 'vscode-languageserver/node';
import { z } from 'zod';
import { describeIssues } from '../../protocol/messages';
import { createLogger } from './adapters/lspLogger';
import { createServices, type Services } from './compose';
import { argValue, defaultDataDir } from './dataDir';
import { registerServerHandlers } from './handlers/server';
import type { LogLevel } from './ports/logger';
import { version } from './version';

const initOptions = z.object({
  dataDir: z.string().min(1).optional(),
  logLevel: z.enum(['error', 'warn', 'info', 'debug']).optional(),
}).passthrough();

const connection = createConnection(ProposedFeatures.all);
let level: LogLevel = 'info';
const logger = createLogger(connection.console, () => level);
let services: Services | undefined;

connection.onInitialize(async (params): Promise<InitializeResult> => {
  const parsed = initOptions.safeParse(params.initializationOptions ?? {});
  if (!parsed.success) throw new Error(`Invalid initializationOptions: ${describeIssues(parsed.error)}`);
  level = parsed.data.logLevel ?? level;
  const dataDir = parsed.data.dataDir ?? argValue(process.argv, '--data-dir') ?? defaultDataDir();
  services = await createServices({ dataDir, mode: 'stdio', logger });
  registerServerHandlers(connection, services.status, logger);
  logger.info(`orchestrator server ${version} (pid ${process.pid}, node ${process.version}) using ${services.dataDir}`);
  return { capabilities: {}, serverInfo: { name: 'industrial-orchestrator', version } };
});

connection.onInitialized(() => services?.status.publish());

process.on('uncaughtException', (e) => {
  process.stderr.write(`uncaught exception: ${e.stack ?? e}\n`);
  process.exit(1);
});

connection.listen();
