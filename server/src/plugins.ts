/**
 * Plugin adapters (issue 12): third-party `AgentRuntime` modules from `agents.plugins` (folders or npm
 * packages), loaded in-process only when the user trusts their source with the sha256 of the entry file.
 * Each one is checked against the port and runs behind a `GuardedRuntime`; whatever goes wrong (a throw at
 * load, missing functions, a throw or hang in a call, a fault in its timers or promises) is reported in the
 * server status and skipped. The server stays up and the other agents keep working.
 */
import path from 'node:path';
import type { AgentAvailability } from '../../protocol/agent';
import type { PluginStatus } from '../../protocol/server';
import { GuardedRuntime } from './adapters/plugins/guardedRuntime';
import { importPlugin, resolvePlugin, type PluginEntry } from './adapters/plugins/pluginLoader';
import type { AgentProfile } from './domain/orchestration/routing';
import {
  checkPluginModule,
  checkRuntimeShape,
  faultOwner,
  isTrusted,
  pluginSources,
  untrustedMessage,
  type PluginManifest,
  type PluginSettings,
} from './domain/plugins';
import type { AgentRuntime, TurnTimeouts } from './ports/agentRuntime';
import type { Logger } from './ports/logger';

const maxProblems = 20;
const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e)).slice(0, 500);

interface Loaded {
  manifest: PluginManifest;
  runtime: GuardedRuntime;
  availability: AgentAvailability;
}

/** Settles within `ms` (a synchronous throw is a rejection). */
async function within<T>(ms: number, what: string, call: () => T | Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([Promise.resolve().then(call), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Every live `Plugins` (the process-level fault handlers of the server and the CLI ask them). */
const live = new Set<Plugins>();

/**
 * For `process.on('uncaughtException')` (an unhandled rejection arrives there too): true when a plugin's code
 * caused the fault; it was reported as that plugin's problem and the process should go on.
 */
export function claimPluginFault(e: unknown, origin: string): boolean {
  return [...live].some((p) => p.claimFault(e, origin));
}

export class Plugins {
  private readonly statuses: PluginStatus[] = [];
  private readonly loaded = new Map<string, Loaded>();
  /** Every plugin folder we imported code from, by its status (faults are attributed by stack). */
  private readonly roots: { status: PluginStatus; root: string }[] = [];

  constructor(
    private readonly dataDir: string,
    private readonly logger: Logger,
    private readonly onChange: () => void,
    private readonly o: { loadMs?: number; callMs?: number } = {},
  ) {}

  /** Loads every configured plugin; never throws. `taken`: agent ids already registered (OpenCode, ACP agents). */
  async load(settings: PluginSettings | undefined, taken: (id: string) => boolean, timeouts?: Partial<TurnTimeouts>): Promise<void> {
    for (const src of pluginSources(settings)) {
      const status: PluginStatus = { source: src.source, kind: src.kind, state: 'failed' };
      this.statuses.push(status);
      let entry: PluginEntry;
      try {
        entry = resolvePlugin(src, this.dataDir);
      } catch (e) {
        this.fail(status, errText(e));
        continue;
      }
      status.entry = entry.entry;
      status.sha256 = entry.sha256;
      if (!isTrusted(settings, src.source, entry.sha256)) {
        status.state = 'untrusted';
        status.message = untrustedMessage(settings, src.source, entry.sha256);
        this.logger.warn(`plugin ${src.source} was not loaded: ${status.message}`);
        continue;
      }
      this.roots.push({ status, root: entry.root });
      live.add(this);
      try {
        const mod = await within(this.o.loadMs ?? 30_000, 'loading the module', () => importPlugin(entry));
        const m = checkPluginModule(mod);
        if (!m.ok) throw new Error(m.message);
        const manifest = m.value;
        status.agentId = manifest.id;
        if (taken(manifest.id) || this.loaded.has(manifest.id))
          throw new Error(`the agent id "${manifest.id}" is already taken by another agent`);
        const ctx = {
          dataDir: path.join(this.dataDir, 'plugins', 'state', manifest.id),
          log: (line: unknown) => this.logger.debug(`[plugin ${manifest.id}] ${String(line)}`),
        };
        const rt = await within(this.o.loadMs ?? 30_000, 'createRuntime', () => manifest.createRuntime(ctx));
        const shape = checkRuntimeShape(rt, manifest.id);
        if (!shape.ok) throw new Error(shape.message);
        const runtime = new GuardedRuntime({
          pluginId: manifest.id,
          inner: shape.value,
          timeouts,
          callMs: this.o.callMs,
          report: (p) => this.problem(status, p),
          log: ctx.log,
        });
        this.loaded.set(manifest.id, { manifest, runtime, availability: { state: 'ready', since: new Date().toISOString() } });
        status.state = 'loaded';
        this.logger.info(`plugin ${src.source} loaded: agent ${manifest.id} (${manifest.name}), entry ${entry.entry}`);
      } catch (e) {
        this.fail(status, errText(e));
      }
    }
    this.onChange();
  }

  private fail(status: PluginStatus, message: string): void {
    status.state = 'failed';
    status.message = message;
    this.logger.error(`plugin ${status.source} was skipped: ${message}`);
  }

  /** A problem a loaded plugin caused; the plugin stays registered (a failed turn is the turn's outcome). */
  private problem(status: PluginStatus, message: string): void {
    status.problems = [...(status.problems ?? []), message].slice(-maxProblems);
    status.message = message;
    this.logger.warn(`plugin ${status.source}: ${message}`);
    this.onChange();
  }

  /**
   * An uncaught exception or unhandled rejection: when its stack points into a plugin's folder, it is reported
   * as that plugin's problem and the server goes on (true). Otherwise false: not known to be a plugin's.
   */
  claimFault(e: unknown, origin: string): boolean {
    const stack = e instanceof Error ? e.stack : undefined;
    const owner = faultOwner(
      stack,
      this.roots.map((r, i) => ({ id: String(i), root: r.root })),
    );
    if (owner === undefined) return false;
    const kind = origin === 'unhandledRejection' ? 'an unhandled rejection' : 'an uncaught exception';
    this.problem(this.roots[Number(owner)].status, `${kind} in the plugin's code: ${errText(e)}`);
    return true;
  }

  has(id: string): boolean {
    return this.loaded.has(id);
  }

  runtime(id: string): AgentRuntime | undefined {
    return this.loaded.get(id)?.runtime;
  }

  availabilityOf(id: string): AgentAvailability | undefined {
    return this.loaded.get(id)?.availability;
  }

  describe(): { id: string; name: string; description: string }[] {
    return [...this.loaded.values()].map(({ manifest: m }) => ({ id: m.id, name: m.name, description: `${m.description} (plugin)` }));
  }

  profiles(): AgentProfile[] {
    return [...this.loaded.values()].map(({ manifest: m }) => ({
      id: m.id,
      capabilities: m.capabilities,
      maxConcurrency: m.maxConcurrency,
    }));
  }

  /** A copy of every configured plugin's state, for the server status. */
  status(): PluginStatus[] {
    return this.statuses.map((s) => ({ ...s, ...(s.problems ? { problems: [...s.problems] } : {}) }));
  }

  async dispose(): Promise<void> {
    live.delete(this);
    await Promise.all([...this.loaded.values()].map((l) => l.runtime.dispose().catch(() => undefined)));
  }
}
