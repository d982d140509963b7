/**
 * Per-run state is released when a run ends: after several single-turn runs on an ACP agent through the real
 * dist/server.js, the agent processes of the finished runs are stopped (at most the one spare process the
 * adapter keeps warm remains), instead of one live process per finished run until an idle timer.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { runDidUpdate, runStart, type RunView } from '../../protocol/run';
import { startServer, tempDir, withDeadline } from './serverProcess';

const fixture = path.resolve(__dirname, '../fixtures/acp/fixtureAgent.mjs');
const descriptor = {
  id: 'release-acp',
  name: 'Release fixture agent',
  version: '1.0.0',
  description: 'The project-owned ACP fixture agent',
  _meta: { orchestrator: { command: { path: 'node', args: [fixture] }, capabilities: ['fixture'] } },
};

function repo(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'orch-it-release-'));
  const git = (...a: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...a], { cwd: d, stdio: 'ignore' });
  git('init', '-q');
  writeFileSync(path.join(d, 'README.md'), '# t\n');
  git('add', '-A');
  git('commit', '-qm', 'init');
  return d;
}

/** Live agent processes the server started (its children running the fixture). */
function agentProcesses(serverPid: number): number[] {
  return execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter(([, ppid, ...args]) => Number(ppid) === serverPid && args.join(' ').includes('fixtureAgent.mjs'))
    .map(([pid]) => Number(pid));
}

test('the agent processes of finished runs are stopped: six runs leave at most the one spare', async () => {
  const s = await startServer(tempDir(), { agents: { acpAgents: [{ descriptor, commandPath: process.execPath }] } });
  try {
    const cwd = repo();
    for (let i = 0; i < 6; i++) {
      const { runId } = (await withDeadline(
        s.connection.sendRequest(runStart.method, { agent: descriptor.id, cwd, prompt: `WRITE f${i}.txt run ${i}` }),
        60_000,
        runStart.method,
      )) as { runId: string };
      const end = Date.now() + 60_000;
      let done: RunView | undefined;
      while (!done) {
        assert.ok(Date.now() < end, `run ${i} did not finish within 60 s`);
        done = s.notifications
          .filter((n) => n.method === runDidUpdate.method)
          .map((n) => (n.params as { run: RunView }).run)
          .find((r) => r.id === runId && !['running', 'pending'].includes(r.state));
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(done.state, 'succeeded', JSON.stringify(done.error));
    }
    // Stopping is SIGTERM with a 1.5 s grace: give it a bounded moment.
    const end = Date.now() + 15_000;
    let live = agentProcesses(s.child.pid!);
    while (live.length > 1 && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 250));
      live = agentProcesses(s.child.pid!);
    }
    assert.ok(live.length <= 1, `${live.length} agent processes still alive after 6 finished runs (pids ${live.join(', ')})`);
  } finally {
    await s.stop();
  }
});
