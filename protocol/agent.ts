/**
 * `agent/*`: the agents the server can route tasks to, with their runtime health.
 */
import { z } from 'zod';
import { defineRequest } from './messages';
import type { SandboxStatus } from './server';

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
  health: { running: number; successes: number; failures: number; consecutiveFailures: number; circuit: 'closed' | 'open'; lastError?: string };
}

/** `agent/list` (client → server): registered agents with health. */
export const agentList = defineRequest<AgentView[]>()('agent/list', 'clientToServer', z.object({}).strict());
