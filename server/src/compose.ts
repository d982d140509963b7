/**
 * Builds the services from adapters. Shared by the stdio server (main.ts) and the CLI (cli.ts) so both
 * run exactly the same code; the only `new` of infrastructure lives here.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { AgentEvent } from '../../protocol/agentEvent';
import type { ServerMode, StoreStatus } from '../../protocol/server';
import { acquireDataDirLock } from './adapters/fs/dataDirLock';
import { JsonlTranscripts } from './adapters/fs/jsonlTranscript';
import { RealPathResolver } from './adapters/fs/realPathResolver';
import { GitWorkspace } from './adapters/git/git';
import { DatasetFolders } from './adapters/fs/datasetFolders';
import { LowdbStore } from './adapters/lowdb/lowdbStore';
import { SecretlintScanner } from './adapters/secrets/secretlintScanner';
import { GptTokenCounter } from './adapters/tokens/gptTokenCounter';
import { DatasetService } from './services/datasetService';
import type { Logger } from './ports/logger';
import type { StorePort } from './ports/store';
import { Agents, type AgentSettings } from './agents';
import { StatusService } from './services/statusService';
import { RunService, type RunServiceDeps } from './services/runService';
import { activityKey, withRunActivity } from './services/runActivity';
import type { AgentView } from '../../protocol/agent';
import type { SessionView } from '../../protocol/session';
import { newAgentHealth } from './domain/orchestration/routing';
import { PQueueExecutor } from './adapters/queue/pQueueExecutor';
import { unavailableQuestion } from './domain/agentAvailability';
import { DomainError } from './domain/errors';
import { defaultAllowedCommands } from './domain/permissionPolicy';
import { localTenantId } from './domain/storeSchema';
import { describeWriteFault, writeFaultCode } from './domain/writeFault';
import { SessionRecords } from './services/sessionRecords';
import { SessionRunner } from './services/sessionRunner';
import type { WorkerDispatch } from './services/workerDispatch';
import { SessionService } from './services/sessionService';
import { SessionArchiver } from './services/sessionArchiver';
import { MarketplaceService } from './services/marketplaceService';
import { IndexSources } from './adapters/marketplace/indexSources';
import { AgentInstaller } from './adapters/marketplace/installer';
import { platformKeyOf } from './domain/agentDescriptor';
import { McpHttpServer } from './adapters/mcp/mcpHttpServer';
import { AgentToolService } from './services/agentToolService';
import { version } from './version';
import { startModelServing, type ModelServing } from './fineTuneComposition';

/** The store a service set runs on: the embedded lowdb file, or a team store (`adapters/postgres`). */
export type ServiceStore = StorePort & {
  writable: boolean;
  load(opts: { lockedBy?: string; readOnly?: boolean }): Promise<StoreStatus>;
  close?(): Promise<void>;
};

export interface Services {
  dataDir: string;
  /** The tenant its records carry: `local`, or the team server's tenant on PostgreSQL. */
  tenantId: string;
  store: ServiceStore;
  transcripts: JsonlTranscripts<AgentEvent>;
  status: StatusService;
  /** `dataset/*`: curation over the store's runs and their transcripts; versions under `<dataDir>/datasets/`. */
  datasets: DatasetService;
  /** Gives up the data folder's lock. */
  release(): Promise<void>;
}

/**
 * `access: 'read'` (e.g. `orchestrator status`) never writes; `'write'` takes the data folder's lock and,
 * when another live server holds it, stays read-only and says so in the status. `'write-or-fail'` (the
 * CLI's `run` and `resume`) throws `DomainError('conflict')` with `data.holderPid` instead, before it
 * loads anything.
 */
export async function createServices(opts: {
  dataDir: string;
  mode: ServerMode;
  logger: Logger;
  access?: 'read' | 'write' | 'write-or-fail';
  /** Another store than `<dataDir>/store.json` (the team server's PostgreSQL store of one tenant). */
  store?: () => ServiceStore;
  /** The tenant id every record written carries (default `local`). */
  tenantId?: string;
}): Promise<Services> {
  const tenantId = opts.tenantId ?? localTenantId;
  const dataDir = path.resolve(opts.dataDir);
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  // A write fault (full disk, I/O error, permissions) in the store or a transcript turns the status
  // degraded with the error; the runner stops dispatching on it (createRunServices).
  const onWriteFault = (what: string) => (e: unknown) => {
    if (!writeFaultCode(e)) return;
    const message = describeWriteFault(what, e);
    if (!status.writeFault()) opts.logger.error(message);
    status.reportWriteFault(message);
  };
  const store: ServiceStore =
    opts.store?.() ?? new LowdbStore(path.join(dataDir, 'store.json'), opts.logger, { onWriteError: onWriteFault('the store') });
  const transcripts = new JsonlTranscripts<AgentEvent>(
    path.join(dataDir, 'transcripts'),
    opts.logger,
    undefined,
    onWriteFault('a transcript'),
  );
  const status = new StatusService({ version, mode: opts.mode, dataDir, store, pid: process.pid, node: process.version });
  let release = async (): Promise<void> => undefined;
  let lockedBy: string | undefined;
  const readOnly = opts.access === 'read';
  if (!readOnly) {
    const lock = await acquireDataDirLock(dataDir);
    if (lock.ok) release = lock.release;
    else if (opts.access === 'write-or-fail') {
      throw new DomainError(
        'conflict',
        `${dataDir} is in use by another orchestrator process (pid ${lock.holderPid}, lock file ${lock.file})`,
        { holderPid: lock.holderPid, lockFile: lock.file },
      );
    } else {
      lockedBy = `Another orchestrator server (pid ${lock.holderPid}) is using ${dataDir}.`;
      opts.logger.warn(lockedBy);
    }
  }
  await store.load({ lockedBy, readOnly });
  if (store.close) {
    const releaseFolder = release;
    release = async () => {
      await store.close?.();
      await releaseFolder();
    };
  }
  status.markLoaded();
  // secretlint and the tokenizer load on first use, not here.
  const datasets = new DatasetService({
    store,
    tenantId,
    transcripts,
    folders: new DatasetFolders(path.join(dataDir, 'datasets')),
    secrets: new SecretlintScanner(),
    tokens: new GptTokenCounter(),
    now: () => new Date(),
    logger: opts.logger,
  });
  return { dataDir, tenantId, store, transcripts, status, datasets, release };
}

export interface RunServices {
  agents: Agents;
  /** `agent/list`: the registered agents with their routing health. */
  agentViews(): AgentView[];
  runs: RunService;
  sessions: SessionService;
  /** A session view with its running tasks' live activity (tool in progress, usage so far). */
  liveSession(v: SessionView): SessionView;
  runner: SessionRunner;
  /** `marketplace/*`. */
  marketplace: MarketplaceService;
  /** Promoted model versions served to agents (the `finetuned` provider). */
  serving: ModelServing;
  dispose(): Promise<void>;
}

/** A scratch repository where the planning agent answers (it gets the goal, not the user's files). */
async function plannerWorkspace(dataDir: string, git: GitWorkspace): Promise<string> {
  const dir = path.join(dataDir, 'planner-workspace');
  await fs.mkdir(dir, { recursive: true });
  if (!(await git.headCommit(dir).catch(() => null))) {
    await git.run(dir, ['init', '-q']);
    await fs.writeFile(path.join(dir, 'README.md'), '# Planning scratch space\n');
    await git.commitAll(dir, 'planner workspace');
  }
  return dir;
}

/** Agents, the run service and the session service on top of the base services (the stdio server and the CLI). */
export async function createRunServices(
  base: Services,
  opts: {
    agentSettings: AgentSettings;
    logger: Logger;
    publish: RunServiceDeps['publish'];
    askUser: RunServiceDeps['askUser'];
    /** Team server: the permission answers the server gave by itself, for the tenant's audit log. */
    permissionAnswered?: RunServiceDeps['permissionAnswered'];
    /** Every session change, with its running tasks' live activity. */
    publishSession?: (v: SessionView) => void;
    /** The agent list, whenever an agent's health or availability changed. */
    publishAgents?: (agents: AgentView[]) => void;
    maxParallel?: number;
    /** Team server: how many session tasks may run now (the tenant's task quota less its running single runs), read at every decision. */
    maxActiveTasks?: () => number;
    /** Team server: concurrent session tasks per owner key (`user:<id>`, `key:<id>`), read at every decision. */
    maxTasksPerOwner?: () => Readonly<Record<string, number>>;
    /** Team server: the owner keys of a session (who started it). */
    sessionOwners?: (sessionId: string) => readonly string[];
    /** Programs allowed in agents' shell commands besides `defaultAllowedCommands` (`--allow`, the CLI config's `allow`). */
    allowCommands?: readonly string[];
    /** How long a finished session stays in the hot store before it moves to `store-archive/` (default 10 min). */
    archiveAfterMs?: number;
    /** Team server with workers: session tasks are queued for `orchestrator worker` processes (`serve --workers`). */
    workers?: WorkerDispatch;
  },
): Promise<RunServices> {
  const serving = await startModelServing(base, opts.logger);
  const agents = new Agents(base.dataDir, opts.agentSettings, opts.logger, serving.provider());
  await agents.init();
  serving.onDidChange(() => agents.setFinetunedProvider(serving.provider()));
  // Availability is part of the server status; the probe runs in the background (a few seconds).
  const statusAgents = () => agents.describe().map((a) => ({ id: a.id, name: a.name, availability: agents.availabilityOf(a.id)! }));
  base.status.setAgents(statusAgents());
  base.status.setPlugins(agents.pluginStatus());
  agents.onDidChangeAvailability(() => {
    base.status.setAgents(statusAgents());
    base.status.setPlugins(agents.pluginStatus());
  });
  void agents.probe().catch((e: unknown) => opts.logger.warn(`probing OpenCode failed: ${String(e)}`));
  base.status.setSandbox(agents.sandboxStatus);
  const git = new GitWorkspace();
  const newId = (prefix: string) => () => `${prefix}${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  // A session task's run republishes its session when its tool in progress or its token count changes.
  const leaseTtlMs = 10 * 60_000;
  // Our MCP server for agents (task context, progress, leases, budget): 127.0.0.1, one bearer token per run.
  const mcpServer = new McpHttpServer(opts.logger);
  const agentTools = new AgentToolService({
    store: base.store,
    workspace: git,
    server: mcpServer,
    leaseTtlMs,
    newToken: () => randomBytes(32).toString('base64url'),
    now: Date.now,
    logger: opts.logger,
  });
  const shown = new Map<string, string>();
  const publishRun: RunServiceDeps['publish'] = (u) => {
    opts.publish(u);
    const { run } = u;
    if (!run.sessionId || !run.taskId) return;
    if (run.state !== 'running') {
      shown.delete(run.id);
      return;
    }
    const key = activityKey(run);
    if (shown.get(run.id) === key) return;
    shown.set(run.id, key);
    runner.publish(run.sessionId);
  };
  const runs = new RunService({
    store: base.store,
    transcripts: base.transcripts,
    // The same-run comparison of `npm run bench` (docs/performance.md) switches the pipelined appends off.
    serialAppends: process.env.ORCH_TRANSCRIPT_PIPELINE === '0',
    workspace: git,
    runtime: (a) => agents.runtime(a),
    isDisabled: (a) => agents.isDisabled(a),
    checkModel: (a, m) => agents.checkModel(a, m),
    defaultModel: (a) => agents.defaultModel(a),
    publish: publishRun,
    askUser: opts.askUser,
    tenantId: base.tenantId,
    ...(opts.permissionAnswered ? { permissionAnswered: opts.permissionAnswered } : {}),
    paths: new RealPathResolver(),
    agentTools,
    newId: newId('r'),
    now: () => new Date(),
    logger: opts.logger,
    policy: { allowedCommands: [...new Set([...defaultAllowedCommands, ...(opts.allowCommands ?? [])])] },
  });
  const records = new SessionRecords(base.store, base.tenantId);
  const maxParallel = opts.maxParallel ?? 4;
  /** Tasks running at once now: the parallel limit, or the tenant's lower active-task quota. */
  const globalLimit = () => Math.max(0, Math.min(maxParallel, opts.maxActiveTasks?.() ?? maxParallel));
  const worktreeRoot = path.join(base.dataDir, 'worktrees');
  /** The agents the scheduler routes to (and `agent/list` describes). */
  const currentProfiles = () =>
    [
      { id: 'opencode', capabilities: ['*'], maxConcurrency: maxParallel },
      ...[...agents.acpProfiles(), ...agents.pluginProfiles()].map((p) => ({
        ...p,
        maxConcurrency: Math.min(p.maxConcurrency, maxParallel),
      })),
    ].map((p) => ({ ...p, enabled: !agents.isDisabled(p.id) }));
  // Changed in place when the marketplace installs, removes, enables or disables an agent: the runner reads it at every decision.
  const profiles = currentProfiles();
  const refreshProfiles = () => {
    profiles.splice(0, profiles.length, ...currentProfiles());
    publishAgents();
  };
  function liveSession(v: SessionView): SessionView {
    return withRunActivity(v, (id) => runs.activity(id));
  }
  // Agent health changes with the sessions' dispatches and outcomes; the list is sent when it differs.
  let sentAgents = '';
  function publishAgents(): void {
    if (!opts.publishAgents) return;
    const list = agentViews();
    const text = JSON.stringify(list);
    if (text === sentAgents) return;
    sentAgents = text;
    opts.publishAgents(list);
  }
  agents.onDidChangeAvailability(publishAgents);
  const marketplace = new MarketplaceService({
    store: base.store,
    tenantId: base.tenantId,
    sources: new IndexSources({
      indexes: opts.agentSettings.marketplace?.indexes ?? [],
      custom: opts.agentSettings.marketplace?.custom ?? [],
    }),
    installer: new AgentInstaller(),
    registry: {
      isConfigured: (id) => agents.isConfigured(id),
      register: async (d, o) => {
        await agents.addInstalled(d, o);
        refreshProfiles();
      },
      unregister: async (id) => {
        await agents.removeInstalled(id);
        refreshProfiles();
      },
      setEnabled: (id, enabled) => {
        agents.setInstalledEnabled(id, enabled);
        refreshProfiles();
      },
      running: (id) => base.store.read().agentHealth[id]?.running ?? 0,
    },
    platform: platformKeyOf(process.platform, process.arch) ?? 'linux-x86_64',
    installRoot: path.join(base.dataDir, 'marketplace', 'agents'),
    now: () => new Date(),
    logger: opts.logger,
  });
  // Installed agents are routable before recovery re-queues tasks that may need them.
  if (base.store.status().state !== 'corrupt') await marketplace.start();
  const runner = new SessionRunner({
    records,
    workspace: git,
    runs,
    worktreeRoot,
    executor: new PQueueExecutor(maxParallel, (e) => opts.logger.error(`task execution failed: ${String(e)}`)),
    agents: profiles,
    // With workers the agents run on the workers' machines: whether this one could start them does not matter.
    unavailable: (id) => {
      if (opts.workers) return undefined;
      const a = agents.availabilityOf(id);
      return a?.state === 'unavailable' ? unavailableQuestion(agents.describe().find((x) => x.id === id)?.name ?? id, a) : undefined;
    },
    recheckAgents: opts.workers ? undefined : () => agents.probe(),
    limits: {
      get global() {
        return globalLimit();
      },
      get perOwner() {
        return opts.maxTasksPerOwner?.();
      },
      // The tenant's quota counts a task until its end is recorded (its merge included), as before the
      // slot was freed at the turn's end.
      get tenant() {
        return opts.maxActiveTasks?.();
      },
    },
    ownersOf: opts.sessionOwners,
    leaseTtlMs,
    ...(opts.workers ? { workers: opts.workers } : {}),
    publish: (v) => {
      opts.publishSession?.(liveSession(v));
      publishAgents();
    },
    now: Date.now,
    logger: opts.logger,
    // A draft's first wave and tasks waiting for a slot get their worktree and OpenCode's instance of it before
    // dispatch (issue 13, docs/performance.md); a waiting task's warm-up waits until the dispatched tasks' first
    // model requests went out, so it does not compete with them. On by default; `ORCH_PREWARM_TASKS=0` turns it
    // off. Not with workers (the tasks run in their worktrees, not here).
    ...(!opts.workers && process.env.ORCH_PREWARM_TASKS !== '0'
      ? {
          prewarm: {
            // Only where OpenCode warms the folder too: a worktree alone measured a loss on a busy machine.
            ahead: () => (agents.runtime('opencode')?.warmFolder ? globalLimit() : 0),
            warmAgent: async (cwd: string) => agents.runtime('opencode')?.warmFolder?.(cwd),
          },
        }
      : {}),
  });
  const haltOnFault = () => {
    const f = base.status.writeFault();
    if (f) runner.halt(f);
    // Like the runner, the archiver stops writing after a write fault (until restart).
    if (f) archiver.stop();
  };
  const archiver = new SessionArchiver({
    store: base.store,
    records,
    logger: opts.logger,
    now: Date.now,
    afterMs: opts.archiveAfterMs,
    busy: () => runner.busySessions(),
  });
  base.status.onDidChange(haltOnFault);
  haltOnFault();
  // A halt for another reason (the end of a task could not be recorded) is a fault of the status too.
  runner.onHalt((reason) => base.status.reportWriteFault(reason));
  const sessions = new SessionService({
    records,
    runner,
    workspace: git,
    worktreeRoot,
    newId: newId('s'),
    now: Date.now,
    cancelRun: (id) => runs.cancel(id),
    forgetPermissions: (id) => runs.forgetSession(id),
    defaultPlanner: (model) => (agents.usesDemoModel(model) ? 'template' : 'llm'),
    checkModel: (model) => agents.checkModel('opencode', model),
    prewarm: () =>
      void agents
        .runtime('opencode')
        ?.start()
        .catch((e: unknown) => opts.logger.warn(`pre-warming OpenCode failed: ${String(e)}`)),
    completer: {
      complete: async (prompt, o) => {
        const r = await runs.start({
          agent: 'opencode',
          cwd: await plannerWorkspace(base.dataDir, git),
          prompt,
          sessionId: o?.sessionId,
          model: o?.model,
        });
        const result = await r.done;
        if (result?.status !== 'succeeded')
          throw new DomainError('agent_unavailable', `the planning agent failed: ${result?.error?.message ?? 'no answer'}`);
        return { text: result.summary, usage: result.usage };
      },
    },
  });
  if (base.store.status().state === 'ok' && base.store.writable) {
    const n = await runs.recoverInterrupted();
    if (n) opts.logger.warn(`${n} agent turn(s) were interrupted by a server stop and are marked failed`);
    const m = await sessions.recover();
    if (m) opts.logger.warn(`${m} session task(s) were interrupted by a server stop and are queued again`);
    runner.startTicking();
    archiver.start();
  }
  function agentViews(): AgentView[] {
    // An agent the marketplace is registering has no profile for a moment (refreshProfiles publishes again).
    return agents.describe().flatMap((a) => {
      const h = base.store.read().agentHealth[a.id] ?? newAgentHealth();
      const p = profiles.find((x) => x.id === a.id);
      if (!p) return [];
      return [
        {
          ...a,
          capabilities: p.capabilities,
          maxConcurrency: p.maxConcurrency,
          sandbox: agents.sandboxStatus,
          disabled: p.enabled === false,
          health: {
            running: h.running,
            successes: h.successes,
            failures: h.failures,
            consecutiveFailures: h.consecutiveFailures,
            circuit: h.circuit,
            lastError: h.lastError,
          },
          availability: agents.availabilityOf(a.id)!,
        },
      ];
    });
  }
  return {
    agents,
    runs,
    sessions,
    runner,
    marketplace,
    agentViews,
    liveSession,
    serving,
    dispose: async () => {
      archiver.stop();
      runner.stop();
      await agents.dispose();
      await serving.dispose();
      await mcpServer.close();
      await base.release();
    },
  };
}
