/**
 * `agents.disabled` (the `orchestrator.agents.disabled` setting) through the real server: the disabled agent is
 * listed as disabled, routing gives it no task (the task fails saying which agent is disabled and where to enable
 * it; no turn runs), a direct `run/start` on it is refused with `agentDisabled` naming the agent and the setting
 * (no run recorded), and a bad value is refused at initialize naming the field.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { agentList } from '../../protocol/agent';
import { ResponseError } from 'vscode-jsonrpc/node';
import { errorCodes } from '../../protocol/errors';
import { runList, runStart } from '../../protocol/run';
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

test('a direct run/start on a disabled agent is refused, naming the agent and the setting; nothing runs', async () => {
  const server = await startServer(tempDir(), { agents: { disabled: ['opencode'] } });
  try {
    const err = await server.request(runStart, { agent: 'opencode', cwd: sampleRepo(), prompt: '[[script:write_file a.txt]] alpha' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof ResponseError, `run/start is refused (got ${JSON.stringify(err)})`);
    assert.equal(err.code, errorCodes.agentDisabled);
    assert.match(err.message, /agent "opencode" is disabled by the setting orchestrator\.agents\.disabled/);
    assert.deepEqual(err.data, { reason: 'agent_disabled', field: 'agent', agent: 'opencode', setting: 'orchestrator.agents.disabled' });
    assert.equal((await server.request(runList, { limit: 100 })).length, 0, 'no run was recorded or started');
  } finally {
    await server.stop();
  }
});

test('agents.disabled must be a list of agent ids', async () => {
  await assert.rejects(startServer(tempDir(), { agents: { disabled: 'opencode' } }), /agent settings: disabled/);
});
