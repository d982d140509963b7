/**
 * Whether an agent can start at all (protocol `AgentAvailability`), as opposed to how well it does
 * (routing health). Rules:
 * - An agent starts `checking`; it becomes `ready` only when a cheap probe passed (binary resolved and
 *   `--version` answered) or its runtime really started (a turn reached the agent).
 * - A fatal start failure (`not_installed`, `start_failed`) makes it `unavailable` at once with the reason;
 *   it is not a transient failure: no retry, no attempt counted, no circuit breaker. Sessions needing it
 *   wait for the user with `unavailableQuestion`.
 * - An inconclusive probe (deadline passed on a loaded machine) leaves the state as it was.
 */
import type { AgentAvailability } from '../../../protocol/agent';

export type FatalStartReason = NonNullable<AgentAvailability['reason']>;

/** Failures that retrying will not fix: the user must act (install, set a path). */
export function isFatalStartFailure(reason: string | undefined): reason is FatalStartReason {
  return reason === 'not_installed' || reason === 'start_failed';
}

export type AvailabilityEvent =
  | { type: 'probe_passed'; nowMs: number }
  | { type: 'started'; nowMs: number }
  | { type: 'fatal'; reason: FatalStartReason; message: string; setting?: string; nowMs: number }
  | { type: 'inconclusive'; nowMs: number };

export const initialAvailability = (nowMs: number): AgentAvailability => ({ state: 'checking', since: new Date(nowMs).toISOString() });

/** The next availability; returns `prev` itself when nothing a user would see changed. */
export function nextAvailability(prev: AgentAvailability, e: AvailabilityEvent): AgentAvailability {
  const since = new Date(e.nowMs).toISOString();
  switch (e.type) {
    case 'probe_passed':
    case 'started':
      return prev.state === 'ready' ? prev : { state: 'ready', since };
    case 'fatal':
      if (prev.state === 'unavailable' && prev.reason === e.reason && prev.message === e.message) return prev;
      return { state: 'unavailable', reason: e.reason, message: e.message, ...(e.setting ? { setting: e.setting } : {}), since };
    case 'inconclusive':
      return prev;
  }
}

/** The question a session asks while an agent it needs cannot start. */
export function unavailableQuestion(agentName: string, a: Pick<AgentAvailability, 'message' | 'setting'>): string {
  const fix = a.setting ? `set ${a.setting} (or install the platform build of the extension)` : 'fix the agent';
  return `${agentName} cannot start: ${a.message ?? 'unknown reason'} Nothing was retried and no attempt was counted. ${capitalise(fix)}, then approve to continue.`;
}

const capitalise = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
