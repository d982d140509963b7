/**
 * Agent composition: which runtimes exist and how they are configured. With no providers configured,
 * OpenCode talks to the bundled scripted `demo` model (clearly labelled, no API key, offline); the
 * `opencode.providers` setting switches to real OpenAI-compatible providers.
 */
import path from 'node:path';
import { z } from 'zod';
import { describeIssues } from '../../protocol/messages';
import { sandboxModeSchema, type SandboxStatus } from '../../protocol/server';
import { OpencodeAdapter } from './adapters/opencode/opencodeAdapter';
import { BubblewrapSandbox, detectBubblewrap } from './adapters/sandbox/bubblewrap';
import { knownModel, type OpencodeConfigInput, type ProviderConfig } from './adapters/opencode/home';
import { startScriptedModel, type ScriptedModel } from './adapters/scriptedModel/scriptedModel';
import { DomainError } from './domain/errors';
import type { AgentRuntime, TurnTimeouts } from './ports/agentRuntime';
import type { Logger } from './ports/logger';

export const providerSchema = z.object({
  id: z.string().regex(/^[a-z0-9_-]+$/i),
  name: z.string().optional(),
  baseURL: z.string().url(),
  /** A literal key is refused: reference an environment variable as `{env:NAME}`. */
  apiKey: z.string().regex(/^\{env:[A-Za-z_][A-Za-z0-9_]*\}$/, 'must be {env:NAME}; keys never go in settings').optional(),
  models: z.record(z.string(), z.object({ name: z.string().optional(), toolCall: z.boolean().optional(), context: z.number().int().positive().optional(), output: z.number().int().positive().optional() }).strict()),
}).strict();

export const agentSettingsSchema = z.object({
  opencodePath: z.string().min(1).optional(),
  providers: z.array(providerSchema).optional(),
  model: z.string().regex(/^[^/\s]+\/\S+$/, 'must be provider/model').optional(),
  timeouts: z.object({ idleMs: z.number().int().positive().optional(), turnMs: z.number().int().positive().optional(),
    unreachableMs: z.number().int().positive().optional(), permissionMs: z.number().int().positive().optional() }).strict().optional(),
  /** The OS sandbox around agents' shell commands: `auto` (default) uses bubblewrap when it works here. */
  sandbox: sandboxModeSchema.optional(),
}).strict();
export type AgentSettings = z.infer<typeof agentSettingsSchema>;

export const demoModelId = 'demo/scripted';

export function parseAgentSettings(raw: unknown): AgentSettings {
  const r = agentSettingsSchema.safeParse(raw ?? {});
  if (!r.success) throw new DomainError('bad_input', `agent settings: ${describeIssues(r.error)}`);
  return r.data;
}

export class Agents {
  private demo?: ScriptedModel;
  private opencode?: OpencodeAdapter;
  private config?: OpencodeConfigInput;
  private sandbox: SandboxStatus = { enabled: false, reason: 'The sandbox has not been checked yet.' };

  constructor(private readonly dataDir: string, private readonly settings: AgentSettings, private readonly logger: Logger) {}

  /** Starts the demo model when needed and builds the adapters (does not start OpenCode). */
  async init(): Promise<void> {
    let providers: ProviderConfig[] | undefined = this.settings.providers;
    let defaultModel = this.settings.model;
    if (!providers?.length) {
      this.demo = await startScriptedModel();
      providers = [{ id: 'demo', name: 'Demo (scripted, no real LLM)', baseURL: this.demo.url, models: { scripted: { name: 'scripted demo model' } } }];
      defaultModel ??= demoModelId;
      this.logger.info(`no model providers configured: using the scripted demo model at ${this.demo.url}`);
    }
    defaultModel ??= `${providers[0].id}/${Object.keys(providers[0].models)[0]}`;
    this.config = { providers, defaultModel };
    const env: Record<string, string> = {};
    for (const p of providers) {
      const name = /^\{env:(.+)\}$/.exec(p.apiKey ?? '')?.[1];
      if (name && process.env[name]) env[name] = process.env[name]!;
    }
    const detection = await detectBubblewrap({ mode: this.settings.sandbox ?? 'auto' });
    let sandbox: BubblewrapSandbox | undefined;
    this.sandbox = detection.status;
    if (detection.bwrap && detection.bash) {
      try {
        sandbox = new BubblewrapSandbox(path.join(this.dataDir, 'agents', 'opencode', 'sandbox'), { bwrap: detection.bwrap, bash: detection.bash });
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
      timeouts: this.settings.timeouts as Partial<TurnTimeouts> | undefined,
      env,
      log: (line) => this.logger.debug(`[opencode] ${line}`),
    });
  }

  /** Whether agents' shell commands run in the OS sandbox, and why (not). */
  get sandboxStatus(): SandboxStatus {
    return this.sandbox;
  }

  runtime(agent: string): AgentRuntime | undefined {
    return agent === 'opencode' ? this.opencode : undefined;
  }

  get opencodeAdapter(): OpencodeAdapter | undefined {
    return this.opencode;
  }

  get demoModelUrl(): string | undefined {
    return this.demo?.url;
  }

  /** What `agent/list` shows besides health. */
  describe(): { id: string; name: string; description: string; model?: string }[] {
    if (!this.config) return [];
    const demo = !!this.demo;
    return [{
      id: 'opencode',
      name: 'OpenCode',
      description: demo ? 'OpenCode 1.18.33 with the scripted demo model (offline, no real LLM)' : `OpenCode 1.18.33 with ${this.config.providers.map((p) => p.name ?? p.id).join(', ')}`,
      model: this.config.defaultModel,
    }];
  }

  checkModel(agent: string, model: string): string | undefined {
    if (agent !== 'opencode' || !this.config) return `agent ${agent} takes no model`;
    if (knownModel(this.config, model)) return undefined;
    const known = this.config.providers.flatMap((p) => Object.keys(p.models).map((m) => `${p.id}/${m}`));
    return `unknown model ${JSON.stringify(model)}; configured models: ${known.join(', ')}`;
  }

  async dispose(): Promise<void> {
    await this.opencode?.dispose().catch((e: unknown) => this.logger.warn(`disposing OpenCode: ${String(e)}`));
    await this.demo?.close().catch(() => undefined);
  }
}
