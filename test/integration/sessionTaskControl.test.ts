/**
 * Per-task control (`task/retry`, `task/cancel`) through the real server, the real OpenCode binary and
 * real git: a task whose turns the scripted model fails (`fail_times`, counted in a file across
 * conversations) is retried alone after the session ended; a long running task is cancelled alone while
 * its siblings finish. Bad input is refused with the field named and changes nothing.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ResponseError } from 'vscode-jsonrpc/node';
import { errorCodes } from '../../protocol/errors';
import { runGet, runList } from '../../protocol/run';
import { sessionDiff, sessionGet, sessionStart, type SessionView } from '../../protocol/session';
import { taskCancel, taskRetry } from '../../protocol/task';
import { startServer, tempDir, type ServerHandle } from './serverProcess';
import { ended, sampleRepo, task, waitSession } from './sessionHelpers';

let server: ServerHandle;
before(async () => {
  server = await startServer(tempDir());
});
after(async () => {
  await server?.stop();
});

/** Asserts a JSON-RPC refusal with `code`, a message starting with `field:` and `data.field`. */
async function refused(p: Promise<unknown>, code: number, field: string, pattern: RegExp): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof ResponseError, `the request is refused (got ${String(err)})`);
  assert.equal(err.code, code, err.message);
  assert.match(err.message, new RegExp(`^${field}: `));
  assert.match(err.message, pattern);
  assert.equal((err.data as { field?: string } | undefined)?.field, field);
}

/** What a refused request must leave as it was. */
const snapshot = (v: SessionView) => ({
  state: v.state,
  tasks: v.tasks.map((t) => [t.planId, t.state, t.attempts, t.maxAttempts, t.runId]),
});
const runsOf = async (sessionId: string) => (await server.request(runList, { limit: 1000 })).filter((r) => r.sessionId === sessionId);

describe('per-task control with the real OpenCode binary', () => {
  test('a task that failed for good is retried alone: it runs again and succeeds, the others are not re-run', async () => {
    const cwd = sampleRepo();
    const counter = path.join(tempDir('orch-failcount-'), 'count');
    const goal = [
      `- [a] A {files: a.txt}: [[script:fail_times ${counter} 3 a.txt]] alpha`,
      '- [b] B {files: b.txt}: [[script:slow_write b.txt 300]] beta',
      '- [c] C {files: c.txt}: [[script:slow_write c.txt 300]] gamma',
    ].join('\n');
    const s = await server.request(sessionStart, { goal, cwd, approve: true });
    const first = await waitSession(server, s.id, ended);
    assert.equal(first.state, 'partially_completed', JSON.stringify(first.tasks.map((t) => [t.planId, t.state, t.lastError])));
    const a = task(first, 'a');
    assert.equal(a.state, 'failed');
    assert.equal(a.attempts, 3, 'a used its 3 attempts');
    assert.match(a.lastError ?? '', /scripted failure 3 of 3/);
    for (const id of ['b', 'c']) assert.deepEqual([task(first, id).state, task(first, id).attempts], ['succeeded', 1], id);
    assert.equal(readFileSync(counter, 'utf8').trim(), '3', 'the model failed three turns');

    // Bad input: refused with the field named; nothing changes.
    const before = snapshot(await server.request(sessionGet, { sessionId: s.id }));
    await refused(server.request(taskRetry, { sessionId: s.id, taskId: `${s.id}:nope` }), errorCodes.notFound, 'taskId', /has no task/);
    await refused(server.request(taskRetry, { sessionId: s.id, taskId: 'a' }), errorCodes.notFound, 'taskId', /plan id "a" is task/);
    await refused(
      server.request(taskRetry, { sessionId: s.id, taskId: task(first, 'b').id }),
      errorCodes.conflict,
      'taskId',
      /already succeeded/,
    );
    await refused(
      server.request(taskRetry, { sessionId: s.id, taskId: a.id, raiseLimit: false }),
      errorCodes.conflict,
      'raiseLimit',
      /3\/3/,
    );
    await refused(server.request(taskCancel, { sessionId: s.id, taskId: a.id }), errorCodes.conflict, 'sessionId', /already ended/);
    assert.deepEqual(snapshot(await server.request(sessionGet, { sessionId: s.id })), before, 'refusals changed nothing');
    assert.equal(readFileSync(counter, 'utf8').trim(), '3', 'no turn ran');

    const reopened = await server.request(taskRetry, { sessionId: s.id, taskId: a.id });
    assert.equal(reopened.state, 'running', 'the ended session runs again');
    assert.ok(['ready', 'running'].includes(task(reopened, 'a').state));
    assert.equal(task(reopened, 'a').maxAttempts, 4, 'one attempt beyond the limit');
    // An agent whose circuit opened after three failures takes a probe task after a minute: within the deadline.
    const done = await waitSession(server, s.id, ended, 240_000);
    assert.equal(done.state, 'completed', JSON.stringify(done.tasks.map((t) => [t.planId, t.state, t.lastError])));
    assert.deepEqual(
      done.tasks.map((t) => [t.planId, t.state, t.attempts]).sort(),
      [
        ['a', 'succeeded', 4],
        ['b', 'succeeded', 1],
        ['c', 'succeeded', 1],
      ],
      'a ran once more; b and c were not re-run',
    );
    for (const id of ['b', 'c']) assert.equal(task(done, id).runId, task(first, id).runId, `${id} kept its run`);
    const runs = await runsOf(s.id);
    const count = (id: string) => runs.filter((r) => r.taskId === task(done, id).id).length;
    assert.deepEqual([count('a'), count('b'), count('c')], [4, 1, 1], 'agent turns per task');
    assert.equal(runs.find((r) => r.id === task(done, 'a').runId)?.state, 'succeeded');
    const diff = await server.request(sessionDiff, { sessionId: s.id });
    assert.deepEqual(diff.files.map((f) => f.path).sort(), ['a.txt', 'b.txt', 'c.txt']);
    assert.match(diff.patch, /\+alpha/);
  });

  test('a running task is cancelled alone: its turn stops, its dependent is cancelled, the siblings complete', async () => {
    const cwd = sampleRepo();
    const goal = [
      '- [long] Long {files: long.txt}: [[script:slow 120 500]]',
      '- [next] Next (after: long) {files: next.txt}: [[script:write_file next.txt]] next',
      '- [s1] S1 {files: s1.txt}: [[script:slow_write s1.txt 400]] one',
      '- [s2] S2 (after: s1) {files: s2.txt}: [[script:write_file s2.txt]] two',
    ].join('\n');
    const s = await server.request(sessionStart, { goal, cwd, approve: true });
    const running = await waitSession(
      server,
      s.id,
      (v) => task(v, 'long').state === 'running' && !!task(v, 'long').runId && task(v, 's1').state === 'succeeded',
    );
    const long = task(running, 'long');
    assert.equal((await server.request(runGet, { runId: long.runId! })).state, 'running');

    // Bad input first: nothing changes.
    const before = snapshot(await server.request(sessionGet, { sessionId: s.id }));
    await refused(server.request(taskCancel, { sessionId: s.id, taskId: `${s.id}:ghost` }), errorCodes.notFound, 'taskId', /has no task/);
    await refused(server.request(taskCancel, { sessionId: 'no-such-session', taskId: long.id }), errorCodes.notFound, 'sessionId', /./);
    await refused(server.request(taskRetry, { sessionId: s.id, taskId: long.id }), errorCodes.conflict, 'taskId', /is running/);
    await refused(
      server.request(taskCancel, { sessionId: s.id, taskId: task(running, 's1').id }),
      errorCodes.conflict,
      'taskId',
      /already ended \(succeeded\)/,
    );
    const now = snapshot(await server.request(sessionGet, { sessionId: s.id }));
    assert.deepEqual(
      now.tasks.find((t) => t[0] === 'long'),
      before.tasks.find((t) => t[0] === 'long'),
      'long untouched',
    );
    assert.equal(task(await server.request(sessionGet, { sessionId: s.id }), 'long').state, 'running');

    const t0 = Date.now();
    const cancelled = await server.request(taskCancel, { sessionId: s.id, taskId: long.id });
    assert.equal(task(cancelled, 'long').state, 'cancelled');
    assert.equal(task(cancelled, 'next').state, 'cancelled', 'its dependent is cancelled with it');
    assert.notEqual(cancelled.state, 'cancelled', 'the session goes on');
    const stopped = await (async () => {
      const end = Date.now() + 30_000;
      for (;;) {
        const r = await server.request(runGet, { runId: long.runId! });
        if (r.state !== 'running') return r;
        if (Date.now() > end) throw new Error(`run ${long.runId} still running 30 s after task/cancel`);
        await new Promise((res) => setTimeout(res, 200));
      }
    })();
    assert.equal(stopped.state, 'cancelled', "the task's agent turn was stopped");
    assert.ok(Date.now() - t0 < 30_000, 'well before its 60 s of output');

    const done = await waitSession(server, s.id, ended);
    assert.equal(done.state, 'partially_completed', 'some tasks succeeded, some were cancelled');
    assert.deepEqual(done.tasks.map((t) => [t.planId, t.state]).sort(), [
      ['long', 'cancelled'],
      ['next', 'cancelled'],
      ['s1', 'succeeded'],
      ['s2', 'succeeded'],
    ]);
    assert.equal(task(done, 'next').runId, undefined, 'the dependent never ran');
    await refused(
      server.request(taskCancel, { sessionId: s.id, taskId: task(done, 's1').id }),
      errorCodes.conflict,
      'sessionId',
      /already ended/,
    );
    const diff = await server.request(sessionDiff, { sessionId: s.id });
    assert.deepEqual(diff.files.map((f) => f.path).sort(), ['s1.txt', 's2.txt']);
  });
});
