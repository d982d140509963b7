/**
 * Concurrent-task quotas per user and per API key, and `quota/get` / `quota/set`, on the real team server
 * (`dist/cli.js serve`, OpenCode and the scripted model):
 * - alice (a user limited to 1 concurrent task by `admin set-quota --user alice --max-tasks 1`) runs her
 *   tasks one at a time while bob, in the same tenant, runs 2 or more at once (checked from the tasks'
 *   dispatch and end times); her `run/start` is refused with her numbers while her task runs;
 * - `quota/set` by the tenant's admin takes effect for the next dispatch (alice's held tasks start while her
 *   first one still runs), is audited; a developer's `quota/set` and a viewer's `quota/get` are forbidden; bad
 *   input (a tenant scope, a bad value, nothing to set) is refused naming the field and changes nothing;
 *   another tenant's admin does not find alice's user or key; `quota/get` shows each scope's usage;
 * - the stdio (single-user) server answers both methods with "team server only".
 */
import assert from 'node:assert/strict';
import { readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AuditEntryView } from '../../protocol/audit';
import { errorCodes } from '../../protocol/errors';
import type { QuotaReport, QuotaSetResult } from '../../protocol/quota';
import type { SessionView, TaskView } from '../../protocol/session';
import { startServer, tempDir } from './serverProcess';
import { sampleRepoAt } from './sessionHelpers';
import { admin, connected, startTeamServer, userWithKey, type RpcClient, type TeamServer } from './teamClient';

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 300_000): Promise<T> {
  for (const end = Date.now() + ms; Date.now() < end;) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

/** The most tasks whose [dispatch, end) intervals overlap at one moment. */
function maxOverlap(tasks: readonly TaskView[]): number {
  const edges: [number, number][] = [];
  for (const t of tasks) {
    assert.ok(t.startedAt && t.finishedAt, `task ${t.id} has dispatch and end times: ${JSON.stringify(t)}`);
    edges.push([Date.parse(t.startedAt), 1], [Date.parse(t.finishedAt), -1]);
  }
  // An end at the same instant as a start comes first: [start, end) intervals.
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let most = 0;
  for (const [, d] of edges) most = Math.max(most, (now += d));
  return most;
}

const goal = (n: number, chunks: number) =>
  Array.from({ length: n }, (_, i) => `- [t${i}] T${i} {files: f${i}.txt}: [[script:slow ${chunks} 400]] task ${i}`).join('\n');

describe('team server: concurrent-task quotas per user and key, quota/get and quota/set', () => {
  let dataDir: string;
  let server: TeamServer;
  let root: string;
  let alice: RpcClient;
  let bob: RpcClient;
  let boss: RpcClient;
  let vic: RpcClient;
  let eve: RpcClient;
  let aliceId: string;
  let aliceKeyId: string;
  let bobKeyId: string;
  const repo = (name: string) => sampleRepoAt(root, name);
  const completed = (c: RpcClient, id: string) =>
    until(`session ${id} to complete`, async () => {
      const v = await c.call<SessionView>('session/get', { sessionId: id });
      assert.ok(v.state !== 'failed', JSON.stringify(v));
      return v.state === 'completed' ? v : undefined;
    });
  const running = (v: SessionView) => v.tasks.filter((t) => t.state === 'running').length;
  const accounts = () => readFileSync(path.join(dataDir, 'auth.json'), 'utf8');

  before(async () => {
    dataDir = tempDir('orch-team-tquota-');
    root = realpathSync(tempDir('orch-tquota-root-'));
    const a = userWithKey(dataDir, 'tq', 'alice', 'developer');
    aliceKeyId = a.keyId;
    const b = userWithKey(dataDir, 'tq', 'bob', 'developer');
    bobKeyId = b.keyId;
    const bossKey = userWithKey(dataDir, 'tq', 'boss', 'admin').key;
    const vicKey = userWithKey(dataDir, 'tq', 'vic', 'viewer').key;
    const eveKey = userWithKey(dataDir, 'oq', 'eve', 'admin').key;
    admin(dataDir, 'set-roots', 'tq', root);
    aliceId = (admin(dataDir, 'list') as { users: { id: string; name: string }[] }).users.find((u) => u.name === 'alice')!.id;
    server = await startTeamServer(dataDir);
    alice = await connected(server.url, a.key);
    bob = await connected(server.url, b.key);
    boss = await connected(server.url, bossKey);
    vic = await connected(server.url, vicKey);
    eve = await connected(server.url, eveKey);
  });
  after(async () => {
    for (const c of [alice, bob, boss, vic, eve]) await c?.close();
    await server?.stop();
  });

  test('alice, limited to 1 concurrent task, runs one at a time while bob runs several at once', { timeout: 600_000 }, async () => {
    const set = admin(dataDir, 'set-quota', 'tq', '--user', 'alice', '--max-tasks', '1');
    assert.deepEqual(set, { tenant: 'tq', scope: { kind: 'user', id: aliceId, name: 'alice' }, quotas: { tasks: 1 } });
    // The running server reads the change at its next guarded request (this session start).
    const a = await alice.call<SessionView>('session/start', { goal: goal(3, 12), cwd: repo('a1'), approve: true });
    const b = await bob.call<SessionView>('session/start', { goal: goal(3, 12), cwd: repo('b1'), approve: true });
    // While alice's task runs, her single run is refused with her numbers.
    await until('alice to have a running task', async () =>
      running(await alice.call<SessionView>('session/get', { sessionId: a.id })) > 0 ? true : undefined,
    );
    const single = await alice.request('run/start', { agent: 'opencode', cwd: path.join(root, 'a1'), prompt: 'hi' });
    assert.equal(single.error?.code, errorCodes.quotaExceeded, JSON.stringify(single));
    const data = single.error!.data as Record<string, unknown>;
    assert.deepEqual([data.quota, data.limit, data.scope], ['tasks', 1, { kind: 'user', id: aliceId }]);
    assert.match(single.error!.message, /^user alice quota for concurrent tasks would be crossed: 1 in use \+ 1 requested > 1 limit/);
    // quota/get (admin): alice's user scope shows the limit and the one task in use.
    const report = await boss.call<QuotaReport>('quota/get', {});
    const aliceRow = report.scopes.find((s) => s.kind === 'user' && s.id === aliceId)!;
    assert.deepEqual(aliceRow.quotas, { tasks: 1 });
    assert.equal(aliceRow.usage.sessions, 1);
    assert.ok(aliceRow.usage.tasks <= 1, JSON.stringify(aliceRow));

    const [doneA, doneB] = await Promise.all([completed(alice, a.id), completed(bob, b.id)]);
    const overlapA = maxOverlap(doneA.tasks);
    const overlapB = maxOverlap(doneB.tasks);
    console.log(`alice (max-tasks 1): at most ${overlapA} task(s) at once; bob (no limit): ${overlapB} at once`);
    assert.equal(
      overlapA,
      1,
      `alice ran more than one task at once: ${JSON.stringify(doneA.tasks.map((t) => [t.startedAt, t.finishedAt]))}`,
    );
    assert.ok(overlapB >= 2, `bob ran ${overlapB} at once: ${JSON.stringify(doneB.tasks.map((t) => [t.startedAt, t.finishedAt]))}`);
  });

  test(
    'quota/set: the admin’s change applies at the next dispatch; roles, bad input, other tenants, audit',
    { timeout: 600_000 },
    async () => {
      // Forbidden by role, nothing changed.
      const before = accounts();
      const byDev = await alice.request('quota/set', { scope: 'user', id: 'alice', quotas: { tasks: 5 } });
      assert.equal(byDev.error?.code, errorCodes.forbidden, JSON.stringify(byDev));
      assert.equal((byDev.error!.data as { required?: string }).required, 'admin');
      const viewerGet = await vic.request('quota/get', {});
      assert.equal(viewerGet.error?.code, errorCodes.forbidden);
      // Bad input: named field, nothing changed.
      for (const [params, field, message] of [
        [
          { scope: 'tenant', id: 'tq', quotas: { tasks: 5 } },
          'scope',
          /tenant quotas are set on the server with orchestrator admin set-quota/,
        ],
        [{ scope: 'user', id: 'alice', quotas: { tasks: 0 } }, 'quotas.tasks', /quotas\.tasks/],
        [{ scope: 'user', id: 'alice', quotas: {} }, 'quotas', /at least one quota/],
        [{ scope: 'user', id: 'alice', quotas: { tasks: 2, bogus: 1 } }, 'quotas.bogus', /bogus/],
      ] as const) {
        const r = await boss.request('quota/set', params);
        assert.equal(r.error?.code, errorCodes.invalidParams, JSON.stringify(r));
        assert.match(r.error!.message, message);
        assert.ok((r.error!.data as { fields: string[] }).fields.includes(field), JSON.stringify(r.error));
      }
      const unknown = await boss.request('quota/set', { scope: 'key', id: 'ffffffffffffffff', quotas: { tasks: 2 } });
      assert.equal(unknown.error?.code, errorCodes.notFound);
      // Another tenant's admin finds neither alice's user (by id or name) nor her key; its report has none of tq.
      for (const p of [
        { scope: 'user', id: aliceId, quotas: { tasks: 9 } },
        { scope: 'user', id: 'alice', quotas: { tasks: 9 } },
        { scope: 'key', id: aliceKeyId, quotas: { tasks: 9 } },
      ]) {
        const r = await eve.request('quota/set', p);
        assert.equal(r.error?.code, errorCodes.notFound, JSON.stringify(r));
      }
      const eveReport = await eve.call<QuotaReport>('quota/get', {});
      assert.equal(eveReport.tenantId, 'oq');
      assert.ok(!JSON.stringify(eveReport).includes(aliceId) && !JSON.stringify(eveReport).includes('alice'), JSON.stringify(eveReport));
      assert.equal(accounts(), before, 'auth.json unchanged by the refused calls');

      // A developer reads what applies to them: the tenant, their user and their key.
      const own = await alice.call<QuotaReport>('quota/get', {});
      assert.equal(own.scope, 'own');
      assert.deepEqual(
        own.scopes.map((s) => [s.kind, s.id]),
        [
          ['tenant', 'tq'],
          ['user', aliceId],
          ['key', aliceKeyId],
        ],
      );
      const all = await boss.call<QuotaReport>('quota/get', {});
      assert.equal(all.scope, 'tenant');
      assert.ok(all.scopes.some((s) => s.kind === 'key' && s.id === bobKeyId));

      // Alice (still limited to 1) starts three long tasks: one runs, two wait.
      const s = await alice.call<SessionView>('session/start', { goal: goal(3, 40), cwd: repo('a2'), approve: true });
      await until('one running and two held', async () => {
        const v = await alice.call<SessionView>('session/get', { sessionId: s.id });
        return running(v) === 1 && v.tasks.filter((t) => t.state === 'ready').length === 2 ? v : undefined;
      });
      // The admin raises alice's limit: her held tasks start while the first still runs.
      const setAt = Date.now();
      const changed = await boss.call<QuotaSetResult>('quota/set', { scope: 'user', id: 'alice', quotas: { tasks: 3 } });
      assert.deepEqual(changed, {
        tenantId: 'tq',
        scope: { kind: 'user', id: aliceId, name: 'alice' },
        before: { tasks: 1 },
        after: { tasks: 3 },
      });
      const together = await until('alice to run more than one task at once', async () => {
        const v = await alice.call<SessionView>('session/get', { sessionId: s.id });
        return running(v) >= 2 ? v : undefined;
      });
      assert.ok(
        together.tasks.filter((t) => t.state === 'running' && Date.parse(t.startedAt!) >= setAt - 1000).length >= 1,
        'a held task was dispatched after the change',
      );
      const done = await completed(alice, s.id);
      assert.ok(maxOverlap(done.tasks) >= 2);
      // A key's own limit is a quota/set too; removing it with null.
      const k = await boss.call<QuotaSetResult>('quota/set', { scope: 'key', id: bobKeyId, quotas: { tasks: 1, tokens: 1000 } });
      assert.deepEqual(k.after, { tasks: 1, tokens: 1000 });
      const k2 = await boss.call<QuotaSetResult>('quota/set', { scope: 'key', id: bobKeyId, quotas: { tokens: null } });
      assert.deepEqual(k2.after, { tasks: 1 });

      const audit = await boss.call<AuditEntryView[]>('audit/list', { limit: 1000 });
      const sets = audit.filter((e) => e.action === 'quota.set' && e.actor.kind === 'user').reverse();
      assert.deepEqual(
        sets.map((e) => [(e.actor as { userName: string }).userName, e.details]),
        [
          ['boss', { scope: { kind: 'user', id: aliceId, name: 'alice' }, before: { tasks: 1 }, after: { tasks: 3 } }],
          ['boss', { scope: { kind: 'key', id: bobKeyId }, before: {}, after: { tasks: 1, tokens: 1000 } }],
          ['boss', { scope: { kind: 'key', id: bobKeyId }, before: { tasks: 1, tokens: 1000 }, after: { tasks: 1 } }],
        ],
      );
    },
  );

  test('the stdio server answers quota/get and quota/set with "team server only"', { timeout: 120_000 }, async () => {
    const s = await startServer(tempDir());
    try {
      for (const [method, params] of [
        ['quota/get', {}],
        ['quota/set', { scope: 'user', id: 'x', quotas: { tasks: 1 } }],
      ] as const) {
        const err = (await s.raw(method, params).then(
          () => undefined,
          (e: unknown) => e,
        )) as { code?: number; message?: string; data?: { teamServerOnly?: boolean } } | undefined;
        assert.equal(err?.code, errorCodes.methodNotFound, `${method}: ${JSON.stringify(err)}`);
        assert.match(err!.message!, /served by the team server only/);
        assert.equal(err!.data?.teamServerOnly, true);
      }
    } finally {
      await s.stop();
    }
  });
});
