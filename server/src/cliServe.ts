/**
 * `orchestrator serve --listen HOST:PORT`: the team server (see docs/team-server.md). Runs until SIGTERM
 * or SIGINT, then stops agents and gives up the tenants' data folders. Prints one line on stdout once it
 * listens: `listening on ws://HOST:PORT` (with the real port when PORT is 0).
 */
import { startTeamServer } from './teamServer';
import { parseStoreOption } from './teamStore';
import { checkWorkersOptions } from './teamWorkers';
import { CliUsageError } from './cliArgs';
import type { AgentSettings } from './agents';
import type { Logger } from './ports/logger';

export function parseListen(value: string | undefined): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(value ?? '');
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535)
    throw new CliUsageError(`serve needs --listen HOST:PORT, e.g. --listen 127.0.0.1:7420 (got ${JSON.stringify(value ?? '')})`, 'serve');
  return { host: m[1].replace(/^\[|\]$/g, ''), port };
}

export async function serve(
  opts: {
    dataDir: string;
    listen: string | undefined;
    agentSettings: AgentSettings;
    maxRequestsPerMinute?: number;
    store?: string;
    workers?: boolean;
    remote?: string;
    workersTenant?: string;
    workerWarnSeconds?: number;
    workerDeadlineSeconds?: number;
  },
  logger: Logger,
): Promise<number> {
  const { host, port } = parseListen(opts.listen);
  const storeUrl = parseStoreOption(opts.store);
  const workers = checkWorkersOptions({
    workers: opts.workers === true,
    remote: opts.remote,
    tenant: opts.workersTenant,
    storeUrl,
    warnSeconds: opts.workerWarnSeconds,
    pickupSeconds: opts.workerDeadlineSeconds,
  });
  const server = await startTeamServer({
    dataDir: opts.dataDir,
    host,
    port,
    logger,
    agentSettings: opts.agentSettings,
    maxRequestsPerMinute: opts.maxRequestsPerMinute,
    storeUrl,
    workers,
  });
  const shown = host.includes(':') ? `[${host}]` : host;
  process.stdout.write(`listening on ws://${shown}:${server.port}\n`);
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1')
    process.stderr.write(
      'orchestrator: warning: listening beyond this machine without TLS; put a TLS proxy in front (docs/team-server.md)\n',
    );
  await new Promise<void>((resolve) => {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => resolve());
  });
  const deadline = new Promise<void>((r) => setTimeout(r, 10_000).unref());
  await Promise.race([server.close(), deadline]);
  return 0;
}
