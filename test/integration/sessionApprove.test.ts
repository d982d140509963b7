/**
 * Approving an edited plan in one request (`session/approve` with `plan`) through the real server, the real
 * OpenCode binary and real git: the edit is applied and started in one step, a refused plan leaves the draft
 * exactly as it was, and two approvals at once run the session once (the second is a `conflict`).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ResponseError } from 'vscode-jsonrpc/node';
import { errorCodes } from '../../protocol/errors';
import { runList } from '../../protocol/run';
import { sessionApprove, sessionDiff, sessionGet, sessionStart } from '../../protocol/session';
import { startServer, tempDir, type ServerHandle } from './serverProcess';
import { ended, sampleRepo, waitSession } from './sessionHelpers';

let server: ServerHandle;
let dataDir: string;
before(async () => {
  dataDir = tempDir();
  server = await startServer(dataDir, {}, { env: { ORCH_PREWARM_TASKS: '1' } }); // the draft's first wave is pre-warmed
});
after(async () => {
  await server?.stop();
});

async function rejected(p: Promise<unknown>): Promise<ResponseError<unknown>> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  assert.ok(e instanceof ResponseError, `expected a JSON-RPC error, got ${String(e)}`);
  return e;
}

// Names only (`git branch` marks a branch checked out in a linked worktree with `+`).
const branches = (cwd: string) =>
  execFileSync('git', ['branch', '--list', '--format=%(refname:short)', 'orchestrator/*'], { cwd, encoding: 'utf8' }).trim();
/** OpenCode's snapshot repositories (one per folder it opened and snapshotted: the warm-up makes one). */
const snapshotRepos = (): string[] => {
  const root = path.join(dataDir, 'agents', 'opencode', 'opencode-home', 'data', 'opencode', 'snapshot');
  return existsSync(root) ? readdirSync(root).flatMap((p) => readdirSync(path.join(root, p)).map((f) => `${p}/${f}`)) : [];
};
const worktrees = (cwd: string) => execFileSync('git', ['worktree', 'list'], { cwd, encoding: 'utf8' }).trim().split('\n');

describe('session/approve with an edited plan', () => {
  test('the edited plan replaces the draft’s and runs, in one request', async () => {
    const cwd = sampleRepo();
    const draft = await server.request(sessionStart, { goal: '- [a] Alpha {files: a.txt}: [[script:write_file a.txt]] alpha', cwd });
    assert.equal(draft.state, 'draft');
    const plan = {
      tasks: [{ id: 'b', title: 'Beta', prompt: '[[script:write_file b.txt]] beta', expectedFiles: ['b.txt'] }],
    };
    const started = await server.request(sessionApprove, { sessionId: draft.id, plan });
    assert.equal(started.state, 'running');
    assert.equal(started.planner, 'user');
    assert.deepEqual(
      started.tasks.map((t) => [t.planId, t.title]),
      [['b', 'Beta']],
    );
    const done = await waitSession(server, draft.id, ended);
    assert.equal(done.state, 'completed', JSON.stringify(done.tasks.map((t) => [t.planId, t.state, t.lastError])));
    const diff = await server.request(sessionDiff, { sessionId: draft.id });
    assert.deepEqual(
      diff.files.map((f) => f.path),
      ['b.txt'],
      'only the edited plan ran',
    );
  });

  test('a refused plan leaves the draft unchanged: same plan, still a draft, no branch or worktree', async () => {
    const cwd = sampleRepo();
    const snapshotsBefore = snapshotRepos().length;
    const draft = await server.request(sessionStart, { goal: '- [a] Alpha {files: a.txt}: x\n- [b] Beta (after: a): y', cwd });
    // The draft's first wave (task a, not b) gets its worktree on its task branch while the plan awaits approval.
    const prewarmed = `orchestrator/${draft.id}/a`;
    const end = Date.now() + 120_000;
    // …and OpenCode opens that folder (the warm-up makes its snapshot repository).
    while (!worktrees(cwd).some((w) => w.includes(`[${prewarmed}]`)) || snapshotRepos().length <= snapshotsBefore) {
      assert.ok(Date.now() < end, `the draft's first task was not pre-warmed within 120 s: ${worktrees(cwd).join('; ')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const cyclic = {
      tasks: [
        { id: 'a', title: 'A', prompt: 'x', dependsOn: ['b'] },
        { id: 'b', title: 'B', prompt: 'y', dependsOn: ['a'] },
      ],
    };
    const cycle = await rejected(server.raw(sessionApprove.method, { sessionId: draft.id, plan: cyclic }));
    assert.equal(cycle.code, errorCodes.invalidParams);
    assert.match(cycle.message, /cycle/);
    const ghost = await rejected(
      server.raw(sessionApprove.method, {
        sessionId: draft.id,
        plan: { tasks: [{ id: 'a', title: ' ', prompt: 'x', dependsOn: ['ghost'] }] },
      }),
    );
    assert.equal(ghost.code, errorCodes.invalidParams);
    assert.deepEqual((ghost.data as { issues: unknown }).issues, [
      { path: ['plan', 'tasks', 0, 'title'], message: 'must not be empty' },
      { path: ['plan', 'tasks', 0, 'dependsOn', 0], message: 'unknown task "ghost"' },
    ]);
    const shape = await rejected(server.raw(sessionApprove.method, { sessionId: draft.id, plan: { tasks: 'all of them' } }));
    assert.equal(shape.code, errorCodes.invalidParams);
    assert.deepEqual((shape.data as { fields: string[] }).fields, ['plan.tasks']);

    const now = await server.request(sessionGet, { sessionId: draft.id });
    assert.equal(now.state, 'draft');
    assert.deepEqual(
      now.tasks.map((t) => [t.planId, t.title, t.dependsOn, t.state]),
      draft.tasks.map((t) => [t.planId, t.title, t.dependsOn, t.state]),
    );
    // A refused approval adds nothing: no integration branch, no branch or worktree besides the pre-warmed one.
    assert.equal(branches(cwd), prewarmed, 'no orchestrator branch was created');
    assert.equal(worktrees(cwd).length, 2, `no worktree was added: ${worktrees(cwd).join('; ')}`);
  });

  test('two approvals at once: the session runs once, the other is refused as a conflict', async () => {
    const cwd = sampleRepo();
    const draft = await server.request(sessionStart, { goal: '- [a] Alpha {files: a.txt}: [[script:write_file a.txt]] alpha', cwd });
    const plan = { tasks: [{ id: 'c', title: 'Gamma', prompt: '[[script:write_file c.txt]] gamma', expectedFiles: ['c.txt'] }] };
    const results = await Promise.allSettled([
      server.request(sessionApprove, { sessionId: draft.id, plan }),
      server.request(sessionApprove, { sessionId: draft.id, plan }),
    ]);
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.equal(ok.length, 1, JSON.stringify(results.map((r) => r.status)));
    assert.equal(refused.length, 1);
    const err = refused[0].reason as ResponseError<unknown>;
    assert.ok(err instanceof ResponseError);
    assert.equal(err.code, errorCodes.conflict);
    assert.match(err.message, /already being approved|only a draft/);
    const done = await waitSession(server, draft.id, ended);
    assert.equal(done.state, 'completed', JSON.stringify(done.tasks.map((t) => [t.planId, t.state, t.lastError])));
    assert.deepEqual(
      done.tasks.map((t) => [t.planId, t.attempts]),
      [['c', 1]],
    );
    const runs = (await server.request(runList, {})).filter((r) => r.sessionId === draft.id);
    assert.equal(runs.length, 1, 'exactly one agent turn ran');
    // Approving again once it runs is the same conflict, with or without a plan.
    const again = await rejected(server.raw(sessionApprove.method, { sessionId: draft.id, plan }));
    assert.equal(again.code, errorCodes.conflict);
  });
});
