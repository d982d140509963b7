/**
 * Nothing left behind, and a session's cost is all of it, through the real server, the real OpenCode
 * binary and the scripted model: deleting a failed or a running session leaves the user's repository
 * exactly as before it started; an applied session removes its branches and worktrees and refuses a
 * second apply; a cancelled session can be retried; the LLM planner's tokens count in the session.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ResponseError } from 'vscode-jsonrpc/node';
import { errorCodes } from '../../protocol/errors';
import {
  sessionApply,
  sessionApprove,
  sessionCancel,
  sessionDelete,
  sessionDiff,
  sessionGet,
  sessionList,
  sessionRetry,
  sessionStart,
  type SessionView,
} from '../../protocol/session';
import { runGet } from '../../protocol/run';
import { startServer, tempDir, withDeadline, type ServerHandle } from './serverProcess';
import { ended, sampleRepo, task, waitSession } from './sessionHelpers';

let server: ServerHandle;
let dataDir: string;
before(async () => {
  dataDir = tempDir();
  server = await startServer(dataDir);
});
after(async () => {
  await server?.stop();
});

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' });
/** What a user would look at: the worktrees and the orchestrator's branches of their repository. */
const repoState = (cwd: string) => ({
  worktrees: git(cwd, 'worktree', 'list', '--porcelain'),
  branches: git(cwd, 'branch', '--list', 'orchestrator/*'),
});
/** Delete can wait for running turns to end: a longer deadline than the helper's 10 s. */
const del = (sessionId: string) =>
  withDeadline(server.connection.sendRequest(sessionDelete.method, { sessionId }), 90_000, 'session/delete') as Promise<{
    sessionId: string;
    removedBranches: string[];
  }>;
const refused = async (p: Promise<unknown>, code: number, pattern: RegExp) => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof ResponseError, 'the request is refused');
  assert.equal(err.code, code, err.message);
  assert.match(err.message, pattern);
};
const tokensOf = (u: { inputTokens: number; outputTokens: number; reasoningTokens: number }) =>
  u.inputTokens + u.outputTokens + u.reasoningTokens;

describe('sessions leave nothing behind', () => {
  test('a session deleted after a failure leaves worktrees and orchestrator/* branches as before it started', async () => {
    const cwd = sampleRepo();
    const before = repoState(cwd);
    // Two tasks write the same file: one merges, the other fails with a real merge conflict (its branch is kept).
    const goal = [
      '- [p] P {files: p.txt}: [[script:slow_write conflict.txt 100]] from p',
      '- [q] Q {files: q.txt}: [[script:slow_write conflict.txt 100]] from q',
    ].join('\n');
    const s = await server.request(sessionStart, { goal, cwd, approve: true });
    const waiting = await waitSession(server, s.id, (x) => x.state === 'awaiting_approval' || ended(x));
    assert.equal(waiting.state, 'awaiting_approval', 'the conflict is a failure the user is asked about');
    await server.request(sessionApprove, { sessionId: s.id });
    const failed = await waitSession(server, s.id, ended);
    assert.equal(failed.state, 'partially_completed');
    const loser = failed.tasks.find((t) => t.state === 'failed')!;
    assert.match(loser.lastError ?? '', /merge conflict/);
    const left = repoState(cwd);
    assert.match(left.branches, new RegExp(`orchestrator/${s.id}/integration`), 'before delete: the integration branch is there');
    assert.match(left.branches, new RegExp(`orchestrator/${s.id}/${loser.planId}`), "before delete: the failed task's branch is kept");

    const r = await del(s.id);
    assert.ok(r.removedBranches.includes(`orchestrator/${s.id}/integration`), JSON.stringify(r));
    assert.deepEqual(repoState(cwd), before, 'git worktree list and git branch --list orchestrator/* are as before the session');
    assert.ok(!existsSync(path.join(dataDir, 'worktrees', s.id)), "the session's worktree folder is gone");
    await refused(server.request(sessionGet, { sessionId: s.id }), errorCodes.notFound, /no session/);
    assert.ok(!(await server.request(sessionList, {})).some((x) => x.id === s.id), 'the session is no longer listed');
    await refused(server.request(runGet, { runId: loser.runId! }), errorCodes.notFound, /./);
    assert.equal(readFileSync(path.join(cwd, 'README.md'), 'utf8'), '# sample\n');
    assert.equal(git(cwd, 'status', '--porcelain'), '', "the user's working tree is untouched");
  });

  test('deleting a running session cancels it first; nothing of it comes back', async () => {
    const cwd = sampleRepo();
    const before = repoState(cwd);
    const s = await server.request(sessionStart, { goal: '- [long] Long {files: long.txt}: [[script:slow 120 500]]', cwd, approve: true });
    const running = await waitSession(server, s.id, (x) => task(x, 'long').state === 'running' && !!task(x, 'long').runId);
    assert.equal(running.state, 'running');
    const t0 = Date.now();
    await del(s.id);
    assert.ok(Date.now() - t0 < 60_000, 'delete did not wait for the 60 s turn to finish');
    assert.deepEqual(repoState(cwd), before);
    const run = running.tasks[0].runId!;
    await new Promise((r) => setTimeout(r, 3_000));
    // The cancelled turn's end must not resurrect the session or its records.
    assert.ok(!(await server.request(sessionList, {})).some((x) => x.id === s.id));
    await refused(server.request(runGet, { runId: run }), errorCodes.notFound, /./);
    assert.deepEqual(repoState(cwd), before, 'still as before a moment later');
  });

  test('apply once: the applied session drops its branches and worktrees; a second apply is refused and changes nothing', async () => {
    const cwd = sampleRepo();
    const before = repoState(cwd);
    const s = await server.request(sessionStart, { goal: '- [a] A {files: a.txt}: [[script:write_file a.txt]] alpha', cwd, approve: true });
    const done = await waitSession(server, s.id, ended);
    assert.equal(done.state, 'completed');
    assert.equal(done.appliedAt, undefined);
    const first = await server.request(sessionApply, { sessionId: s.id });
    assert.deepEqual(first.applied, ['a.txt']);
    assert.equal(readFileSync(path.join(cwd, 'a.txt'), 'utf8'), 'alpha\n');
    assert.deepEqual(repoState(cwd), before, 'no orchestrator branch or worktree is left once applied');
    const v = await server.request(sessionGet, { sessionId: s.id });
    assert.ok(v.appliedAt && v.appliedAt >= done.finishedAt!, 'the session says it was applied');
    assert.deepEqual(v.appliedFiles, ['a.txt']);
    assert.deepEqual(
      (await server.request(sessionDiff, { sessionId: s.id })).files.map((f) => f.path),
      ['a.txt'],
      'the diff can still be reviewed',
    );

    // The user keeps working on the applied file; a second click must neither complain about it nor touch it.
    writeFileSync(path.join(cwd, 'a.txt'), 'alpha, edited by the user\n');
    const status = git(cwd, 'status', '--porcelain');
    await refused(server.request(sessionApply, { sessionId: s.id }), errorCodes.conflict, /already applied/);
    assert.equal(readFileSync(path.join(cwd, 'a.txt'), 'utf8'), 'alpha, edited by the user\n');
    assert.equal(git(cwd, 'status', '--porcelain'), status);
    await refused(server.request(sessionRetry, { sessionId: s.id }), errorCodes.conflict, /already applied/);
  });

  test('a cancelled session can be retried and then completes', async () => {
    const cwd = sampleRepo();
    const s = await server.request(sessionStart, {
      goal: '- [w] W {files: w.txt}: [[script:slow_write w.txt 700]] written',
      cwd,
      approve: true,
    });
    await waitSession(server, s.id, (x) => task(x, 'w').state === 'running' && !!task(x, 'w').runId);
    const cancelled = (await withDeadline(
      server.connection.sendRequest(sessionCancel.method, { sessionId: s.id }),
      60_000,
      'session/cancel',
    )) as SessionView;
    assert.equal(cancelled.state, 'cancelled');
    const reopened = await server.request(sessionRetry, { sessionId: s.id });
    assert.equal(reopened.state, 'running');
    const done = await waitSession(server, s.id, ended);
    assert.equal(done.state, 'completed', JSON.stringify(done.tasks.map((t) => [t.planId, t.state, t.lastError])));
    assert.equal(git(cwd, 'show', `${done.integrationBranch}:w.txt`), 'written\n');
    await del(s.id);
  });
});

describe('accounting', () => {
  test("the LLM planner's tokens count in the session's usage and budget", async () => {
    const cwd = sampleRepo();
    const plan = { tasks: [{ id: 'one', title: 'One', prompt: '[[script:write_file one.txt]] one', expectedFiles: ['one.txt'] }] };
    const draft = (await withDeadline(
      server.connection.sendRequest(sessionStart.method, { goal: `[[script:text]] ${JSON.stringify(plan)}`, cwd, planner: 'llm' }),
      120_000,
      'session/start',
    )) as SessionView;
    assert.equal(draft.state, 'draft');
    const planned = tokensOf(draft.plannerUsage ?? { inputTokens: 0, outputTokens: 0, reasoningTokens: 0 });
    assert.ok(planned > 0, `the planning turn reported tokens (${JSON.stringify(draft.plannerUsage)})`);
    assert.equal(tokensOf(draft.usage), planned, 'before any task ran, the session already cost its planning');
    assert.equal(draft.budget.spent.tokens, planned, 'the budget has spent them');
    await server.request(sessionApprove, { sessionId: draft.id });
    const done = await waitSession(server, draft.id, ended);
    assert.equal(done.state, 'completed');
    const tasks = done.tasks.reduce((n, t) => n + tokensOf(t.result!.usage), 0);
    assert.ok(tasks > 0);
    assert.equal(tokensOf(done.usage), planned + tasks, 'total = planning + tasks');
    assert.equal(done.budget.spent.tokens, planned + tasks);
    // The planning turn belongs to the session: deleting the session leaves no stray single run behind.
    await del(draft.id);
  });
});
