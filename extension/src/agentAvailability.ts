/**
 * How agents' availability is shown: the Agents view's line, the status bar's note, and which failures
 * deserve a notification. Pure (no `vscode`), so it is unit-tested without VS Code.
 */
import type { AgentView } from '../../protocol/agent';
import type { ServerStatus } from '../../protocol/server';

type StatusAgent = ServerStatus['agents'][number];

const reasonText: Record<string, string> = { not_installed: 'not installed', start_failed: 'does not start' };

/** An agent's health in a word or two: availability first (an agent that cannot start is never "ready"). */
export function agentStateText(a: Pick<AgentView, 'availability' | 'health'>): string {
  if (a.availability.state === 'unavailable') return `unavailable: ${reasonText[a.availability.reason ?? ''] ?? 'cannot start'}`;
  if (a.availability.state === 'checking') return 'checking…';
  if (a.health.circuit === 'open') return 'out of rotation';
  return 'ready';
}

/**
 * The Agents view's row description: health (or `disabled`), tasks running on it now, its model, successes and
 * failures, sandbox. E.g. `ready · 2 running · local/m1 · ✓3 ✗0 · sandboxed`.
 */
export function agentRowText(a: Pick<AgentView, 'availability' | 'health' | 'disabled' | 'model' | 'sandbox'>): string {
  return [
    a.disabled ? 'disabled' : agentStateText(a),
    `${a.health.running} running`,
    ...(a.model ? [a.model] : []),
    `✓${a.health.successes} ✗${a.health.failures}`,
    a.sandbox.enabled ? 'sandboxed' : 'not sandboxed',
  ].join(' · ');
}

/** The status bar's text when an agent cannot start, e.g. `OpenCode unavailable`. */
export function unavailableNote(status: ServerStatus | null): string | undefined {
  const down = (status?.agents ?? []).filter((a) => a.availability.state === 'unavailable').map((a) => a.name);
  return down.length ? `${down.join(', ')} unavailable` : undefined;
}

export interface AgentAlert {
  key: string;
  text: string;
  setting?: string;
}

/**
 * Which unavailable agents to announce: each distinct failure once (the same failure pushed again is
 * not repeated); an agent that became ready is forgotten, so a later failure is announced again.
 */
export function pickAlerts(
  announced: ReadonlySet<string>,
  agents: readonly StatusAgent[],
): { alerts: AgentAlert[]; announced: Set<string> } {
  const next = new Set<string>();
  const alerts: AgentAlert[] = [];
  for (const a of agents) {
    if (a.availability.state === 'checking') {
      for (const k of announced) if (k.startsWith(`${a.id}\n`)) next.add(k);
      continue;
    }
    if (a.availability.state !== 'unavailable') continue;
    const key = `${a.id}\n${a.availability.reason}\n${a.availability.message}`;
    next.add(key);
    if (!announced.has(key))
      alerts.push({
        key,
        text: `${a.name} is unavailable: ${a.availability.message ?? a.availability.reason}`,
        setting: a.availability.setting,
      });
  }
  return { alerts, announced: next };
}
