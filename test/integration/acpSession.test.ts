/**
 * A mixed team through the real server: OpenCode (real binary, scripted model) and an ACP agent registered
 * from a descriptor (the project's fixture agent, a real process speaking ACP). One session's DAG holds tasks
 * for both; routing chooses by capability and records its reason on every task; the results merge.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { agentList } from '../../protocol/agent';
import { sessionApply, sessionApprove, sessionStart } from '../../protocol/session';
import { startServer, tempDir, type ServerHandle } from './serverProcess';
import { ended, sampleRepo, task, waitSession } from './sessionHelpers';

const fixture = path.resolve(__dirname, '../fixtures/acp/fixtureAgent.mjs');
const descriptor = {
  id: 'fixture-agent',
  name: 'Fixture agent',
  version: '1.0.0',
  description: 'The project-owned ACP fixture agent',
  _meta: { orchestrator: { command: { path: 'node', args: [fixture] }, capabilities: ['fixture'], maxConcurrency: 2 } },
};

let server: ServerHandle;
before(async () => {
  server = await startServer(tempDir(), { agents: { acpAgents: [{ descriptor, commandPath: process.execPath }] } });
});
after(async () => {
  await server?.stop();
});

test("agent/list shows OpenCode and the ACP agent with the descriptor's capabilities", async () => {
  const agents = await server.request(agentList, {});
  const fx = agents.find((a) => a.id === 'fixture-agent');
  assert.ok(fx, JSON.stringify(agents.map((a) => a.id)));
  assert.deepEqual(fx.capabilities, ['fixture']);
  assert.equal(fx.maxConcurrency, 2);
  assert.equal(fx.availability.state, 'ready');
  assert.match(fx.description, /ACP agent Fixture agent 1.0.0/);
  assert.ok(agents.some((a) => a.id === 'opencode'));
});

test('one session mixes OpenCode and ACP-agent tasks, routed by capability, each with its route reason', async () => {
  const cwd = sampleRepo();
  const goal = [
    'A mixed team',
    '- [a] Alpha {files: a.txt} {caps: code}: [[script:write_file a.txt]] alpha',
    '- [b] Beta {files: b.txt} {caps: fixture}: WRITE b.txt beta',
    '- [c] Gamma (after: a, b) {files: c.txt} {caps: fixture}: WRITE c.txt gamma',
  ].join('\n');
  const draft = await server.request(sessionStart, { goal, cwd });
  await server.request(sessionApprove, { sessionId: draft.id });
  const v = await waitSession(server, draft.id, ended);
  assert.equal(v.state, 'completed', JSON.stringify(v.tasks.map((t) => [t.planId, t.state, t.agentId, t.lastError])));
  const [a, b, c] = ['a', 'b', 'c'].map((id) => task(v, id));
  assert.equal(a.agentId, 'opencode');
  assert.equal(b.agentId, 'fixture-agent');
  assert.equal(c.agentId, 'fixture-agent');
  for (const t of [a, b, c]) assert.ok(t.routeReason && t.routeReason.length > 0, `${t.planId} has a route reason`);
  assert.match(b.routeReason ?? '', /fixture-agent/);
  console.log(`route reasons: ${[a, b, c].map((t) => `${t.planId}: ${t.routeReason}`).join(' | ')}`);
  const applied = await server.request(sessionApply, { sessionId: draft.id });
  assert.equal(applied.applied.length, 3);
  assert.equal(readFileSync(path.join(cwd, 'a.txt'), 'utf8'), 'alpha\n');
  assert.equal(readFileSync(path.join(cwd, 'b.txt'), 'utf8'), 'beta\n');
  assert.equal(readFileSync(path.join(cwd, 'c.txt'), 'utf8'), 'gamma\n');
});
