/**
 * Promises of sessions that no other test guards, through the real server, the real OpenCode binary and
 * the scripted model: cancelling a running session; a dependent task starting from its dependencies'
 * merged work; transcripts complete and gap-free after a kill -9 and a restart.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { AgentEvent } from '../../protocol/agentEvent';
import { sessionApprove, sessionCancel, sessionGet, sessionStart, type SessionView } from '../../protocol/session';
import { runGet, runList, runTranscript } from '../../protocol/run';
import { startServer, tempDir, type ServerHandle } from './serverProcess';
import { ended, sampleRepo, task, waitSession } from './sessionHelpers';

const started: ServerHandle[] = [];
after(async () => {
  await Promise.all(started.map((s) => s.stop()));
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function server(dataDir = tempDir()): Promise<ServerHandle> {
  const s = await startServer(dataDir);
  started.push(s);
  return s;
}

const worktrees = (cwd: string) =>
  execFileSync('git', ['worktree', 'list', '--porcelain'], { cwd, encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.startsWith('worktree '))
    .map((l) => l.slice(9));

describe('session promises', () => {
  test('cancelling a running session: its agents stop, every task is cancelled, nothing is dispatched later, worktrees are removed', async () => {
    const s = await server();
    const cwd = sampleRepo();
    const goal = [
      '- [a] A {files: a.txt}: [[script:slow 200 300]] alpha',
      '- [b] B {files: b.txt}: [[script:slow 200 300]] beta',
      '- [c] C (after: a) {files: c.txt}: [[script:write_file c.txt]] gamma',
    ].join('\n');
    const draft = await s.request(sessionStart, { goal, cwd });
    await s.request(sessionApprove, { sessionId: draft.id });
    // Both slow turns are streaming (their transcripts grow).
    const running = await waitSession(
      s,
      draft.id,
      (v) => ended(v) || ['a', 'b'].every((id) => task(v, id).state === 'running' && task(v, id).runId),
      180_000,
    );
    assert.equal(running.state, 'running');
    const runIds = ['a', 'b'].map((id) => task(running, id).runId!);
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const counts = await Promise.all(runIds.map(async (runId) => (await s.request(runTranscript, { runId })).events.length));
      if (counts.every((n) => n >= 3)) break;
      await sleep(250);
    }
    const cancelled = await s.request(sessionCancel, { sessionId: draft.id });
    assert.equal(cancelled.state, 'cancelled');
    // The agents stop: their turns end as cancelled and their transcripts stop growing.
    for (const runId of runIds) {
      const end = Date.now() + 60_000;
      let state = '';
      while (Date.now() < end && (state = (await s.request(runGet, { runId })).state) === 'running') await sleep(250);
      assert.equal(state, 'cancelled', `turn ${runId} ended as cancelled`);
    }
    const lengths = async () => Promise.all(runIds.map(async (runId) => (await s.request(runTranscript, { runId })).events.length));
    const stopped = await lengths();
    // Longer than the runner's 5 s tick: a dispatch after the cancel would show here.
    await sleep(7_000);
    assert.deepEqual(await lengths(), stopped, 'no event after the turns ended');
    const v = await s.request(sessionGet, { sessionId: draft.id });
    assert.equal(v.state, 'cancelled');
    assert.deepEqual(
      v.tasks.map((t) => [t.planId, t.state]),
      [
        ['a', 'cancelled'],
        ['b', 'cancelled'],
        ['c', 'cancelled'],
      ],
    );
    assert.equal(task(v, 'c').startedAt, undefined, 'c was never dispatched');
    assert.equal(task(v, 'c').runId, undefined);
    assert.ok(!existsSync(path.join(cwd, 'c.txt')));
    const end = Date.now() + 30_000;
    while (Date.now() < end && worktrees(cwd).length > 1) await sleep(250);
    assert.deepEqual(
      worktrees(cwd),
      [execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd, encoding: 'utf8' }).trim()],
      "only the user's own worktree is left",
    );
  });

  test("a dependent task starts from its dependencies' merged work: it edits and reads what they wrote", async () => {
    const s = await server();
    const cwd = sampleRepo();
    const goal = [
      '- [a] A {files: shared.txt}: [[script:write_file shared.txt]] alpha-line',
      '- [b] B {files: other.txt}: [[script:write_file other.txt]] other-line',
      '- [c] C (after: a) {files: shared.txt}: [[script:edit_file shared.txt alpha-line alpha-line-then-gamma]] edit it',
      '- [d] D (after: b, c) {mode: read}: [[script:read_file shared.txt]] read it',
    ].join('\n');
    const draft = await s.request(sessionStart, { goal, cwd, approve: true });
    const v = await waitSession(s, draft.id, ended, 300_000);
    assert.equal(v.state, 'completed', JSON.stringify(v.tasks.map((t) => [t.planId, t.state, t.lastError])));
    // c's edit only applies where a's line exists: in a worktree that holds a's merged result.
    const merged = execFileSync('git', ['show', `${v.integrationBranch}:shared.txt`], { cwd, encoding: 'utf8' });
    assert.equal(merged.split('\n')[0], 'alpha-line-then-gamma', 'c edited the file a wrote');
    // d read the file after both a and c: it saw c's edit.
    assert.match(task(v, 'd').result?.summary ?? '', /alpha-line-then-gamma/, `d read c's version: ${task(v, 'd').result?.summary}`);
    assert.deepEqual(task(v, 'c').result?.changedFiles, ['shared.txt'], 'c changed the file rather than creating it');
  });

  test("after a kill -9 mid-run and a restart, every run's transcript is complete and gap-free", async () => {
    const dataDir = tempDir();
    const cwd = sampleRepo();
    const goal = [
      '- [a] A {files: a.txt}: [[script:slow_write a.txt 150]] alpha',
      '- [b] B {files: b.txt}: [[script:slow_write b.txt 150]] beta',
      '- [c] C (after: a) {files: c.txt}: [[script:slow_write c.txt 100]] gamma',
    ].join('\n');
    let s = await server(dataDir);
    const draft = await s.request(sessionStart, { goal, cwd, approve: true });
    // Kill while a turn is mid-stream (it has acknowledged transcript lines).
    const files = () => {
      const root = path.join(dataDir, 'transcripts');
      return existsSync(root)
        ? readdirSync(root, { recursive: true })
            .map(String)
            .filter((f) => f.endsWith('.jsonl'))
            .map((f) => path.join(root, f))
        : [];
    };
    const end = Date.now() + 180_000;
    while (Date.now() < end && !files().some((f) => readFileSync(f, 'utf8').split('\n').filter(Boolean).length >= 3)) await sleep(100);
    const before = new Map(files().map((f) => [f, readFileSync(f, 'utf8')]));
    assert.ok(before.size, 'a turn had written transcript lines before the kill');
    s.child.kill('SIGKILL');
    await new Promise((r) => s.child.once('exit', r));
    s = await server(dataDir);
    const v: SessionView = await waitSession(s, draft.id, ended, 300_000);
    assert.equal(v.state, 'completed', JSON.stringify(v.tasks.map((t) => [t.planId, t.state, t.lastError])));
    const runs = await s.request(runList, {});
    assert.ok(runs.length >= 4, `the interrupted turn(s) and the retries are all runs (${runs.length})`);
    for (const run of runs) {
      const { events } = await s.request(runTranscript, { runId: run.id });
      const seqs = events.map((e: AgentEvent) => e.seq);
      assert.deepEqual(
        seqs,
        seqs.map((_, i) => i + 1),
        `${run.id} (${run.state}): seq 1..n without gaps or repeats`,
      );
      const keys = events.map((e) => e.key);
      assert.equal(new Set(keys).size, keys.length, `${run.id}: no event twice`);
      if (run.state !== 'failed' || run.error?.reason !== 'interrupted') {
        assert.equal(events.length, run.events, `${run.id}: every published event is in the transcript`);
        assert.equal(events.at(-1)?.kind, 'finished', `${run.id}: the transcript ends with the turn's end`);
      }
    }
    for (const [file, text] of before) {
      const whole = text.slice(0, text.lastIndexOf('\n') + 1);
      assert.ok(readFileSync(file, 'utf8').startsWith(whole), `${path.basename(file)}: the acknowledged lines are kept as they were`);
    }
    assert.ok(
      runs.some((r) => r.error?.reason === 'interrupted'),
      'the killed turn is recorded as interrupted',
    );
  });
});
