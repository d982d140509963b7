/**
 * Agent composition: which runtimes exist and how they are configured. With no providers configured,
 * OpenCode talks to the bundled scripted `demo` model (clearly labelled, no API key, offline); the
 * `opencode.providers` setting switches to real OpenAI-compatible providers.
 */
import path from 'node:path';
import { z } from 'zod';
import { describeIssues } from '../../protocol/messages';
import { modelId, type AgentAvailability } from '../../protocol/agent';
import { providerSchema } from '../../protocol/provider';
import { probeOpencode } from './adapters/opencode/binary';
import { sandboxModeSchema, type SandboxStatus } from '../../protocol/server';
import { OpencodeAdapter } from './adapters/opencode/opencodeAdapter';
import { BubblewrapSandbox, detectBubblewrap } from './adapters/sandbox/bubblewrap';
import { knownModel, type OpencodeConfigInput, type ProviderConfig } from './adapters/opencode/home';
import { startScriptedModel, type ScriptedModel } from './adapters/scriptedModel/scriptedModel';
import { initialAvailability, isFatalStartFailure, nextAvailability, type AvailabilityEvent } from './domain/agentAvailability';
import { DomainError } from './domain/errors';
import { addKnownSecrets } from './domain/redact';
import { AgentError, type AgentRuntime, type TurnTimeouts } from './ports/agentRuntime';
import type { Logger } from './ports/logger';
import { AcpAgents, acpAgentSettingSchema, parseAcpAgentSettings } from './acpAgents';
import type { AgentProfile } from './domain/orchestration/routing';
import type { AgentDescriptor } from './domain/agentDescriptor';
import { customEntrySchema } from './domain/marketplace/catalog';
import { pluginSettingsSchema } from './domain/plugins';
import { Plugins } from './plugins';
import type { PluginStatus } from '../../protocol/server';

export { providerSchema };

export const agentSettingsSchema = z
  .object({
    opencodePath: z.string().min(1).optional(),
    providers: z.array(providerSchema).optional(),
    model: modelId.optional(),
    timeouts: z
      .object({
        idleMs: z.number().int().positive().optional(),
        turnMs: z.number().int().positive().optional(),
        unreachableMs: z.number().int().positive().optional(),
        permissionMs: z.number().int().positive().optional(),
      })
      .strict()
      .optional(),
    /** The OS sandbox around agents' shell commands: `auto` (default) uses bubblewrap when it works here. */
    sandbox: sandboxModeSchema.optional(),
    /** ACP agents registered from descriptors (ACP registry format + `_meta.orchestrator`), routed next to OpenCode. */
    acpAgents: z.array(acpAgentSettingSchema).optional(),
    /** The agent marketplace: index files or URLs besides the bundled snapshot, and local custom entries. */
    marketplace: z
      .object({ indexes: z.array(z.string().min(1)).optional(), custom: z.array(customEntrySchema).optional() })
      .strict()
      .optional(),
    /** Plugin adapters: third-party `AgentRuntime` modules, loaded only when trusted (source + sha256 of the entry file). */
    plugins: pluginSettingsSchema.optional(),
    /** Agent ids that take no new task (`orchestrator.agents.disabled`); tasks already running on them finish. */
    disabled: z.array(z.string().min(1)).optional(),
  })
  .strict();
export type AgentSettings = z.infer<typeof agentSettingsSchema>;

export const demoModelId = 'demo/scripted';

/**
 * The `provider/model` names a settings object offers: the configured providers' models plus the scripted demo
 * model, which always runs next to them (a session may pick it; it is the default when no provider is configured),
 * unless a configured provider is itself named `demo`.
 */
export function configuredModels(settings: Pick<AgentSettings, 'providers' | 'model'>): string[] {
  if (!settings.providers?.length) return [demoModelId];
  const models = settings.providers.flatMap((p) => Object.keys(p.models).map((m) => `${p.id}/${m}`));
  return wantsDemo(settings) && !models.includes(demoModelId) ? [...models, demoModelId] : models;
}

function wantsDemo(settings: Pick<AgentSettings, 'providers' | 'model'>): boolean {
  return !settings.providers?.some((p) => p.id === 'demo');
}

export function parseAgentSettings(raw: unknown): AgentSettings {
  const r = agentSettingsSchema.safeParse(raw ?? {});
  if (!r.success) throw new DomainError('bad_input', `agent settings: ${describeIssues(r.error)}`);
  try {
    parseAcpAgentSettings(r.data.acpAgents ?? []);
  } catch (e) {
    throw new DomainError('bad_input', `agent settings: ${e instanceof Error ? e.message : String(e)}`);
  }
  return r.data;
}

/** The setting that fixes OpenCode's fatal start failures. */
export const opencodePathSetting = 'orchestrator.opencode.path';

export class Agents {
  private demo?: ScriptedModel;
  private opencode?: OpencodeAdapter;
  private tracked?: AgentRuntime;
  private config?: OpencodeConfigInput;
  private availability: AgentAvailability = initialAvailability(Date.now());
  private probing?: Promise<void>;
  private readonly stopping = new AbortController();
  private readonly availabilityListeners = new Set<() => void>();
  private sandbox: SandboxStatus = { enabled: false, reason: 'The sandbox has not been checked yet.' };
  private readonly acp: AcpAgents;
  private readonly marketplaceDisabled = new Set<string>();
  private readonly plugins: Plugins;

  constructor(
    private readonly dataDir: string,
    private readonly settings: AgentSettings,
    private readonly logger: Logger,
    /** Promoted fine-tuned versions (`model/promote`), served locally: an OpenAI-compatible provider entry. */
    private finetuned?: ProviderConfig,
  ) {
    const changed = () => {
      for (const l of this.availabilityListeners) l();
    };
    this.acp = new AcpAgents(dataDir, logger, changed);
    this.plugins = new Plugins(dataDir, logger, changed);
  }

  /** Called whenever an agent's availability changes (for the server status). */
  onDidChangeAvailability(listener: () => void): () => void {
    this.availabilityListeners.add(listener);
    return () => this.availabilityListeners.delete(listener);
  }

  /** OpenCode's availability (protocol `AgentAvailability`). */
  availabilityOf(agent: string): AgentAvailability | undefined {
    if (this.acp.has(agent)) return this.acp.availabilityOf(agent);
    if (this.plugins.has(agent)) return this.plugins.availabilityOf(agent);
    return agent === 'opencode' && this.config ? this.availability : undefined;
  }

  private observe(e: AvailabilityEvent): void {
    const next = nextAvailability(this.availability, e);
    if (next === this.availability) return;
    this.availability = next;
    if (next.state === 'unavailable') this.logger.error(`OpenCode is unavailable (${next.reason}): ${next.message}`);
    else this.logger.info(`OpenCode is ${next.state}`);
    for (const l of this.availabilityListeners) l();
  }

  /**
   * The cheap probe: resolve the binary and run `--version` (deadline 30 s). Concurrent calls share one
   * probe. Run at start and again before work that needs an agent which was unavailable.
   */
  probe(): Promise<void> {
    this.probing ??= (async () => {
      const r = await probeOpencode({
        explicitPath: this.settings.opencodePath,
        signal: this.stopping.signal,
      });
      const nowMs = Date.now();
      if (r.ok) this.observe({ type: 'probe_passed', nowMs });
      else if (r.reason === 'inconclusive') {
        this.logger.warn(`OpenCode probe: ${r.message}`);
        this.observe({ type: 'inconclusive', nowMs });
      } else this.observe({ type: 'fatal', reason: r.reason, message: r.message, setting: opencodePathSetting, nowMs });
    })().finally(() => (this.probing = undefined));
    return this.probing;
  }

  /** True when `model` (absent: the default model) is the scripted demo model: it cannot plan, so the template planner does. */
  usesDemoModel(model?: string): boolean {
    return this.demo !== undefined && (model ?? this.config?.defaultModel) === demoModelId;
  }

  /** Starts the demo model when needed and builds the adapters (does not start OpenCode). */
  async init(): Promise<void> {
    let providers: ProviderConfig[] = this.settings.providers ?? [];
    let defaultModel = this.settings.model;
    if (wantsDemo(this.settings)) {
      // No request log: the demo model lives as long as the server, and memory must not grow with its turns.
      this.demo = await startScriptedModel({ record: false });
      const demo = {
        id: 'demo',
        name: 'Demo (scripted, no real LLM)',
        baseURL: this.demo.url,
        models: { scripted: { name: 'scripted demo model' } },
      };
      this.logger.info(
        providers.length
          ? `the scripted demo model runs at ${this.demo.url} next to the configured providers (sessions may pick ${demoModelId})`
          : `no model providers configured: using the scripted demo model at ${this.demo.url}`,
      );
      providers = [...providers, demo];
      defaultModel ??= demoModelId;
    }
    defaultModel ??= `${providers[0].id}/${Object.keys(providers[0].models)[0]}`;
    if (this.finetuned) providers = [...providers.filter((p) => p.id !== this.finetuned!.id), this.finetuned];
    this.config = { providers, defaultModel };
    const env: Record<string, string> = {};
    for (const p of providers) {
      const name = /^\{env:(.+)\}$/.exec(p.apiKey ?? '')?.[1];
      if (name && process.env[name]) env[name] = process.env[name]!;
    }
    // Keys handed over in the environment never reach a log line or a transcript, whatever their shape.
    addKnownSecrets(Object.values(env));
    const detection = await detectBubblewrap({ mode: this.settings.sandbox ?? 'auto' });
    let sandbox: BubblewrapSandbox | undefined;
    this.sandbox = detection.status;
    if (detection.bwrap && detection.bash) {
      try {
        sandbox = new BubblewrapSandbox(path.join(this.dataDir, 'agents', 'opencode', 'sandbox'), {
          bwrap: detection.bwrap,
          bash: detection.bash,
        });
      } catch (e) {
        this.sandbox = { enabled: false, reason: `The sandbox could not be set up: ${e instanceof Error ? e.message : String(e)}` };
      }
    }
    this.logger.info(`agents' command sandbox: ${this.sandbox.enabled ? 'on' : 'off'}: ${this.sandbox.reason}`);
    this.opencode = new OpencodeAdapter({
      dataDir: path.join(this.dataDir, 'agents', 'opencode'),
      sandbox,
      models: this.config,
      binaryPath: this.settings.opencodePath,
      // A start that misses this deadline is a fatal start failure (the user is asked), so it is generous:
      // on a loaded machine `opencode serve` has taken more than 30 s to print its listening line.
      startTimeoutMs: 90_000,
      timeouts: this.settings.timeouts as Partial<TurnTimeouts> | undefined,
      env,
      log: (line) => this.logger.debug(`[opencode] ${line}`),
    });
    this.tracked = this.track(this.opencode);
    this.acp.init(this.settings.acpAgents ?? [], this.settings.timeouts as Partial<TurnTimeouts> | undefined, sandbox);
    await this.plugins.load(
      this.settings.plugins,
      (id) => id === 'opencode' || this.acp.has(id),
      this.settings.timeouts as Partial<TurnTimeouts> | undefined,
    );
  }

  /**
   * Replaces the provider of promoted fine-tuned versions: `run/start` and sessions accept its models at once,
   * and OpenCode is restarted with it before its next turn that finds no other turn running.
   */
  setFinetunedProvider(p: ProviderConfig | undefined): void {
    if (!this.config) return;
    const id = p?.id ?? this.finetuned?.id;
    this.finetuned = p;
    const providers = [...this.config.providers.filter((x) => x.id !== id), ...(p ? [p] : [])];
    this.config = { ...this.config, providers };
    this.opencode?.setModels(this.config);
    this.logger.info(
      `fine-tuned models for agents: ${
        p
          ? Object.keys(p.models)
              .map((m) => `${p.id}/${m}`)
              .join(', ')
          : 'none'
      }`,
    );
  }

  /** Plugin adapters and what became of them (server status). */
  pluginStatus(): PluginStatus[] {
    return this.plugins.status();
  }

  /** Routing profiles of the plugin agents. */
  pluginProfiles(): AgentProfile[] {
    return this.plugins.profiles();
  }

  /** Routing profiles of the ACP agents (OpenCode's is the composition root's). */
  acpProfiles(): AgentProfile[] {
    return this.acp.profiles();
  }

  /**
   * The runtime with availability tracking: a turn that reached the agent (it has an agent session) proves
   * it started; a fatal start failure (`not_installed`, `start_failed`) makes it unavailable at once.
   */
  private track(inner: AgentRuntime): AgentRuntime {
    const fatal = (reason: string | undefined, message: string) => {
      if (isFatalStartFailure(reason)) this.observe({ type: 'fatal', reason, message, setting: opencodePathSetting, nowMs: Date.now() });
    };
    return {
      id: inner.id,
      start: async () => {
        try {
          await inner.start();
          this.observe({ type: 'started', nowMs: Date.now() });
        } catch (e) {
          if (e instanceof AgentError) fatal(e.reason, e.message);
          throw e;
        }
      },
      prompt: async (req, onEvent) => {
        const r = await inner.prompt(req, onEvent);
        if (r.error && isFatalStartFailure(r.error.reason)) fatal(r.error.reason, r.error.message);
        else if (r.agentSessionId) this.observe({ type: 'started', nowMs: Date.now() });
        return r;
      },
      cancel: (taskId) => inner.cancel(taskId),
      // Without it every finished run's per-task state (event log, OpenCode session ids) was kept for good.
      release: (runId) => inner.release?.(runId),
      warmFolder: async (cwd) => inner.warmFolder?.(cwd),
      dispose: () => inner.dispose(),
    };
  }

  /** Whether agents' shell commands run in the OS sandbox, and why (not). */
  get sandboxStatus(): SandboxStatus {
    return this.sandbox;
  }

  runtime(agent: string): AgentRuntime | undefined {
    if (this.acp.has(agent)) return this.acp.runtime(agent);
    if (this.plugins.has(agent)) return this.plugins.runtime(agent);
    return agent === 'opencode' ? this.tracked : undefined;
  }

  /** What `agent/list` shows besides health. */
  describe(): { id: string; name: string; description: string; model?: string }[] {
    if (!this.config) return [];
    const demo = this.config.providers.every((p) => p.id === 'demo');
    return [
      {
        id: 'opencode',
        name: 'OpenCode',
        description: demo
          ? 'OpenCode 1.18.33 with the scripted demo model (offline, no real LLM)'
          : `OpenCode 1.18.33 with ${this.config.providers.map((p) => p.name ?? p.id).join(', ')}`,
        model: this.config.defaultModel,
      },
      ...this.acp.describe(),
      ...this.plugins.describe(),
    ];
  }

  /** Whether the settings (or the marketplace) disable the agent: routing gives it no task. */
  isDisabled(agent: string): boolean {
    return (this.settings.disabled?.includes(agent) ?? false) || this.marketplaceDisabled.has(agent);
  }

  /** Whether the id is taken by an agent of the settings (OpenCode, `agents.acpAgents`), not by the marketplace. */
  isConfigured(agent: string): boolean {
    return (
      agent === 'opencode' ||
      this.plugins.has(agent) ||
      (this.settings.acpAgents ?? []).some((a) => (a.descriptor as { id?: unknown } | null)?.id === agent)
    );
  }

  /** Registers an agent installed from the marketplace (replacing an earlier registration of the id). */
  async addInstalled(descriptor: AgentDescriptor, o: { commandPath?: string; installDir?: string; enabled: boolean }): Promise<void> {
    await this.acp.remove(descriptor.id);
    this.setInstalledEnabled(descriptor.id, o.enabled);
    this.acp.add(descriptor, { commandPath: o.commandPath, installDir: o.installDir });
  }

  async removeInstalled(id: string): Promise<void> {
    this.marketplaceDisabled.delete(id);
    await this.acp.remove(id);
  }

  setInstalledEnabled(id: string, enabled: boolean): void {
    if (enabled) this.marketplaceDisabled.delete(id);
    else this.marketplaceDisabled.add(id);
  }

  /** OpenCode's default model; an ACP agent chooses its own (undefined). */
  defaultModel(agent: string): string | undefined {
    return agent === 'opencode' ? this.config?.defaultModel : undefined;
  }

  checkModel(agent: string, model: string): string | undefined {
    // An ACP agent chooses its own model; a session's model is OpenCode's and is not passed to it.
    if (this.acp.has(agent) || this.plugins.has(agent)) return undefined;
    if (agent !== 'opencode' || !this.config) return `agent ${agent} takes no model`;
    if (knownModel(this.config, model)) return undefined;
    return `unknown model ${JSON.stringify(model)}; configured models: ${configuredModels(this.config).join(', ')}`;
  }

  async dispose(): Promise<void> {
    this.stopping.abort();
    await this.acp.dispose();
    await this.plugins.dispose();
    await this.opencode?.dispose().catch((e: unknown) => this.logger.warn(`disposing OpenCode: ${String(e)}`));
    await this.demo?.close().catch(() => undefined);
  }
}
