/**
 * Live activity without asking back (issue 10): while a session task's run is in a tool call,
 * `session/didChange` carries the task's `currentTool` and `usage`; agents' health arrives as
 * `agent/didChange`; the session's runs say which session and task they belong to. The real server,
 * the real OpenCode binary and the scripted model.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { agentDidChange, type AgentView } from '../../protocol/agent';
import { runList } from '../../protocol/run';
import { sessionDidChange, sessionStart, type SessionView } from '../../protocol/session';
import { startServer, tempDir, type ServerHandle } from './serverProcess';
import { ended, sampleRepo, waitSession } from './sessionHelpers';

let server: ServerHandle;
before(async () => {
  server = await startServer(tempDir());
});
after(async () => {
  await server?.stop();
});

/** Polls `probe` until it returns a value; fails naming `what` after `ms`. */
async function until<T>(what: string, ms: number, probe: () => T | undefined): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`${what}: not seen within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('a running session task shows its tool in progress and usage in session/didChange; agents arrive as agent/didChange', async () => {
  const cwd = sampleRepo();
  const goal = '- [w] W {files: w.txt}: [[script:slow_write w.txt 400]] written slowly';
  const started = await server.request(sessionStart, { goal, cwd, approve: true });
  const live = await until('a session/didChange naming the tool in progress', 90_000, () =>
    server.notifications
      .filter((n) => n.method === sessionDidChange.method)
      .map((n) => n.params as SessionView)
      .filter((v) => v.id === started.id)
      .flatMap((v) => v.tasks)
      .find((t) => t.state === 'running' && t.currentTool),
  );
  assert.match(live.currentTool!, /write/);
  assert.ok(live.usage, 'the running task carries its usage so far');
  assert.ok(live.runId, 'and the run it comes from');
  const done = await waitSession(server, started.id, ended);
  assert.equal(done.state, 'completed');
  assert.equal(done.tasks[0].currentTool, undefined, 'a finished task shows no tool');
  const run = (await server.request(runList, {})).find((r) => r.id === done.tasks[0].runId);
  assert.equal(run?.sessionId, started.id, 'the run names its session');
  assert.equal(run?.taskId, done.tasks[0].id, 'and the task it is an attempt of');
  const agents = await until('an agent/didChange counting the success', 10_000, () =>
    server.notifications
      .filter((n) => n.method === agentDidChange.method)
      .map((n) => (n.params as { agents: AgentView[] }).agents)
      .find((list) => list.some((a) => a.id === 'opencode' && a.health.successes >= 1)),
  );
  assert.equal(agents[0].id, 'opencode');
});
