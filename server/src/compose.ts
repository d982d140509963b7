/**
 * Builds the services from adapters. Shared by the stdio server (main.ts) and the CLI (cli.ts) so both
 * run exactly the same code; the only `new` of infrastructure lives here.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ServerMode } from '../../protocol/server';
import { JsonlTranscripts } from './adapters/fs/jsonlTranscript';
import { GitWorkspace } from './adapters/git/git';
import { LowdbStore } from './adapters/lowdb/lowdbStore';
import type { Logger } from './ports/logger';
import { Agents, type AgentSettings } from './agents';
import { StatusService } from './services/statusService';
import { TaskService, type TaskServiceDeps } from './services/taskService';
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

export interface RunServices {
  agents: Agents;
  tasks: TaskService;
  dispose(): Promise<void>;
}

/** Agents and the task service on top of the base services (the stdio server and `orchestrator run`). */
export async function createRunServices(base: Services, opts: {
  agentSettings: AgentSettings;
  logger: Logger;
  publish: TaskServiceDeps['publish'];
  askUser: TaskServiceDeps['askUser'];
}): Promise<RunServices> {
  const agents = new Agents(base.dataDir, opts.agentSettings, opts.logger);
  await agents.init();
  const tasks = new TaskService({
    store: base.store,
    transcripts: base.transcripts,
    workspace: new GitWorkspace(),
    runtime: (a) => agents.runtime(a),
    checkModel: (a, m) => agents.checkModel(a, m),
    publish: opts.publish,
    askUser: opts.askUser,
    newId: () => `t${Date.now().toString(36)}${randomBytes(3).toString('hex')}`,
    now: () => new Date(),
    logger: opts.logger,
  });
  if (base.store.status().state === 'ok') {
    const n = await tasks.recoverInterrupted();
    if (n) opts.logger.warn(`${n} task(s) were interrupted by a server stop and are marked failed`);
  }
  return { agents, tasks, dispose: () => agents.dispose() };
}
