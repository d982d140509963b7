/**
 * Quotas per user and per API key, and the money quota, on the real team server (`dist/cli.js serve`,
 * OpenCode and the scripted model, which reports each turn's usage), set with `orchestrator admin
 * set-quota --user/--key` while it runs:
 * - two users of one tenant: alice's concurrent-sessions limit stops alice and not bob; a key's limit stops
 *   that key; the refusals show used / limit and whose quota (user, key);
 * - money per window (a price hint turns the scripted model's tokens into money): carol's money is granted to
 *   her session as tokens, so the crossing stops it before the next dispatch (awaiting approval); approving
 *   is then refused with carol's money numbers, while alice still runs. Every change is in the audit log, and
 *   so are the permission policy's own answers to the agents' asks.
 */
import assert from 'node:assert/strict';
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AuditEntryView } from '../../protocol/audit';
import { errorCodes } from '../../protocol/errors';
import type { SessionView } from '../../protocol/session';
import { tempDir } from './serverProcess';
import { sampleRepoAt } from './sessionHelpers';
import { admin, connected, startTeamServer, userWithKey, type RpcClient, type TeamServer } from './teamClient';

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 180_000): Promise<T> {
  for (const end = Date.now() + ms; Date.now() < end;) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

describe('team server: quotas per user and per key, money per window', () => {
  let dataDir: string;
  let server: TeamServer;
  let root: string;
  let alice: RpcClient;
  let bob: RpcClient;
  let carol: RpcClient;
  let boss: RpcClient;
  let bobKeyId: string;
  let aliceId: string;
  let carolId: string;
  const repo = (name: string) => sampleRepoAt(root, name);
  const completed = (c: RpcClient, id: string) =>
    until(`session ${id} to complete`, async () => {
      const v = await c.call<SessionView>('session/get', { sessionId: id });
      assert.ok(v.state !== 'failed', JSON.stringify(v));
      return v.state === 'completed' ? v : undefined;
    });

  before(async () => {
    dataDir = tempDir('orch-team-uquota-');
    root = realpathSync(tempDir('orch-uquota-root-'));
    const aliceKey = userWithKey(dataDir, 'uq', 'alice', 'developer').key;
    const bobKey = userWithKey(dataDir, 'uq', 'bob', 'developer');
    bobKeyId = bobKey.keyId;
    const carolKey = userWithKey(dataDir, 'uq', 'carol', 'developer').key;
    const bossKey = userWithKey(dataDir, 'uq', 'boss', 'admin').key;
    admin(dataDir, 'set-roots', 'uq', root);
    const users = (admin(dataDir, 'list') as { users: { id: string; name: string }[] }).users;
    aliceId = users.find((u) => u.name === 'alice')!.id;
    carolId = users.find((u) => u.name === 'carol')!.id;
    server = await startTeamServer(dataDir);
    alice = await connected(server.url, aliceKey);
    bob = await connected(server.url, bobKey.key);
    carol = await connected(server.url, carolKey);
    boss = await connected(server.url, bossKey);
  });
  after(async () => {
    await alice?.close();
    await bob?.close();
    await carol?.close();
    await boss?.close();
    await server?.stop();
  });

  // The machine running the tests may be busy (OpenCode may take long to start): each case gets 8 minutes.
  test("alice's concurrent-sessions limit stops alice and not bob; a key's limit stops that key", { timeout: 480_000 }, async () => {
    const set = admin(dataDir, 'set-quota', 'uq', '--user', 'alice', '--max-sessions', '1') as { scope: unknown; quotas: unknown };
    assert.deepEqual(set, { tenant: 'uq', scope: { kind: 'user', id: aliceId, name: 'alice' }, quotas: { sessions: 1 } });
    const goal = '- [a] Slow: [[script:slow 10 300]] slow';
    const first = await alice.call<SessionView>('session/start', { goal, cwd: repo('a1'), approve: true });
    const second = await alice.request('session/start', { goal, cwd: repo('a2'), approve: true });
    assert.equal(second.error?.code, errorCodes.quotaExceeded, JSON.stringify(second));
    const data = second.error!.data as Record<string, unknown>;
    assert.deepEqual(
      [data.quota, data.limit, data.inUse, data.requested, data.scope],
      ['sessions', 1, 1, 1, { kind: 'user', id: aliceId }],
    );
    assert.match(second.error!.message, /^user alice quota for concurrent sessions would be crossed: 1 in use \+ 1 requested > 1 limit/);
    // Bob is not stopped by alice's limit, while alice's session still runs.
    const bobs = await bob.call<SessionView>('session/start', { goal, cwd: repo('b1'), approve: true });
    assert.ok(
      ['running', 'paused', 'awaiting_approval'].includes((await alice.call<SessionView>('session/get', { sessionId: first.id })).state),
    );

    // A key's own limit: bob's key may run no session at all.
    admin(dataDir, 'set-quota', 'uq', '--key', bobKeyId, '--max-sessions', '0');
    const byKey = await bob.request('session/start', { goal, cwd: repo('b2'), approve: true });
    assert.equal(byKey.error?.code, errorCodes.quotaExceeded);
    assert.deepEqual((byKey.error!.data as { scope: unknown }).scope, { kind: 'key', id: bobKeyId });
    assert.match(
      byKey.error!.message,
      new RegExp(`^key ${bobKeyId} quota for concurrent sessions would be crossed: 1 in use \\+ 1 requested > 0 limit`),
    );
    admin(dataDir, 'set-quota', 'uq', '--key', bobKeyId, '--max-sessions', 'none');

    await completed(alice, first.id);
    await completed(bob, bobs.id);
    // Alice's place is free again.
    const again = await alice.call<SessionView>('session/start', {
      goal: '- [a] A {files: a.txt}: [[script:write_file a.txt]] a',
      cwd: repo('a3'),
      approve: true,
    });
    await completed(alice, again.id);
    admin(dataDir, 'set-quota', 'uq', '--user', 'alice', '--max-sessions', 'none');
  });

  test(
    "money per window: carol's crossing stops her session before the next dispatch and refuses approval with the numbers; alice still runs",
    { timeout: 480_000 },
    async () => {
      // One token costs 0.00001; carol may spend 0.001 per hour: 100 tokens, less than one scripted turn uses.
      admin(dataDir, 'set-quota', 'uq', '--price-per-million', '10');
      admin(dataDir, 'set-quota', 'uq', '--user', 'carol', '--money', '0.001', '--window-minutes', '60');
      const step = (id: string, dependsOn: string[] = []) => ({
        id,
        title: id.toUpperCase(),
        prompt: `[[script:write_file ${id}.txt]] ${id}`,
        expectedFiles: [`${id}.txt`],
        dependsOn,
        estimate: { tokens: 1, minutes: 1 },
      });
      const s = await carol.call<SessionView>('session/start', {
        goal: 'two steps',
        cwd: repo('m1'),
        plan: { tasks: [step('a'), step('b', ['a'])] },
        approve: true,
      });
      assert.equal(
        s.budget?.limits.tokens,
        100,
        `carol's money left, at the price hint, is his session's token budget: ${JSON.stringify(s.budget)}`,
      );
      const v = await until('the session to stop on its grant', async () => {
        const x = await carol.call<SessionView>('session/get', { sessionId: s.id });
        assert.ok(!['completed', 'failed'].includes(x.state), `it must stop first: ${x.state}`);
        return x.state === 'awaiting_approval' ? x : undefined;
      });
      const a = v.tasks.find((t) => t.title === 'A')!;
      const b = v.tasks.find((t) => t.title === 'B')!;
      assert.equal(a.state, 'succeeded');
      assert.ok(!b.runId && !['running', 'succeeded'].includes(b.state), `B was never dispatched: ${JSON.stringify(b)}`);

      const approve = await carol.request('session/approve', { sessionId: s.id });
      assert.equal(approve.error?.code, errorCodes.quotaExceeded, JSON.stringify(approve));
      const data = approve.error!.data as Record<string, unknown>;
      assert.deepEqual([data.quota, data.limit, data.scope], ['money', 0.001, { kind: 'user', id: carolId }]);
      assert.ok(Number(data.inUse) > 0.001, JSON.stringify(data));
      assert.match(approve.error!.message, /^user carol quota for money per 60 min is used up: 0\.\d+ in use ≥ 0\.001 limit/);
      const run = await carol.request('run/start', { agent: 'opencode', cwd: path.join(root, 'm1'), prompt: 'hello' });
      assert.equal(run.error?.code, errorCodes.quotaExceeded, 'carol cannot start a single run either');

      // Alice is not stopped by carol's money.
      const hers = await alice.call<SessionView>('session/start', {
        goal: 'one step',
        cwd: repo('m2'),
        plan: { tasks: [step('a')] },
        approve: true,
      });
      assert.equal(hers.budget?.limits.tokens, undefined, 'alice has no grant to stop her');
      await completed(alice, hers.id);

      // Raising carol's money lets his session continue and finish.
      admin(dataDir, 'set-quota', 'uq', '--user', 'carol', '--money', '1000');
      await carol.call('session/approve', { sessionId: s.id });
      await completed(carol, s.id);

      const audit = await boss.call<AuditEntryView[]>('audit/list', { limit: 1000 });
      const sets = audit.filter((e) => e.action === 'quota.set').reverse();
      assert.deepEqual(
        sets.map((e) => (e.details as { scope?: { kind: string } }).scope?.kind ?? 'tenant'),
        ['user', 'key', 'key', 'user', 'tenant', 'user', 'user'],
        'every quota change audited with whose it is',
      );
      assert.deepEqual(sets[5].details, {
        scope: { kind: 'user', id: carolId, name: 'carol' },
        before: {},
        after: { money: 0.001, windowMs: 3_600_000 },
      });
      // The policy's own answers to the agents' asks are in the log too: who (the policy), the task, the ask, the answer.
      const auto = audit.filter((e) => e.action === 'permission.answer' && e.actor.kind === 'server');
      const forA = auto.filter((e) => (e.details as { taskId?: string }).taskId === a.id);
      assert.ok(forA.length > 0, `task A's permission answers audited: ${JSON.stringify(auto.slice(0, 3))}`);
      const d = forA[0].details as Record<string, unknown>;
      assert.deepEqual(
        [forA[0].actor, d.runId, d.sessionId, d.decision, typeof d.permission, Array.isArray(d.patterns), typeof d.reason],
        [{ kind: 'server', by: 'policy' }, a.runId, s.id, 'allow', 'string', true, 'string'],
      );
      const refused = audit.filter((e) => e.action === 'quota.refused').map((e) => e.details as { quota: string; scope: { kind: string } });
      assert.deepEqual(refused.map((r) => `${r.scope.kind}:${r.quota}`).reverse(), [
        'user:sessions',
        'key:sessions',
        'user:money',
        'user:money',
      ]);
    },
  );
});
