import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  circuitOf,
  defaultRoutingPolicy,
  fitOf,
  healthOf,
  newAgentHealth,
  recordDispatch,
  recordOutcome,
  recordRelease,
  routeTask,
  type AgentCandidate,
  type AgentHealth,
} from './routing';

const agent = (
  id: string,
  capabilities: string[],
  extra: Partial<AgentCandidate['profile']> = {},
  health: Partial<AgentHealth> = {},
): AgentCandidate => ({
  profile: { id, capabilities, maxConcurrency: 2, ...extra },
  health: { ...newAgentHealth(), ...health },
});
const policy = { ...defaultRoutingPolicy, failureThreshold: 2, probeAfterMs: 1_000 };

test('capability fit: specialists beat generalists, missing capabilities exclude', () => {
  assert.equal(fitOf(['code', 'tests'], ['code']), 1);
  assert.equal(fitOf(['*'], ['code']), 0.8);
  assert.equal(fitOf(['docs'], ['code']), 0);
  assert.equal(fitOf([], []), 1);
  const r = routeTask({ capabilities: ['code'] }, [agent('general', ['*']), agent('coder', ['code']), agent('writer', ['docs'])], 0);
  assert.ok(r.ok);
  assert.equal(r.agentId, 'coder');
  assert.match(r.reason, /^coder: full capability match, no history, load 0\/2; score [\d.]+ over general [\d.]+$/);
  assert.deepEqual(
    r.alternatives.map((a) => a.agentId),
    ['general'],
  );
});

test('health, load and cost move the choice', () => {
  const healthy = agent('a', ['code'], {}, { successes: 9, failures: 1 });
  const flaky = agent('b', ['code'], {}, { successes: 2, failures: 8 });
  const r0 = routeTask({ capabilities: ['code'] }, [flaky, healthy], 0);
  assert.ok(r0.ok && r0.agentId === 'a');
  const busy = agent('a', ['code'], { maxConcurrency: 4 }, { running: 3 });
  const idle = agent('b', ['code'], { maxConcurrency: 4 });
  const r1 = routeTask({ capabilities: ['code'] }, [busy, idle], 0);
  assert.ok(r1.ok && r1.agentId === 'b');
  const cheap = agent('z-cheap', ['code'], { costHint: 1 });
  const dear = agent('a-dear', ['code'], { costHint: 10 });
  const r2 = routeTask({ capabilities: ['code'] }, [dear, cheap], 0);
  assert.ok(r2.ok && r2.agentId === 'z-cheap');
  assert.match(r2.ok ? r2.reason : '', /cost 1;/);
  assert.ok(healthOf(newAgentHealth()) === 0.5);
});

test('ties break by agent id (deterministic)', () => {
  const r = routeTask({ capabilities: [] }, [agent('b', []), agent('a', [])], 0);
  assert.ok(r.ok && r.agentId === 'a');
});

test('typed failures: no agents, no capable agent, all busy', () => {
  const none = routeTask({ capabilities: ['code'] }, [agent('x', ['code'], { enabled: false })], 0);
  assert.deepEqual(none.ok ? undefined : none.failure, 'no_agents');
  const incapable = routeTask({ capabilities: ['gpu'] }, [agent('x', ['code'])], 0);
  assert.ok(!incapable.ok && incapable.failure === 'no_capable_agent' && /gpu/.test(incapable.message));
  const busy = routeTask({ capabilities: ['code'] }, [agent('x', ['code'], { maxConcurrency: 1 }, { running: 1 })], 0);
  assert.ok(!busy.ok && busy.failure === 'all_busy' && /x 1\/1/.test(busy.message));
});

test('circuit breaker: opens after N consecutive failures, probes after the delay, recovers on success', () => {
  let h = newAgentHealth();
  h = recordOutcome(recordDispatch(h, 't1'), { taskId: 't1', ok: false, error: 'crashed' }, 100, policy);
  assert.equal(h.circuit, 'closed');
  h = recordOutcome(recordDispatch(h, 't2'), { taskId: 't2', ok: false, error: 'crashed again' }, 200, policy);
  assert.equal(h.circuit, 'open');
  assert.equal(h.openedAtMs, 200);
  assert.equal(h.running, 0);
  const other = agent('backup', ['code'], {}, { successes: 0, failures: 0 });
  const flaky: AgentCandidate = { profile: { id: 'flaky', capabilities: ['code'], maxConcurrency: 2 }, health: h };
  // out of rotation while cooling down
  const r1 = routeTask({ capabilities: ['code'] }, [flaky, other], 500, policy);
  assert.ok(r1.ok && r1.agentId === 'backup' && !r1.probe);
  const r2 = routeTask({ capabilities: ['code'] }, [flaky], 500, policy);
  assert.ok(!r2.ok && r2.failure === 'out_of_rotation' && r2.retryAtMs === 1_200);
  // after probeAfterMs: exactly one probe
  assert.equal(circuitOf(h, 1_200, policy), 'probe');
  const r3 = routeTask({ capabilities: ['code'] }, [flaky, other], 1_200, policy);
  assert.ok(r3.ok && r3.agentId === 'flaky' && r3.probe);
  assert.match(r3.ok ? r3.reason : '', /probe task after its circuit opened \(2 consecutive failures, last: crashed again\)/);
  h = recordDispatch(h, 'probe-1', true);
  assert.equal(circuitOf(h, 1_300, policy), 'half_open');
  const r4 = routeTask({ capabilities: ['code'] }, [{ ...flaky, health: h }, other], 1_300, policy);
  assert.ok(r4.ok && r4.agentId === 'backup', 'only one probe at a time');
  // a failed probe re-opens for another delay
  const reopened = recordOutcome(h, { taskId: 'probe-1', ok: false }, 1_400, policy);
  assert.equal(reopened.circuit, 'open');
  assert.equal(circuitOf(reopened, 2_399, policy), 'open');
  assert.equal(circuitOf(reopened, 2_400, policy), 'probe');
  // a successful probe restores the agent
  const restored = recordOutcome(h, { taskId: 'probe-1', ok: true }, 1_400, policy);
  assert.equal(restored.circuit, 'closed');
  assert.equal(restored.consecutiveFailures, 0);
  assert.equal(restored.probeTaskId, undefined);
  assert.equal(circuitOf(restored, 1_400, policy), 'closed');
});

test('releasing a probe task without a verdict lets another probe run', () => {
  const open: AgentHealth = { ...newAgentHealth(), circuit: 'open', openedAtMs: 0, consecutiveFailures: 3 };
  const probing = recordDispatch(open, 'p', true);
  assert.equal(circuitOf(probing, 5_000, policy), 'half_open');
  const released = recordRelease(probing, 'p');
  assert.equal(released.running, 0);
  assert.equal(circuitOf(released, 5_000, policy), 'probe');
});

test('an agent that cannot start takes no task; when no capable agent can start the failure says why', () => {
  const down = agent('opencode', ['*'], { unavailable: 'not_installed: no OpenCode binary' });
  const r = routeTask({ capabilities: [] }, [down], 0);
  assert.deepEqual(r, { ok: false, failure: 'unavailable', message: 'opencode: not_installed: no OpenCode binary' });
  const other = routeTask({ capabilities: [] }, [down, agent('acp', ['*'])], 0);
  assert.ok(other.ok && other.agentId === 'acp');
});

test('a disabled agent gets no task, however well it scores; with every capable agent disabled the failure names them', () => {
  // The disabled specialist would win on fit, health and cost.
  const star = agent('star', ['code'], { enabled: false, costHint: 0 }, { successes: 50 });
  const plain = agent('plain', ['*'], { costHint: 10 }, { failures: 3 });
  for (let i = 0; i < 5; i++) {
    const r = routeTask({ capabilities: ['code'] }, [star, plain], i);
    assert.ok(r.ok && r.agentId === 'plain', JSON.stringify(r));
    assert.ok(r.ok && r.alternatives.every((a) => a.agentId !== 'star'), 'not even an alternative');
  }
  const none = routeTask({ capabilities: [] }, [star], 0);
  assert.ok(!none.ok && none.failure === 'no_agents', JSON.stringify(none));
  assert.match(none.message, /disabled: star; enable one in the Agents view or orchestrator\.agents\.disabled/);
  const incapable = routeTask({ capabilities: ['code'] }, [star, agent('docs', ['docs'])], 0);
  assert.ok(
    !incapable.ok && incapable.failure === 'no_capable_agent' && /disabled: star/.test(incapable.message),
    JSON.stringify(incapable),
  );
});
