/**
 * ACP agents registered from descriptors (issue 12): each configured descriptor becomes an `AcpAdapter`
 * runtime with its own availability, described to `agent/list` and offered to routing with the
 * capabilities, concurrency and cost hint of its `_meta.orchestrator`. Nothing here knows an agent by name.
 */
import type { CommandSandbox } from './ports/commandSandbox';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { AcpAdapter } from './adapters/acp/acpAdapter';
import { launchPlan, parseAgentDescriptor, platformKeyOf, routingProfileOf, type AgentDescriptor } from './domain/agentDescriptor';
import { initialAvailability, isFatalStartFailure, nextAvailability, type AvailabilityEvent } from './domain/agentAvailability';
import type { AgentAvailability } from '../../protocol/agent';
import type { AgentProfile } from './domain/orchestration/routing';
import { AgentError, type AgentRuntime, type TurnTimeouts } from './ports/agentRuntime';
import type { Logger } from './ports/logger';

/** One ACP agent in the settings: its descriptor (registry format + `_meta.orchestrator`) and where its program is. */
export const acpAgentSettingSchema = z
  .object({
    descriptor: z.unknown(),
    /** The program to run instead of the descriptor's distribution (an installed binary, a local build). */
    commandPath: z.string().min(1).optional(),
    /** Where a binary distribution was unpacked. */
    installDir: z.string().min(1).optional(),
  })
  .strict();
export type AcpAgentSetting = z.infer<typeof acpAgentSettingSchema>;

/** Validates every descriptor; throws the first problem as `acpAgents.N.descriptor: …` naming the field. */
export function parseAcpAgentSettings(list: readonly AcpAgentSetting[]): { setting: AcpAgentSetting; descriptor: AgentDescriptor }[] {
  const seen = new Set<string>(['opencode']);
  return list.map((setting, i) => {
    const descriptor = parseAgentDescriptor(setting.descriptor, `acpAgents.${i}.descriptor`);
    if (seen.has(descriptor.id)) throw new Error(`acpAgents.${i}.descriptor "${descriptor.id}": id: is already taken by another agent`);
    seen.add(descriptor.id);
    return { setting, descriptor };
  });
}

interface Entry {
  descriptor: AgentDescriptor;
  adapter: AcpAdapter;
  runtime: AgentRuntime;
  availability: AgentAvailability;
}

/** Whether `command` can be run: an existing file, or a name found on PATH. */
function resolvable(command: string, pathVar = process.env.PATH ?? ''): boolean {
  if (command.includes('/') || command.includes('\\')) return fs.existsSync(command);
  return pathVar.split(path.delimiter).some((d) => d && fs.existsSync(path.join(d, command)));
}

export class AcpAgents {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly dataDir: string,
    private readonly logger: Logger,
    private readonly onChange: () => void,
  ) {}

  private timeouts?: Partial<TurnTimeouts>;
  private sandbox?: CommandSandbox;

  init(settings: readonly AcpAgentSetting[], timeouts?: Partial<TurnTimeouts>, sandbox?: CommandSandbox): void {
    this.timeouts = timeouts;
    this.sandbox = sandbox;
    for (const { setting, descriptor } of parseAcpAgentSettings(settings)) this.add(descriptor, setting);
  }

  /** Registers one agent (from the settings or installed from the marketplace); the caller checks the id is free. */
  add(descriptor: AgentDescriptor, setting: Omit<AcpAgentSetting, 'descriptor'>): void {
    const adapter = new AcpAdapter({
      descriptor,
      dataDir: path.join(this.dataDir, 'agents', 'acp', descriptor.id),
      commandPath: setting.commandPath,
      installDir: setting.installDir,
      timeouts: this.timeouts,
      sandbox: this.sandbox,
      log: (line) => this.logger.debug(line),
    });
    const entry: Entry = { descriptor, adapter, runtime: adapter, availability: initialAvailability(Date.now()) };
    entry.runtime = this.track(entry);
    this.entries.set(descriptor.id, entry);
    // The cheap probe: the program is there (a start failure is seen on the first turn).
    const plan = launchPlan(descriptor, {
      platform: platformKeyOf(process.platform, process.arch) ?? 'linux-x86_64',
      commandPath: setting.commandPath,
      installDir: setting.installDir,
    });
    if (resolvable(plan.command)) this.observe(entry, { type: 'probe_passed', nowMs: Date.now() });
    else
      this.observe(entry, {
        type: 'fatal',
        reason: 'not_installed',
        message: `${descriptor.name}: ${plan.command} was not found; install it or set commandPath for this agent.`,
        nowMs: Date.now(),
      });
    this.logger.info(
      `ACP agent ${descriptor.id} (${descriptor.name} ${descriptor.version}) registered: ${plan.command} ${plan.args.join(' ')}`,
    );
  }

  /** Stops and forgets an agent (marketplace uninstall or update). */
  async remove(id: string): Promise<void> {
    const e = this.entries.get(id);
    if (!e) return;
    this.entries.delete(id);
    await e.adapter.dispose().catch((err: unknown) => this.logger.warn(`disposing ${id}: ${String(err)}`));
    this.onChange();
  }

  private observe(entry: Entry, e: AvailabilityEvent): void {
    const next = nextAvailability(entry.availability, e);
    if (next === entry.availability) return;
    entry.availability = next;
    if (next.state === 'unavailable') this.logger.error(`${entry.descriptor.name} is unavailable (${next.reason}): ${next.message}`);
    this.onChange();
  }

  /**
   * Availability tracking as for OpenCode. The model a session names is OpenCode's: an ACP agent chooses its
   * own, so `model` is dropped from its prompts.
   */
  private track(entry: Entry): AgentRuntime {
    const inner = entry.adapter;
    const fatal = (reason: string | undefined, message: string) => {
      if (isFatalStartFailure(reason)) this.observe(entry, { type: 'fatal', reason, message, nowMs: Date.now() });
    };
    return {
      id: inner.id,
      start: async () => {
        try {
          await inner.start();
          this.observe(entry, { type: 'started', nowMs: Date.now() });
        } catch (e) {
          if (e instanceof AgentError) fatal(e.reason, e.message);
          throw e;
        }
      },
      prompt: async (req, onEvent) => {
        const { model: _model, ...rest } = req;
        const r = await inner.prompt(rest, onEvent);
        if (r.error && isFatalStartFailure(r.error.reason)) fatal(r.error.reason, r.error.message);
        else if (r.agentSessionId) this.observe(entry, { type: 'started', nowMs: Date.now() });
        return r;
      },
      cancel: (taskId) => inner.cancel(taskId),
      // Without it a finished run's process would wait out the idle period instead of serving the next run.
      release: (runId) => inner.release(runId),
      dispose: () => inner.dispose(),
    };
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  runtime(id: string): AgentRuntime | undefined {
    return this.entries.get(id)?.runtime;
  }

  availabilityOf(id: string): AgentAvailability | undefined {
    return this.entries.get(id)?.availability;
  }

  describe(): { id: string; name: string; description: string }[] {
    return [...this.entries.values()].map(({ descriptor: d }) => ({
      id: d.id,
      name: d.name,
      description: `${d.description} (ACP agent ${d.name} ${d.version})`,
    }));
  }

  /** Routing profiles from the descriptors' `_meta.orchestrator`. */
  profiles(): AgentProfile[] {
    return [...this.entries.values()].map((e) => routingProfileOf(e.descriptor));
  }

  async dispose(): Promise<void> {
    await Promise.all(
      [...this.entries.values()].map((e) =>
        e.adapter.dispose().catch((err: unknown) => this.logger.warn(`disposing ${e.descriptor.id}: ${String(err)}`)),
      ),
    );
  }
}
