/**
 * Tenant quotas on the real team server (`dist/cli.js serve`, OpenCode and the scripted model), set with
 * `orchestrator admin set-quota` while it runs:
 * - concurrent sessions: four sessions started at once under a limit of two → exactly two run, two are
 *   refused with the numbers; never more than two running; the place is free again once they end;
 * - concurrent tasks: under a limit of one, a session's two independent tasks never overlap and a single
 *   run is refused while one runs;
 * - tokens per window: the tenant's last tokens are granted to the session as its budget, so the crossing
 *   stops it before the next dispatch (awaiting approval with the numbers); approving and `run/start` are
 *   refused with the numbers; raising the quota lets it finish. Changes and refusals are in the audit log.
 */
import assert from 'node:assert/strict';
import { readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AuditEntryView } from '../../protocol/audit';
import { errorCodes } from '../../protocol/errors';
import type { SessionView } from '../../protocol/session';
import { tempDir } from './serverProcess';
import { sampleRepoAt } from './sessionHelpers';
import { admin, connected, startTeamServer, userWithKey, type RpcClient, type TeamServer } from './teamClient';

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 120_000): Promise<T> {
  for (const end = Date.now() + ms; Date.now() < end;) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

describe('team server: tenant quotas', () => {
  let dataDir: string;
  let server: TeamServer;
  let root: string;
  let dev: RpcClient;
  let adm: RpcClient;
  // Tenant k (tokens): its own window, untouched by q's runs.
  let kDev: RpcClient;
  let kAdm: RpcClient;
  const repo = (name: string) => sampleRepoAt(root, name);
  const get = (sessionId: string) => dev.call<SessionView>('session/get', { sessionId });

  before(async () => {
    dataDir = tempDir('orch-team-quota-');
    root = realpathSync(tempDir('orch-quota-root-'));
    const devKey = userWithKey(dataDir, 'q', 'dev', 'developer').key;
    const admKey = userWithKey(dataDir, 'q', 'boss', 'admin').key;
    const kDevKey = userWithKey(dataDir, 'k', 'dev', 'developer').key;
    const kAdmKey = userWithKey(dataDir, 'k', 'boss', 'admin').key;
    admin(dataDir, 'set-roots', 'q', root);
    admin(dataDir, 'set-roots', 'k', root);
    server = await startTeamServer(dataDir);
    dev = await connected(server.url, devKey);
    adm = await connected(server.url, admKey);
    kDev = await connected(server.url, kDevKey);
    kAdm = await connected(server.url, kAdmKey);
  });
  after(async () => {
    await dev?.close();
    await adm?.close();
    await kDev?.close();
    await kAdm?.close();
    await server?.stop();
  });

  test('concurrent sessions: 4 started at once under a limit of 2 → exactly 2 run, 2 refused with the numbers', async () => {
    admin(dataDir, 'set-quota', 'q', '--max-sessions', '2');
    const goal = '- [a] Slow: [[script:slow 10 300]] slow';
    const replies = await Promise.all(
      ['s1', 's2', 's3', 's4'].map((n) => dev.request('session/start', { goal, cwd: repo(n), approve: true })),
    );
    const started = replies.filter((r) => r.result).map((r) => r.result as SessionView);
    const refused = replies.filter((r) => r.error);
    assert.equal(started.length, 2, JSON.stringify(replies.map((r) => r.error?.message ?? 'ok')));
    assert.equal(refused.length, 2);
    for (const r of refused) {
      assert.equal(r.error!.code, errorCodes.quotaExceeded);
      assert.deepEqual(
        (({ quota, limit, inUse, requested }) => ({ quota, limit, inUse, requested }))(r.error!.data as Record<string, unknown>),
        { quota: 'sessions', limit: 2, inUse: 2, requested: 1 },
      );
      assert.match(r.error!.message, /concurrent sessions.*2 in use \+ 1 requested > 2 limit/);
    }
    // Never more than two at once, and both finish.
    let most = 0;
    await until('both sessions to complete', async () => {
      const list = await dev.call<SessionView[]>('session/list', {});
      most = Math.max(most, list.filter((s) => ['running', 'paused', 'awaiting_approval'].includes(s.state)).length);
      return list.filter((s) => s.state === 'completed').length === 2 ? true : undefined;
    });
    assert.equal(most <= 2, true, `at most 2 active (saw ${most})`);
    assert.equal((await dev.call<SessionView[]>('session/list', {})).length, 2, 'the refused starts created nothing');
    // The places are free again.
    const again = await dev.call<SessionView>('session/start', {
      goal: '- [a] A {files: a.txt}: [[script:write_file a.txt]] a',
      cwd: repo('s5'),
      approve: true,
    });
    await until('the fifth session', async () => ((await get(again.id)).state === 'completed' ? true : undefined));
    admin(dataDir, 'set-quota', 'q', '--max-sessions', 'none');
  });

  test('concurrent tasks: under a limit of 1 two independent tasks never overlap, and a single run is refused while one runs', async () => {
    admin(dataDir, 'set-quota', 'q', '--max-tasks', '1');
    const s = await dev.call<SessionView>('session/start', {
      goal: '- [a] A {files: a.txt}: [[script:slow 10 300]] a\n- [b] B {files: b.txt}: [[script:slow 10 300]] b',
      cwd: repo('t1'),
      approve: true,
    });
    let most = 0;
    let refusedRun: { code: number; data: Record<string, unknown> } | undefined;
    await until('both tasks to finish', async () => {
      const v = await get(s.id);
      const running = v.tasks.filter((t) => t.state === 'running').length;
      most = Math.max(most, running);
      if (running === 1 && !refusedRun) {
        const r = await dev.request('run/start', { agent: 'opencode', cwd: path.join(root, 't1'), prompt: 'hello' });
        if (r.error) refusedRun = { code: r.error.code, data: r.error.data as Record<string, unknown> };
      }
      return v.state === 'completed' ? true : undefined;
    });
    assert.equal(most, 1, 'never two tasks at once');
    assert.equal(refusedRun?.code, errorCodes.quotaExceeded);
    assert.deepEqual(
      [refusedRun!.data.quota, refusedRun!.data.limit, refusedRun!.data.inUse, refusedRun!.data.requested],
      ['tasks', 1, 1, 1],
    );
    admin(dataDir, 'set-quota', 'q', '--max-tasks', 'none');
    const audit = await adm.call<AuditEntryView[]>('audit/list', { limit: 1000 });
    assert.deepEqual(
      audit
        .filter((e) => e.action === 'quota.refused')
        .map((e) => (e.details as { quota: string }).quota)
        .sort(),
      ['sessions', 'sessions', 'tasks'],
    );
    assert.equal(audit.filter((e) => e.action === 'quota.set').length, 4, 'every quota change audited');
  });

  test('tokens per window: the crossing stops the session before the next dispatch; approve and run/start are refused with the numbers', async () => {
    admin(dataDir, 'set-quota', 'k', '--tokens', '100', '--window-minutes', '60');
    const cwd = repo('k1');
    const plan = {
      tasks: [
        { id: 'a', title: 'A', prompt: '[[script:write_file a.txt]] a', expectedFiles: ['a.txt'], estimate: { tokens: 1, minutes: 1 } },
        {
          id: 'b',
          title: 'B',
          prompt: '[[script:write_file b.txt]] b',
          expectedFiles: ['b.txt'],
          dependsOn: ['a'],
          estimate: { tokens: 1, minutes: 1 },
        },
      ],
    };
    const s = await kDev.call<SessionView>('session/start', { goal: 'two steps', cwd, plan, approve: true });
    assert.equal(s.budget?.limits.tokens, 100, `the session was granted what the tenant has left: ${JSON.stringify(s.budget)}`);
    const v = await until('the session to stop on its tokens', async () => {
      const x = await kDev.call<SessionView>('session/get', { sessionId: s.id });
      assert.ok(!['completed', 'failed'].includes(x.state), `it must stop first: ${x.state}`);
      return x.state === 'awaiting_approval' ? x : undefined;
    });
    const a = v.tasks.find((t) => t.title === 'A')!;
    const b = v.tasks.find((t) => t.title === 'B')!;
    assert.equal(a.state, 'succeeded');
    assert.ok(!b.runId && !['running', 'succeeded'].includes(b.state), `B was never dispatched: ${JSON.stringify(b)}`);
    assert.match(v.approval?.message ?? '', /tokens budget would be crossed: [\d,]+ used \+ \d+ reserved \+ \d+ requested > 100 limit/);
    const spent = Number(/([\d,]+) used/.exec(v.approval!.message)![1].replace(/,/g, ''));
    assert.ok(spent > 100, `task A used ${spent} tokens`);
    // Reconciled: A's actual tokens are the tenant's usage.
    const ledger = readFileSync(path.join(dataDir, 'tenants', 'k', 'usage.jsonl'), 'utf8');
    assert.ok(ledger.includes(`"runId":"${a.runId}","tokens":${spent}`), ledger);

    const approve = await kDev.request('session/approve', { sessionId: s.id });
    assert.equal(approve.error?.code, errorCodes.quotaExceeded, JSON.stringify(approve));
    const data = approve.error!.data as Record<string, number | string>;
    assert.equal(data.quota, 'tokens');
    assert.equal(data.limit, 100);
    assert.ok(Number(data.inUse) >= spent, JSON.stringify(data));
    assert.match(approve.error!.message, /tokens per 60 min would be crossed: [\d,]+ in use \+ 1 requested > 100 limit/);
    const run = await kDev.request('run/start', { agent: 'opencode', cwd, prompt: 'hello' });
    assert.equal(run.error?.code, errorCodes.quotaExceeded);
    assert.equal(
      (await kDev.call<SessionView>('session/get', { sessionId: s.id })).tasks.find((t) => t.title === 'B')!.runId,
      undefined,
      'still not dispatched',
    );

    // A raised quota applies at once: the session continues and finishes.
    admin(dataDir, 'set-quota', 'k', '--tokens', '10000000');
    await kDev.call('session/approve', { sessionId: s.id });
    await until('the session to finish', async () =>
      (await kDev.call<SessionView>('session/get', { sessionId: s.id })).state === 'completed' ? true : undefined,
    );

    const audit = await kAdm.call<AuditEntryView[]>('audit/list', { limit: 1000 });
    const changes = audit.filter((e) => e.action === 'quota.set');
    assert.equal(changes.length, 2, 'both quota changes audited');
    assert.deepEqual(changes[0].details, {
      before: { tokens: 100, windowMs: 3_600_000 },
      after: { tokens: 10_000_000, windowMs: 3_600_000 },
    });
    const refusals = audit.filter((e) => e.action === 'quota.refused').map((e) => (e.details as { quota: string }).quota);
    assert.deepEqual(refusals, ['tokens', 'tokens']);
    // Only admins read it.
    assert.equal((await kDev.request('audit/list', {})).error?.code, errorCodes.forbidden);
  });
});
