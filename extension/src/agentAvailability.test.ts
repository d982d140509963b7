import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AgentAvailability } from '../../protocol/agent';
import { agentRowText, agentStateText, pickAlerts, unavailableNote } from './agentAvailability';

const health = { running: 0, successes: 0, failures: 0, consecutiveFailures: 0, circuit: 'closed' as const };
const down: AgentAvailability = {
  state: 'unavailable',
  reason: 'not_installed',
  message: 'No OpenCode binary. Set orchestrator.opencode.path.',
  setting: 'orchestrator.opencode.path',
  since: 't',
};
const agent = (availability: AgentAvailability) => ({ id: 'opencode', name: 'OpenCode', availability });

test('the Agents view never says ready before the agent could start', () => {
  assert.equal(agentStateText({ availability: { state: 'checking', since: 't' }, health }), 'checking…');
  assert.equal(agentStateText({ availability: down, health }), 'unavailable: not installed');
  assert.equal(
    agentStateText({ availability: { ...down, reason: 'start_failed' }, health: { ...health, circuit: 'open' } }),
    'unavailable: does not start',
  );
  assert.equal(agentStateText({ availability: { state: 'ready', since: 't' }, health }), 'ready');
  assert.equal(agentStateText({ availability: { state: 'ready', since: 't' }, health: { ...health, running: 2 } }), 'ready');
});

test('the status bar names the agents that cannot start', () => {
  assert.equal(unavailableNote(null), undefined);
  const status = { agents: [agent(down)] } as never;
  assert.equal(unavailableNote(status), 'OpenCode unavailable');
  assert.equal(unavailableNote({ agents: [agent({ state: 'ready', since: 't' })] } as never), undefined);
});

test('each failure is announced once; after a recovery the same failure is announced again', () => {
  const first = pickAlerts(new Set(), [agent(down)]);
  assert.deepEqual(
    first.alerts.map((a) => [a.text, a.setting]),
    [['OpenCode is unavailable: No OpenCode binary. Set orchestrator.opencode.path.', 'orchestrator.opencode.path']],
  );
  const again = pickAlerts(first.announced, [agent(down)]);
  assert.deepEqual(again.alerts, []);
  // A restarted server checks again: no new alert while checking, none when the same failure returns.
  const checking = pickAlerts(again.announced, [agent({ state: 'checking', since: 't' })]);
  assert.deepEqual(checking.alerts, []);
  assert.deepEqual(pickAlerts(checking.announced, [agent(down)]).alerts, []);
  const ready = pickAlerts(checking.announced, [agent({ state: 'ready', since: 't' })]);
  assert.equal(pickAlerts(ready.announced, [agent(down)]).alerts.length, 1);
  // A different failure is news.
  assert.equal(pickAlerts(first.announced, [agent({ ...down, message: 'other' })]).alerts.length, 1);
});

test('an agent row shows health, the tasks running on it now and its model; a disabled agent says "disabled"', () => {
  const ready = { state: 'ready' as const, since: 't' };
  const sandbox = { enabled: true, reason: 'bubblewrap works here' };
  const row = {
    availability: ready,
    health: { ...health, running: 2, successes: 3, failures: 1 },
    disabled: false,
    model: 'local/m1',
    sandbox,
  };
  assert.equal(agentRowText(row), 'ready · 2 running · local/m1 · ✓3 ✗1 · sandboxed');
  assert.equal(agentRowText({ ...row, disabled: true }), 'disabled · 2 running · local/m1 · ✓3 ✗1 · sandboxed');
  assert.equal(
    agentRowText({ ...row, model: undefined, availability: down, sandbox: { enabled: false, reason: 'off' } }),
    'unavailable: not installed · 2 running · ✓3 ✗1 · not sandboxed',
  );
});
