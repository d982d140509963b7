// Health that tells the truth: the real server, the real OpenCode binary (or its absence), real git repos.
// An agent that cannot start is reported at once (agent/list, server status) and is never retried as if
// the failure were transient: the session asks the user, its tasks keep their attempts.
import assert from 'node:assert/strict';
import { existsSync, linkSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { agentList, type AgentView } from '../../protocol/agent';
import { serverDidChangeStatus, serverStatus, type ServerStatus } from '../../protocol/server';
import { sessionApprove, sessionStart } from '../../protocol/session';
import { repoRoot, startServer, tempDir, type ServerHandle } from './serverProcess';
import { sampleRepo, waitSession } from './sessionHelpers';

const servers: ServerHandle[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

const opencode = (s: ServerHandle) => s.request(agentList, {}).then((l) => l.find((a) => a.id === 'opencode') as AgentView);
const goal = '- [a] A {files: a.txt}: [[script:write_file a.txt]] one\n- [b] B {files: b.txt}: [[script:write_file b.txt]] two';

test('no usable binary: unavailable within seconds with the reason, in agent/list and the pushed status; a session waits with the question and burns no attempt', async () => {
  const missing = path.join(tempDir('orch-nobin-'), 'opencode');
  const server = await startServer(tempDir(), { agents: { opencodePath: missing } });
  servers.push(server);
  const t0 = Date.now();
  const agent = await until('OpenCode to be unavailable', 20_000, async () => {
    const a = await opencode(server);
    return a.availability.state === 'unavailable' ? a : undefined;
  });
  assert.ok(Date.now() - t0 < 20_000);
  assert.equal(agent.availability.reason, 'not_installed');
  assert.match(agent.availability.message ?? '', /orchestrator\.opencode\.path/);
  assert.ok(agent.availability.message?.includes(missing), agent.availability.message);
  assert.equal(agent.availability.setting, 'orchestrator.opencode.path');

  const status = await server.request(serverStatus, {});
  assert.equal(status.health, 'degraded');
  assert.match(status.message, /^OpenCode is unavailable: .*orchestrator\.opencode\.path/);
  const pushed = server.notifications.filter((n) => n.method === serverDidChangeStatus.method).map((n) => n.params as ServerStatus);
  assert.ok(
    pushed.some((s) => s.health === 'degraded' && s.agents[0]?.availability.state === 'unavailable'),
    'the degraded status was pushed',
  );

  const started = await server.request(sessionStart, { goal, cwd: sampleRepo(), approve: true });
  const waiting = await waitSession(server, started.id, (v) => v.state === 'awaiting_approval', 30_000);
  assert.match(waiting.approval?.message ?? '', /^OpenCode cannot start: .*Set orchestrator\.opencode\.path.*approve to continue/);
  assert.doesNotMatch(waiting.approval?.message ?? '', /circuit|rotation/i);
  assert.deepEqual(
    waiting.tasks.map((t) => [t.planId, t.state, t.attempts]),
    [
      ['a', 'ready', 0],
      ['b', 'ready', 0],
    ],
  );

  // Approving without fixing anything asks again; still nothing is burnt and the breaker never opens.
  await server.request(sessionApprove, { sessionId: started.id });
  await new Promise((r) => setTimeout(r, 1500));
  const again = await waitSession(server, started.id, (v) => v.state === 'awaiting_approval', 30_000);
  assert.deepEqual(
    again.tasks.map((t) => t.attempts),
    [0, 0],
  );
  const health = (await opencode(server)).health;
  assert.equal(health.failures, 0);
  assert.equal(health.circuit, 'closed');
});

test('the binary disappears after the probe said ready: the dispatched task is handed back (attempt refunded), the session asks, and putting the binary back lets it complete', async () => {
  const dir = tempDir('orch-gone-');
  const real = path.join(repoRoot, 'node_modules', 'opencode-linux-x64', 'bin', 'opencode');
  assert.ok(existsSync(real), 'the real OpenCode binary is installed');
  mkdirSync(path.join(dir, 'bin'));
  const bin = path.join(dir, 'bin', 'opencode');
  linkSync(real, bin);
  const server = await startServer(tempDir(), { agents: { opencodePath: bin } });
  servers.push(server);
  await until('OpenCode to be ready (probe passed)', 60_000, async () =>
    (await opencode(server)).availability.state === 'ready' ? true : undefined,
  );
  rmSync(bin);

  const started = await server.request(sessionStart, {
    goal: '- [a] A {files: a.txt}: [[script:write_file a.txt]] one',
    cwd: sampleRepo(),
    approve: true,
  });
  const waiting = await waitSession(server, started.id, (v) => v.state === 'awaiting_approval', 60_000);
  assert.match(waiting.approval?.message ?? '', /OpenCode cannot start/);
  assert.deepEqual(
    waiting.tasks.map((t) => [t.state, t.attempts]),
    [['ready', 0]],
  );
  assert.equal((await opencode(server)).availability.state, 'unavailable');
  assert.equal((await opencode(server)).health.failures, 0);

  linkSync(real, bin);
  await server.request(sessionApprove, { sessionId: started.id });
  const done = await waitSession(server, started.id, (v) => ['completed', 'failed', 'partially_completed'].includes(v.state), 180_000);
  assert.equal(done.state, 'completed', JSON.stringify(done.tasks));
  assert.deepEqual(
    done.tasks.map((t) => t.attempts),
    [1],
  );
  assert.equal((await opencode(server)).availability.state, 'ready');
});
