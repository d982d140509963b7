/**
 * Routing (design.md §4 "Agent"): pick the agent for a task by capability fit, health, load and cost, with a
 * one-line reason, or a typed failure. Plus a circuit breaker per agent.
 *
 * Score = 0.4·fit + 0.3·health + 0.2·load + 0.1·cost (weights configurable), ties broken by agent id.
 * - fit: the agent must cover every required capability (a `*` capability covers all, scored 0.8 so a
 *   specialist wins); a task without capabilities fits everyone (1).
 * - health: Laplace-smoothed success rate (successes+1)/(total+2), so a new agent starts at a neutral 0.5,
 *   minus 0.15 per consecutive failure.
 * - load: 1 − running/maxConcurrency; an agent at capacity is not eligible.
 * - cost: the cheapest `costHint` among eligible agents scores 1, the dearest 0; unknown cost scores 0.5.
 *
 * Availability: an agent whose `unavailable` is set (it cannot start: not installed, start failed) takes
 * no task and never reaches the circuit breaker; when every capable agent is unavailable the failure is
 * `unavailable` with their reasons, so the caller asks the user instead of failing or retrying the task.
 *
 * Circuit breaker: `failureThreshold` consecutive failures open the circuit (the agent leaves rotation).
 * After `probeAfterMs` it may take exactly one probe task (half-open); with `preferProbes` (default) a
 * probe-eligible agent that fits is chosen before scoring, so it always gets the chance to recover. A
 * successful outcome closes the circuit; a failed probe re-opens it for another `probeAfterMs`.
 */

export interface AgentProfile {
  id: string;
  capabilities: string[];
  maxConcurrency: number;
  /** Relative cost (e.g. money per million tokens); lower is cheaper. */
  costHint?: number;
  enabled?: boolean;
  /** Why the agent cannot start at all (fatal start failure); set means it takes no task. */
  unavailable?: string;
}

export interface AgentHealth {
  running: number;
  successes: number;
  failures: number;
  consecutiveFailures: number;
  circuit: 'closed' | 'open';
  openedAtMs?: number;
  /** The probe task in flight while the circuit is half-open. */
  probeTaskId?: string;
  lastError?: string;
}

export interface AgentCandidate {
  profile: AgentProfile;
  health: AgentHealth;
}

export interface RoutingPolicy {
  failureThreshold: number;
  probeAfterMs: number;
  preferProbes: boolean;
  weights: { fit: number; health: number; load: number; cost: number };
}

export const defaultRoutingPolicy: RoutingPolicy = {
  failureThreshold: 3,
  probeAfterMs: 60_000,
  preferProbes: true,
  weights: { fit: 0.4, health: 0.3, load: 0.2, cost: 0.1 },
};

export type RouteFailure = 'no_agents' | 'no_capable_agent' | 'unavailable' | 'out_of_rotation' | 'all_busy';

export type RouteResult =
  | { ok: true; agentId: string; score: number; reason: string; probe: boolean; alternatives: { agentId: string; score: number }[] }
  | { ok: false; failure: RouteFailure; message: string; retryAtMs?: number };

/** Effective circuit state: `probe` means open but ready for one probe task. */
export type CircuitView = 'closed' | 'open' | 'half_open' | 'probe';

export const newAgentHealth = (): AgentHealth => ({ running: 0, successes: 0, failures: 0, consecutiveFailures: 0, circuit: 'closed' });

export function circuitOf(h: AgentHealth, nowMs: number, policy: RoutingPolicy = defaultRoutingPolicy): CircuitView {
  if (h.circuit === 'closed') return 'closed';
  if (h.probeTaskId !== undefined) return 'half_open';
  return nowMs - (h.openedAtMs ?? 0) >= policy.probeAfterMs ? 'probe' : 'open';
}

export function fitOf(agentCaps: readonly string[], required: readonly string[]): number {
  if (!required.length) return 1;
  const own = new Set(agentCaps.map((c) => c.toLowerCase()));
  if (required.every((c) => own.has(c.toLowerCase()))) return 1;
  return own.has('*') ? 0.8 : 0;
}

export function healthOf(h: AgentHealth): number {
  const rate = (h.successes + 1) / (h.successes + h.failures + 2);
  return Math.max(0, Math.min(1, rate - 0.15 * h.consecutiveFailures));
}

const round = (n: number): number => Math.round(n * 100) / 100;

function describe(c: AgentCandidate, fit: number, score: number): string {
  const h = c.health;
  const total = h.successes + h.failures;
  const fitText = fit === 1 ? 'full capability match' : 'generalist (*)';
  const success = total ? `success ${Math.round((h.successes / total) * 100)}% of ${total}` : 'no history';
  const cost = c.profile.costHint === undefined ? '' : `, cost ${c.profile.costHint}`;
  return `${c.profile.id}: ${fitText}, ${success}, load ${h.running}/${c.profile.maxConcurrency}${cost}; score ${round(score)}`;
}

/** Choose an agent for a task needing `capabilities`. Pure: the caller records the dispatch. */
export function routeTask(
  task: { capabilities: readonly string[] },
  agents: readonly AgentCandidate[],
  nowMs: number,
  policy: RoutingPolicy = defaultRoutingPolicy,
): RouteResult {
  const enabled = agents.filter((a) => a.profile.enabled !== false && a.profile.maxConcurrency > 0);
  const off = agents.filter((a) => a.profile.enabled === false).map((a) => a.profile.id);
  const offText = off.length ? ` (disabled: ${off.join(', ')}; enable one in the Agents view or orchestrator.agents.disabled)` : '';
  if (!enabled.length) return { ok: false, failure: 'no_agents', message: `no agent is registered and enabled${offText}` };
  const fitting = enabled.map((a) => ({ a, fit: fitOf(a.profile.capabilities, task.capabilities) })).filter((x) => x.fit > 0);
  if (!fitting.length) {
    return {
      ok: false,
      failure: 'no_capable_agent',
      message: `no enabled agent has the capabilities ${task.capabilities.join(', ')}${offText}`,
    };
  }
  const capable = fitting.filter((x) => !x.a.profile.unavailable);
  if (!capable.length) {
    return { ok: false, failure: 'unavailable', message: fitting.map((x) => `${x.a.profile.id}: ${x.a.profile.unavailable}`).join('; ') };
  }
  const hasRoom = (a: AgentCandidate): boolean => a.health.running < a.profile.maxConcurrency;
  const byId = (x: { a: AgentCandidate }, y: { a: AgentCandidate }): number =>
    x.a.profile.id < y.a.profile.id ? -1 : x.a.profile.id > y.a.profile.id ? 1 : 0;

  if (policy.preferProbes) {
    const probe = capable.filter((x) => circuitOf(x.a.health, nowMs, policy) === 'probe' && hasRoom(x.a)).sort(byId)[0];
    if (probe) {
      const h = probe.a.health;
      return {
        ok: true,
        agentId: probe.a.profile.id,
        score: 0,
        probe: true,
        alternatives: [],
        reason: `${probe.a.profile.id}: probe task after its circuit opened (${h.consecutiveFailures} consecutive failures${h.lastError ? `, last: ${h.lastError}` : ''})`,
      };
    }
  }
  const inRotation = capable.filter((x) => {
    const c = circuitOf(x.a.health, nowMs, policy);
    return c === 'closed' || (c === 'probe' && !policy.preferProbes);
  });
  if (!inRotation.length) {
    const next = Math.min(...capable.map((x) => (x.a.health.openedAtMs ?? 0) + policy.probeAfterMs));
    return {
      ok: false,
      failure: 'out_of_rotation',
      message: `every capable agent is out of rotation (circuit open): ${capable.map((x) => x.a.profile.id).join(', ')}`,
      retryAtMs: next,
    };
  }
  const free = inRotation.filter((x) => hasRoom(x.a));
  if (!free.length) {
    return {
      ok: false,
      failure: 'all_busy',
      message: `every capable agent is at capacity: ${inRotation.map((x) => `${x.a.profile.id} ${x.a.health.running}/${x.a.profile.maxConcurrency}`).join(', ')}`,
    };
  }
  const costs = free.map((x) => x.a.profile.costHint).filter((c): c is number => c !== undefined);
  const minCost = Math.min(...costs);
  const maxCost = Math.max(...costs);
  const w = policy.weights;
  const scored = free
    .map((x) => {
      const c = x.a.profile.costHint;
      const cost = c === undefined ? 0.5 : maxCost === minCost ? 1 : 1 - (c - minCost) / (maxCost - minCost);
      const load = 1 - x.a.health.running / x.a.profile.maxConcurrency;
      const score = w.fit * x.fit + w.health * healthOf(x.a.health) + w.load * load + w.cost * cost;
      return { ...x, score };
    })
    .sort((x, y) => y.score - x.score || byId(x, y));
  const [best, second] = scored;
  if (!best) throw new Error('unreachable: free agents were checked above');
  const over = second ? ` over ${second.a.profile.id} ${round(second.score)}` : ' (only candidate)';
  return {
    ok: true,
    agentId: best.a.profile.id,
    score: round(best.score),
    probe: false,
    reason: describe(best.a, best.fit, best.score) + over,
    alternatives: scored.slice(1, 4).map((x) => ({ agentId: x.a.profile.id, score: round(x.score) })),
  };
}

/** The agent took a task (a probe when routing said so). */
export function recordDispatch(h: AgentHealth, taskId: string, probe = false): AgentHealth {
  return { ...h, running: h.running + 1, ...(probe ? { probeTaskId: taskId } : {}) };
}

/** The agent finished a task. Any success closes the circuit; failures count towards opening it. */
export function recordOutcome(
  h: AgentHealth,
  o: { taskId: string; ok: boolean; error?: string },
  nowMs: number,
  policy: RoutingPolicy = defaultRoutingPolicy,
): AgentHealth {
  const base: AgentHealth = { ...h, running: Math.max(0, h.running - 1) };
  const wasProbe = h.probeTaskId === o.taskId;
  if (wasProbe) delete base.probeTaskId;
  if (o.ok) {
    const closed: AgentHealth = { ...base, successes: h.successes + 1, consecutiveFailures: 0, circuit: 'closed' };
    delete closed.openedAtMs;
    delete closed.probeTaskId;
    return closed;
  }
  const consecutiveFailures = h.consecutiveFailures + 1;
  const failed: AgentHealth = { ...base, failures: h.failures + 1, consecutiveFailures, ...(o.error ? { lastError: o.error } : {}) };
  if (wasProbe || (h.circuit === 'closed' && consecutiveFailures >= policy.failureThreshold))
    return { ...failed, circuit: 'open', openedAtMs: nowMs };
  return failed;
}

/** The task left the agent without a verdict (cancelled, requeued): frees the slot; a probe may be retried. */
export function recordRelease(h: AgentHealth, taskId: string): AgentHealth {
  const out = { ...h, running: Math.max(0, h.running - 1) };
  if (h.probeTaskId === taskId) delete out.probeTaskId;
  return out;
}
