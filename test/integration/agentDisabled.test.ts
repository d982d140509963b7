/**
 * `agents.disabled` (the `orchestrator.agents.disabled` setting) through the real server: the disabled agent is
 * listed as disabled, routing gives it no task (the task fails saying which agent is disabled and where to enable
 * it; no turn runs), and a bad value is refused at initialize naming the field.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { agentList } from '../../protocol/agent';
import { runList } from '../../protocol/run';
import { sessionStart } from '../../protocol/session';
import { startServer, tempDir } from './serverProcess';
import { ended, sampleRepo, task, waitSession } from './sessionHelpers';

test('a disabled agent is listed as disabled and takes no task', async () => {
  const server = await startServer(tempDir(), { agents: { disabled: ['opencode'] } });
  try {
    const [opencode] = await server.request(agentList, {});
    assert.equal(opencode.id, 'opencode');
    assert.equal(opencode.disabled, true);
    const s = await server.request(sessionStart, {
      goal: '- [a] A {files: a.txt}: [[script:slow_write a.txt 100]] alpha',
      cwd: sampleRepo(),
      approve: true,
    });
    const done = await waitSession(server, s.id, ended);
    const a = task(done, 'a');
    assert.equal(a.state, 'failed');
    assert.match(a.lastError ?? '', /no agent is registered and enabled \(disabled: opencode; enable one in the Agents view/);
    assert.equal((await server.request(runList, { limit: 100 })).filter((r) => r.sessionId === s.id).length, 0, 'no agent turn ran');
  } finally {
    await server.stop();
  }
});

test('agents.disabled must be a list of agent ids', async () => {
  await assert.rejects(startServer(tempDir(), { agents: { disabled: 'opencode' } }), /agent settings: disabled/);
});
