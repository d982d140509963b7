/**
 * `agent/*`: the agents the server can route tasks to, with their runtime health. Times are ISO 8601 strings.
 */
import { z } from 'zod';
import { defineNotification, defineRequest } from './messages';
import type { SandboxStatus } from './server';

/**
 * Whether an agent can start at all, apart from how well it does (health). `checking`: not known yet (the
 * start-up probe is running); `ready`: its runtime started once, or the probe (binary resolved,
 * `--version` answered) passed; `unavailable`: a fatal start failure (`not_installed`, `start_failed`)
 * that retrying will not fix. An unavailable agent takes no task: sessions that need it wait in
 * `awaiting_approval` with the reason, and no attempt is counted.
 */
export interface AgentAvailability {
  state: 'checking' | 'ready' | 'unavailable';
  reason?: 'not_installed' | 'start_failed';
  /** One human sentence: what is wrong and what to do (set orchestrator.opencode.path, install the platform build). */
  message?: string;
  /** The setting that fixes it, e.g. `orchestrator.opencode.path`. */
  setting?: string;
  /** When the state was reached. */
  since: string;
}

export interface AgentView {
  id: string;
  name: string;
  /** What the agent drives (binary, provider), in one line. */
  description: string;
  capabilities: string[];
  maxConcurrency: number;
  /** Default model (`provider/model`), when the agent takes one. */
  model?: string;
  /** Whether this agent's shell commands run in the OS sandbox, and why (not). */
  sandbox: SandboxStatus;
  /** Disabled by the user (`orchestrator.agents.disabled`): routing gives it no new task; running ones finish. */
  disabled: boolean;
  health: {
    /** Tasks running on the agent now. */
    running: number;
    successes: number;
    failures: number;
    consecutiveFailures: number;
    circuit: 'closed' | 'open';
    lastError?: string;
  };
  availability: AgentAvailability;
}

/** `agent/list` (client → server): registered agents with health and availability. */
export const agentList = defineRequest<AgentView[]>()('agent/list', 'clientToServer', z.object({}).strict());

/**
 * `agent/didChange` (server → client): the full agent list after an agent's health or availability changed
 * (an object, not a bare array: JSON-RPC would spread an array into positional params).
 */
export const agentDidChange = defineNotification('agent/didChange', 'serverToClient', z.custom<{ agents: AgentView[] }>());

/** A model id, `provider/model`: the one definition every input schema (protocol, settings, config) uses. */
export const modelIdPattern = /^[^/\s]+\/\S+$/;
export const modelId = z.string().regex(modelIdPattern, 'must be provider/model');
