/**
 * Orchestrated sessions through the real server with the real OpenCode binary and the scripted model:
 * a 5-task DAG in parallel worktrees merged in dependency order, leases, a real merge conflict,
 * invalid plans, and a budget crossing.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ResponseError } from 'vscode-jsonrpc/node';
import { errorCodes } from '../../protocol/errors';
import {
  sessionApply,
  sessionApprove,
  sessionDidChange,
  sessionDiff,
  sessionList,
  sessionStart,
  type SessionView,
} from '../../protocol/session';
import { startServer, tempDir, type ServerHandle } from './serverProcess';
import { ended, ms, overlapsInTime, sampleRepo, task, waitSession } from './sessionHelpers';

let server: ServerHandle;
before(async () => {
  server = await startServer(tempDir());
});
after(async () => {
  await server?.stop();
});

describe('sessions over JSON-RPC with the real OpenCode binary', () => {
  test('a 5-task DAG runs in dependency order, independent tasks overlap, results merge file by file', async () => {
    const cwd = sampleRepo();
    const goal = [
      'Build the alphabet files',
      '- [a] Alpha {files: a.txt}: [[script:slow_write a.txt 150]] alpha',
      '- [b] Beta {files: b.txt}: [[script:slow_write b.txt 150]] beta',
      '- [c] Gamma (after: a, b) {files: c.txt}: [[script:write_file c.txt]] gamma',
      '- [d] Delta (after: c) {files: d.txt}: [[script:write_file d.txt]] delta',
      '- [e] Epsilon (after: a) {files: e.txt}: [[script:write_file e.txt]] epsilon',
    ].join('\n');
    const draft = await server.request(sessionStart, { goal, cwd });
    assert.equal(draft.state, 'draft');
    assert.deepEqual(draft.tasks.map((t) => t.planId).sort(), ['a', 'b', 'c', 'd', 'e']);
    assert.ok(!existsSync(path.join(cwd, 'a.txt')), 'nothing runs before approval');
    await server.request(sessionApprove, { sessionId: draft.id });
    const v = await waitSession(server, draft.id, ended);
    assert.equal(v.state, 'completed', JSON.stringify(v.tasks.map((t) => [t.planId, t.state, t.lastError])));
    const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map((id) => task(v, id));
    assert.ok(overlapsInTime(a, b), `a and b overlap in time (a ${a.startedAt}-${a.finishedAt}, b ${b.startedAt}-${b.finishedAt})`);
    assert.ok(ms(c.startedAt) >= Math.max(ms(a.finishedAt), ms(b.finishedAt)), 'c starts after a and b');
    assert.ok(ms(d.startedAt) >= ms(c.finishedAt), 'd starts after c');
    assert.ok(ms(e.startedAt) >= ms(a.finishedAt), 'e starts after a');
    for (const t of [a, b, c, d, e]) assert.equal(t.state, 'succeeded');
    // Events: session/didChange showed a and b running at the same time.
    const snapshots = server.notifications
      .filter((n) => n.method === sessionDidChange.method)
      .map((n) => n.params as SessionView)
      .filter((x) => x.id === draft.id);
    assert.ok(
      snapshots.some((x) => task(x, 'a').state === 'running' && task(x, 'b').state === 'running'),
      'a snapshot shows a and b running together',
    );
    // The integration branch holds every result; the user's tree is untouched until apply.
    const diff = await server.request(sessionDiff, { sessionId: draft.id });
    assert.deepEqual(diff.files.map((f) => f.path).sort(), ['a.txt', 'b.txt', 'c.txt', 'd.txt', 'e.txt']);
    assert.ok(!existsSync(path.join(cwd, 'a.txt')));
    const applied = await server.request(sessionApply, { sessionId: draft.id });
    assert.equal(applied.applied.length, 5);
    const expected: Record<string, string> = { 'a.txt': 'alpha', 'b.txt': 'beta', 'c.txt': 'gamma', 'd.txt': 'delta', 'e.txt': 'epsilon' };
    for (const [f, text] of Object.entries(expected)) assert.equal(readFileSync(path.join(cwd, f), 'utf8').split('\n')[0], text, f);
    assert.equal(readFileSync(path.join(cwd, 'README.md'), 'utf8'), '# sample\n');
    const worktrees = execFileSync('git', ['worktree', 'list'], { cwd, encoding: 'utf8' }).trim().split('\n');
    assert.equal(worktrees.length, 1, `worktrees cleaned up: ${worktrees.join(' | ')}`);
  });

  test('two tasks predicted to touch the same file never run at once', async () => {
    const cwd = sampleRepo();
    const goal = [
      '- [x] X {files: shared.txt}: [[script:slow_write shared-x.txt 100]] x',
      '- [y] Y {files: shared.txt}: [[script:slow_write shared-y.txt 100]] y',
    ].join('\n');
    const s = await server.request(sessionStart, { goal, cwd, approve: true });
    const v = await waitSession(server, s.id, ended);
    assert.equal(v.state, 'completed');
    assert.ok(!overlapsInTime(task(v, 'x'), task(v, 'y')), 'x and y ran one after the other');
    const snapshots = server.notifications
      .filter((n) => n.method === sessionDidChange.method)
      .map((n) => n.params as SessionView)
      .filter((x) => x.id === s.id);
    assert.ok(
      snapshots.some((x) => x.tasks.some((t) => t.state === 'blocked' && /lease|shared\.txt/.test(t.blocked?.reason ?? ''))),
      'one waited on the lease',
    );
    assert.match(
      task(v, 'x').result!.summary + task(v, 'y').result!.summary,
      /outside its lease/,
      'writes outside the predicted files are reported',
    );
  });

  test('a real conflict goes to the user, never a silent overwrite', async () => {
    const cwd = sampleRepo();
    const goal = [
      '- [p] P {files: p.txt}: [[script:slow_write conflict.txt 100]] from p',
      '- [q] Q {files: q.txt}: [[script:slow_write conflict.txt 100]] from q',
    ].join('\n');
    const s = await server.request(sessionStart, { goal, cwd, approve: true });
    const v = await waitSession(server, s.id, (x) => x.state === 'awaiting_approval' || ended(x));
    assert.equal(v.state, 'awaiting_approval');
    assert.match(v.approval?.message ?? '', /conflicts with work already merged \(conflict\.txt\)/);
    const loser = v.tasks.find((t) => t.state === 'failed')!;
    const winner = v.tasks.find((t) => t.state === 'succeeded')!;
    assert.ok(loser && winner);
    const merged = execFileSync('git', ['show', `${v.integrationBranch}:conflict.txt`], { cwd, encoding: 'utf8' });
    assert.equal(merged, `from ${winner.planId}\n`, 'the first result stays on the integration branch');
    const kept = execFileSync('git', ['show', `${loser.branch}:conflict.txt`], { cwd, encoding: 'utf8' });
    assert.equal(kept, `from ${loser.planId}\n`, "the loser's work is kept on its branch");
    // Approving continues without the conflicting task: the session ends partially completed.
    await server.request(sessionApprove, { sessionId: s.id });
    const fin = await waitSession(server, s.id, ended);
    assert.equal(fin.state, 'partially_completed');
  });

  test('invalid plans are refused with reasons and nothing is created', async () => {
    const cwd = sampleRepo();
    const before = (await server.request(sessionList, {})).length;
    const bad = async (params: Record<string, unknown>, pattern: RegExp) => {
      const err = await server.raw(sessionStart.method, params).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof ResponseError, JSON.stringify(params).slice(0, 80));
      assert.equal(err.code, errorCodes.invalidParams);
      assert.match(err.message, pattern);
    };
    await bad(
      {
        goal: 'g',
        cwd,
        plan: {
          tasks: [
            { id: 'a', title: 'A', prompt: 'x', dependsOn: ['b'] },
            { id: 'b', title: 'B', prompt: 'y', dependsOn: ['a'] },
          ],
        },
      },
      /cycle: (a → b → a|b → a → b)/,
    );
    await bad({ goal: 'g', cwd, plan: { tasks: [{ id: 'a', title: 'A', prompt: 'x', dependsOn: ['zzz'] }] } }, /zzz/);
    await bad(
      {
        goal: 'g',
        cwd,
        plan: {
          tasks: [
            { id: 'a', title: 'A', prompt: 'x' },
            { id: 'a', title: 'A2', prompt: 'y' },
          ],
        },
      },
      /duplicate/,
    );
    await bad({ goal: '- [a] A (after: a): x', cwd }, /a/);
    await bad({ goal: '[[script:text]] Honestly, I would just start coding.', cwd, planner: 'llm' }, /prose instead of JSON/);
    assert.equal((await server.request(sessionList, {})).length, before, 'no session was created');
  });

  test('the LLM planner plans through the agent and the plan runs', async () => {
    const cwd = sampleRepo();
    const plan = { tasks: [{ id: 'one', title: 'One', prompt: '[[script:write_file one.txt]] one', expectedFiles: ['one.txt'] }] };
    const s = await server.request(sessionStart, { goal: `[[script:text]] ${JSON.stringify(plan)}`, cwd, planner: 'llm', approve: true });
    assert.equal(s.planner, 'llm');
    const v = await waitSession(server, s.id, ended);
    assert.equal(v.state, 'completed');
    assert.equal(execFileSync('git', ['show', `${v.integrationBranch}:one.txt`], { cwd, encoding: 'utf8' }), 'one\n');
  });

  test('a budget crossing stops dispatch into awaiting_approval with the numbers', async () => {
    const cwd = sampleRepo();
    const goal =
      '- [t1] T1 {tokens: 5000}: [[script:write_file t1.txt]] one\n- [t2] T2 (after: t1) {tokens: 5000}: [[script:write_file t2.txt]] two';
    const s = await server.request(sessionStart, { goal, cwd, approve: true, budget: { tokens: 6000 } });
    const v = await waitSession(server, s.id, (x) => x.state === 'awaiting_approval' || ended(x));
    assert.equal(v.state, 'awaiting_approval');
    assert.match(v.approval?.message ?? '', /tokens/);
    assert.match(v.approval?.message ?? '', /6,?000/);
    assert.equal(task(v, 't2').state === 'running' || task(v, 't2').state === 'succeeded', false, 't2 was not dispatched');
    const raised = await server.request(sessionApprove, { sessionId: s.id, budget: { tokens: 1_000_000 } });
    assert.equal(raised.state, 'running');
    const done = await waitSession(server, s.id, ended);
    assert.equal(done.state, 'completed');
  });
});
