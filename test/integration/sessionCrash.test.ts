/**
 * kill -9 of the orchestrator server at several points of a session: after each restart the session
 * carries on; finished results stay finished; every transcript line written before a kill survives.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { sessionApprove, sessionGet, sessionStart, type SessionView } from '../../protocol/session';
import { startServer, tempDir, type ServerHandle } from './serverProcess';
import { ended, sampleRepo, waitSession } from './sessionHelpers';

function transcripts(dataDir: string): Map<string, string> {
  const root = path.join(dataDir, 'transcripts');
  const out = new Map<string, string>();
  if (!existsSync(root)) return out;
  for (const f of readdirSync(root, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.jsonl')))
    out.set(f, readFileSync(path.join(root, f), 'utf8'));
  return out;
}

const lineCount = (m: Map<string, string>) => [...m.values()].reduce((n, t) => n + t.split('\n').filter(Boolean).length, 0);

test('kill -9 at several points of a run: the session completes and nothing acknowledged is lost', async () => {
  const dataDir = tempDir();
  const cwd = sampleRepo();
  const goal = [
    '- [a] A {files: a.txt}: [[script:slow_write a.txt 120]] alpha',
    '- [b] B {files: b.txt}: [[script:slow_write b.txt 120]] beta',
    '- [c] C (after: a, b) {files: c.txt}: [[script:slow_write c.txt 120]] gamma',
    '- [d] D (after: c) {files: d.txt}: [[script:slow_write d.txt 120]] delta',
    '- [e] E (after: a) {files: e.txt}: [[script:slow_write e.txt 120]] epsilon',
  ].join('\n');
  let server: ServerHandle = await startServer(dataDir);
  const s = await server.request(sessionStart, { goal, cwd });
  await server.request(sessionApprove, { sessionId: s.id });
  const kills: { succeeded: string[]; lines: number }[] = [];
  // Kill points: while the first wave runs; after some task finished; shortly after a restart.
  const points: ((v: SessionView) => boolean)[] = [
    (v) => v.tasks.some((t) => t.state === 'running' && t.runId),
    (v) => v.tasks.filter((t) => t.state === 'succeeded').length >= 2,
    // Mid-turn: a running task already has transcript lines beyond those of the previous kill.
    (v) => v.tasks.some((t) => t.state === 'running' && t.runId) && lineCount(transcripts(dataDir)) > (kills.at(-1)?.lines ?? 0),
  ];
  try {
    for (const point of points) {
      const v = await waitSession(server, s.id, (x) => point(x) || ended(x), 120_000);
      if (ended(v)) break;
      const before = transcripts(dataDir);
      const succeeded = v.tasks.filter((t) => t.state === 'succeeded').map((t) => t.planId);
      server.child.kill('SIGKILL');
      await new Promise((r) => server.child.once('exit', r));
      kills.push({ succeeded, lines: lineCount(before) });
      server = await startServer(dataDir);
      const after = await server.request(sessionGet, { sessionId: s.id });
      for (const id of succeeded)
        assert.equal(after.tasks.find((t) => t.planId === id)?.state, 'succeeded', `${id} stays succeeded after the restart`);
      const now = transcripts(dataDir);
      for (const [file, text] of before) {
        const complete = text.slice(0, text.lastIndexOf('\n') + 1);
        assert.ok(now.get(file)?.startsWith(complete), `${file}: every line written before the kill is still there`);
      }
    }
    assert.ok(kills.length >= 2, `the run was killed at least twice (${kills.length})`);
    const v = await waitSession(server, s.id, ended, 240_000);
    assert.equal(v.state, 'completed', JSON.stringify(v.tasks.map((t) => [t.planId, t.state, t.lastError])));
    const expected: Record<string, string> = { 'a.txt': 'alpha', 'b.txt': 'beta', 'c.txt': 'gamma', 'd.txt': 'delta', 'e.txt': 'epsilon' };
    for (const [f, text] of Object.entries(expected)) {
      assert.equal(execFileSync('git', ['show', `${v.integrationBranch}:${f}`], { cwd, encoding: 'utf8' }).split('\n')[0], text, f);
    }
    console.log(`kills: ${JSON.stringify(kills)}; attempts: ${JSON.stringify(v.tasks.map((t) => [t.planId, t.attempts]))}`);
  } finally {
    await server.stop();
  }
});
