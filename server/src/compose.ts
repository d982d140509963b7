/**
 * Builds the services from adapters. Shared by the stdio server (main.ts) and the CLI (cli.ts) so both
 * run exactly the same code; the only `new` of infrastructure lives here.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ServerMode } from '../../protocol/server';
import { JsonlTranscripts } from './adapters/fs/jsonlTranscript';
import { LowdbStore } from './adapters/lowdb/lowdbStore';
import type { Logger } from './ports/logger';
import { StatusService } from './services/statusService';
import { version } from './version';

export interface Services {
  dataDir: string;
  store: LowdbStore;
  transcripts: JsonlTranscripts;
  status: StatusService;
}

export async function createServices(opts: { dataDir: string; mode: ServerMode; logger: Logger }): Promise<Services> {
  const dataDir = path.resolve(opts.dataDir);
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  const store = new LowdbStore(path.join(dataDir, 'store.json'), opts.logger);
  const transcripts = new JsonlTranscripts(path.join(dataDir, 'transcripts'), opts.logger);
  const status = new StatusService({ version, mode: opts.mode, dataDir, store, pid: process.pid, node: process.version });
  await store.load();
  status.markLoaded();
  return { dataDir, store, transcripts, status };
}
