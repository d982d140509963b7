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
import { runDidUpdate, runStart, type RunView } from '../../protocol/run';
import { sessionApply, sessionApprove, sessionStart } from '../../protocol/session';
import { startServer, tempDir, withDeadline, type ServerHandle } from './serverProcess';
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

test('single runs on an ACP agent: a run that ended cleanly leaves its process to the next run (release reaches the adapter)', async () => {
  const cwd = sampleRepo();
  const finished = (runId: string) =>
    withDeadline(
      (async () => {
        for (;;) {
          const done = server.notifications
            .filter((n) => n.method === runDidUpdate.method)
            .map((n) => (n.params as { run: RunView }).run)
            .find((r) => r.id === runId && !['running', 'pending'].includes(r.state));
          if (done) return done;
          await new Promise((r) => setTimeout(r, 20));
        }
      })(),
      60_000,
      `run ${runId}`,
    );
  const pids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const { runId } = await server.request(runStart, { agent: 'fixture-agent', cwd, prompt: 'PID' });
    const r = await finished(runId);
    assert.equal(r.state, 'succeeded', JSON.stringify(r.error));
    pids.push(r.summary ?? '');
  }
  assert.match(pids[0], /^\d+$/);
  assert.deepEqual(pids, [pids[0], pids[0], pids[0]], 'one agent process served the three runs');
});

test('a failing ACP agent loses health and its tasks are re-routed to OpenCode', async () => {
  const crashing = {
    ...descriptor,
    id: 'crashing-agent',
    name: 'Crashing agent',
    _meta: {
      orchestrator: {
        command: { path: 'node', args: [fixture] },
        capabilities: ['code'],
        maxConcurrency: 3,
        env: { set: { FIXTURE_FORCE: 'CRASH' } },
      },
    },
  };
  const s2 = await startServer(tempDir(), { agents: { acpAgents: [{ descriptor: crashing, commandPath: process.execPath }] } });
  try {
    const cwd = sampleRepo();
    const goal = [
      'Three files',
      '- [x] X {files: x.txt} {caps: code}: [[script:write_file x.txt]] ex',
      '- [y] Y {files: y.txt} {caps: code}: [[script:write_file y.txt]] why',
      '- [z] Z {files: z.txt} {caps: code}: [[script:write_file z.txt]] zed',
    ].join('\n');
    const draft = await s2.request(sessionStart, { goal, cwd });
    await s2.request(sessionApprove, { sessionId: draft.id });
    const v = await waitSession(s2, draft.id, ended);
    const summary = JSON.stringify(v.tasks.map((t) => [t.planId, t.state, t.agentId, t.attempts, t.routeReason, t.lastError]));
    console.log(`re-routing: ${summary}`);
    const agents = await s2.request(agentList, {});
    const crash = agents.find((a) => a.id === 'crashing-agent');
    // The specialist is chosen first (how many tasks it gets at once depends on its load); every crash costs it health.
    assert.ok(crash && crash.health.failures >= 1 && crash.health.successes === 0, JSON.stringify(crash?.health));
    assert.match(crash.health.lastError ?? '', /crashed: The agent process exited during the turn \(code 3/);
    assert.equal(v.state, 'completed', summary);
    for (const t of v.tasks) assert.equal(t.agentId, 'opencode', summary);
    const retried = v.tasks.filter((t) => t.attempts >= 2);
    assert.ok(retried.length >= 1, `tasks first tried on the crashing agent were retried on OpenCode (${summary})`);
    for (const t of retried) assert.match(t.routeReason ?? '', /^opencode: .*(over crashing-agent|only candidate)/);
  } finally {
    await s2.stop();
  }
});
