/**
 * A session's own model (`session/start` `model`) through the real server, the real OpenCode binary and real git:
 * with a real provider configured as the default, a session may still pick the scripted demo model; its turns
 * go to the demo model, not to the provider, and the session says which model it uses. An unknown model is
 * refused naming the field, and nothing is created.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ResponseError } from 'vscode-jsonrpc/node';
import { errorCodes } from '../../protocol/errors';
import { runList } from '../../protocol/run';
import { sessionGet, sessionList, sessionStart } from '../../protocol/session';
import { startScriptedModel, type ScriptedModel } from '../../server/src/adapters/scriptedModel/scriptedModel';
import { startServer, tempDir, type ServerHandle } from './serverProcess';
import { ended, sampleRepo, task, waitSession } from './sessionHelpers';

let provider: ScriptedModel;
let server: ServerHandle;
before(async () => {
  provider = await startScriptedModel();
  server = await startServer(tempDir(), {
    agents: { providers: [{ id: 'local', baseURL: provider.url, models: { m1: {} } }], model: 'local/m1' },
  });
});
after(async () => {
  await server?.stop();
  await provider?.close();
});

test('a session that picks the demo model runs on it, next to a configured default provider', async () => {
  const cwd = sampleRepo();
  const s = await server.request(sessionStart, {
    goal: '- [a] A {files: a.txt}: [[script:slow_write a.txt 100]] alpha',
    cwd,
    approve: true,
    model: 'demo/scripted',
  });
  assert.equal(s.model, 'demo/scripted');
  const done = await waitSession(server, s.id, ended);
  assert.equal(done.state, 'completed', JSON.stringify(done.tasks.map((t) => [t.planId, t.state, t.lastError])));
  assert.equal((await server.request(sessionGet, { sessionId: s.id })).model, 'demo/scripted', 'session/get says which model');
  const run = (await server.request(runList, { limit: 100 })).find((r) => r.id === task(done, 'a').runId);
  assert.equal(run?.model, 'demo/scripted', 'the task turn ran on the demo model');
  assert.equal(provider.requests.filter((r) => r.url.includes('chat')).length, 0, 'the default provider was not asked');
});

test('an unknown model is refused naming the field; no session is created', async () => {
  const before = (await server.request(sessionList, {})).length;
  const err = await server.request(sessionStart, { goal: '- [a] A: alpha', cwd: sampleRepo(), model: 'nope/none' }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof ResponseError, `refused (got ${String(err)})`);
  assert.equal(err.code, errorCodes.invalidParams);
  assert.match(err.message, /^model: unknown model "nope\/none"; configured models: local\/m1, demo\/scripted/);
  assert.equal((await server.request(sessionList, {})).length, before, 'nothing created');
});
