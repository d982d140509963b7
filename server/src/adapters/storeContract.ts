/**
 * The store port's contract: the same cases against every store adapter (lowdb, PostgreSQL). An adapter's
 * `*.contract.test.ts` calls `storeContract` with a harness that opens its store for a tenant.
 *
 * Tenancy: a harness opens one store per tenant over one shared backing (a folder per tenant for lowdb,
 * as the team server lays them out; one database for PostgreSQL), and says which tenant id that store's
 * records carry (`local` in a lowdb folder, the tenant itself in PostgreSQL).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DomainError } from '../domain/errors';
import { newModel } from '../domain/finetune/registry';
import { newSession } from '../domain/orchestration/sessionState';
import { newTask } from '../domain/orchestration/taskState';
import { newAgentHealth } from '../domain/orchestration/routing';
import type { StoredRun } from '../domain/storeEntities';
import type { StoreData } from '../domain/storeSchema';
import type { StorePort } from '../ports/store';

export interface ContractStore extends StorePort {
  load(opts?: { readOnly?: boolean }): Promise<ReturnType<StorePort['status']>>;
}

export interface StoreHarness {
  name: string;
  /** A new store object for `tenant` over the shared backing (not loaded). */
  open(tenant: string): ContractStore;
  /** Releases what `open` took (connections, locks); a no-op for files. */
  close(store: ContractStore): Promise<void>;
  /** The tenant id the records of `tenant`'s store carry. */
  recordTenant(tenant: string): string;
}

const usage = { inputTokens: 1, outputTokens: 2, reasoningTokens: 0, cacheReadTokens: 0, cost: 0.5 };

/** One valid record of every collection, for `tenantId`, with ids prefixed by `p`. */
function everyCollection(p: string, tenantId: string) {
  const session = newSession({ id: `${p}s1`, tenantId, goal: 'ship it', cwd: '/repo', nowMs: 1 });
  const task = newTask({ id: `${p}t1`, sessionId: session.id, tenantId, title: 'T', prompt: 'do', nowMs: 1 });
  const run: StoredRun = {
    id: `${p}r1`,
    tenantId,
    sessionId: session.id,
    taskId: task.id,
    agent: 'opencode',
    cwd: '/repo',
    prompt: 'do',
    state: 'succeeded',
    createdAt: new Date(2).toISOString(),
    usage,
    events: 3,
    summary: 'quotes \' " and unicode é ✓',
  };
  return {
    session,
    task,
    run,
    agent: { id: `${p}agent`, tenantId, name: 'Agent' },
    health: { ...newAgentHealth(), successes: 2 },
    lease: { taskId: task.id, repo: '/repo', globs: ['src/**'], mode: 'write' as const, acquiredAt: 1, expiresAt: 2 },
    model: newModel(`${p}model`, tenantId, 3),
  };
}

function fill(data: StoreData, r: ReturnType<typeof everyCollection>): void {
  data.sessions.push(r.session);
  data.tasks.push(r.task);
  data.runs.push(r.run);
  data.agents.push(r.agent);
  data.agentHealth[r.agent.id] = r.health;
  data.leases.leases.push(r.lease);
  data.models.push(r.model);
}

/** What a store holds, for comparing a store with its reopened self. */
const snapshot = (d: Readonly<StoreData>) => JSON.parse(JSON.stringify({ ...d, createdAt: undefined }));

export function storeContract(h: StoreHarness): void {
  let n = 0;
  /** A tenant no other case uses, so cases do not see each other's data. */
  const fresh = () => `t${process.pid}x${++n}`;

  async function opened(tenant: string): Promise<ContractStore> {
    const s = h.open(tenant);
    assert.equal((await s.load()).state, 'ok');
    return s;
  }

  async function reopened(tenant: string): Promise<Readonly<StoreData>> {
    const s = await opened(tenant);
    try {
      return structuredClone(s.read());
    } finally {
      await h.close(s);
    }
  }

  test(`${h.name}: a new store loads empty, with one tenant`, async () => {
    const t = fresh();
    const s = await opened(t);
    const d = s.read();
    assert.deepEqual(
      [d.sessions, d.tasks, d.runs, d.agents, d.leases.leases, d.models, d.fineTuneJobs, d.archive],
      [[], [], [], [], [], [], [], []],
    );
    assert.deepEqual(d.agentHealth, {});
    assert.deepEqual(
      d.tenants.map((x) => x.id),
      [h.recordTenant(t)],
    );
    await h.close(s);
  });

  test(`${h.name}: concurrent updates all persist, in order, and survive a reopen`, async () => {
    const t = fresh();
    const s = await opened(t);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        s.update((d) => {
          d.sessions.push(newSession({ id: `s${i}`, tenantId: h.recordTenant(t), goal: `g${i}`, cwd: '/r', nowMs: i }));
        }),
      ),
    );
    const ids = Array.from({ length: 20 }, (_, i) => `s${i}`);
    assert.deepEqual(
      s.read().sessions.map((x) => x.id),
      ids,
    );
    await h.close(s);
    assert.deepEqual(
      (await reopened(t)).sessions.map((x) => x.id),
      ids,
    );
  });

  test(`${h.name}: every collection round-trips unchanged through a reopen`, async () => {
    const t = fresh();
    const s = await opened(t);
    await s.update((d) => fill(d, everyCollection('a', h.recordTenant(t))));
    const before = snapshot(s.read());
    await h.close(s);
    assert.deepEqual(snapshot(await reopened(t)), before);
  });

  test(`${h.name}: changes, removals and reordering persist`, async () => {
    const t = fresh();
    const rt = h.recordTenant(t);
    const s = await opened(t);
    await s.update((d) => {
      fill(d, everyCollection('a', rt));
      fill(d, everyCollection('b', rt));
    });
    await s.update((d) => {
      d.sessions.reverse();
      d.sessions[0].goal = 'changed';
      d.runs = d.runs.filter((r) => r.id !== 'ar1');
      delete d.agentHealth.aagent;
      d.leases.leases.shift();
    });
    const expected = snapshot(s.read());
    assert.deepEqual(
      expected.sessions.map((x: { id: string; goal: string }) => [x.id, x.goal]),
      [
        ['bs1', 'changed'],
        ['as1', 'ship it'],
      ],
    );
    await h.close(s);
    assert.deepEqual(snapshot(await reopened(t)), expected);
  });

  test(`${h.name}: a throwing mutator fails alone and changes nothing; the rest of its group is written`, async () => {
    const t = fresh();
    const rt = h.recordTenant(t);
    const s = await opened(t);
    const results = await Promise.allSettled([
      s.update((d) => void d.sessions.push(newSession({ id: 'ok1', tenantId: rt, goal: 'g', cwd: '/r', nowMs: 1 }))),
      s.update((d) => {
        d.sessions.push(newSession({ id: 'bad', tenantId: rt, goal: 'g', cwd: '/r', nowMs: 1 }));
        throw new Error('boom');
      }),
      s.update((d) => void d.sessions.push(newSession({ id: 'ok2', tenantId: rt, goal: 'g', cwd: '/r', nowMs: 1 }))),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.deepEqual(
      s.read().sessions.map((x) => x.id),
      ['ok1', 'ok2'],
    );
    await h.close(s);
    assert.deepEqual(
      (await reopened(t)).sessions.map((x) => x.id),
      ['ok1', 'ok2'],
    );
  });

  test(`${h.name}: a mutator returning false resolves and changes nothing`, async () => {
    const t = fresh();
    const s = await opened(t);
    await s.update((d) => {
      d.sessions.push(newSession({ id: 'never', tenantId: h.recordTenant(t), goal: 'g', cwd: '/r', nowMs: 1 }));
      return false;
    });
    await h.close(s);
    assert.deepEqual((await reopened(t)).sessions, []);
  });

  test(`${h.name}: a store opened read-only refuses writes with store_read_only and changes nothing`, async () => {
    const t = fresh();
    const w = await opened(t);
    await w.update((d) => fill(d, everyCollection('a', h.recordTenant(t))));
    const before = snapshot(w.read());
    await h.close(w);
    const r = h.open(t);
    await r.load({ readOnly: true });
    assert.deepEqual(snapshot(r.read()), before);
    await assert.rejects(
      r.update((d) => void (d.sessions = [])),
      (e: unknown) => DomainError.is(e, 'store_read_only'),
    );
    await h.close(r);
    assert.deepEqual(snapshot(await reopened(t)), before);
  });

  test(`${h.name}: tenant isolation: one tenant never sees another's records, even with the same ids`, async () => {
    const [ta, tb] = [fresh(), fresh()];
    const a = await opened(ta);
    const b = await opened(tb);
    await a.update((d) => fill(d, everyCollection('x', h.recordTenant(ta))));
    assert.deepEqual(b.read().sessions, [], 'B sees nothing of A while both are open');
    await b.update((d) => {
      fill(d, everyCollection('x', h.recordTenant(tb)));
      d.sessions[0].goal = 'goal of B';
    });
    await a.update((d) => {
      d.sessions[0].goal = 'goal of A';
    });
    await h.close(a);
    await h.close(b);
    const [ra, rb] = [await reopened(ta), await reopened(tb)];
    assert.deepEqual(
      ra.sessions.map((x) => [x.id, x.goal, x.tenantId]),
      [['xs1', 'goal of A', h.recordTenant(ta)]],
    );
    assert.deepEqual(
      rb.sessions.map((x) => [x.id, x.goal, x.tenantId]),
      [['xs1', 'goal of B', h.recordTenant(tb)]],
    );
    for (const d of [ra, rb])
      assert.deepEqual([d.tasks.length, d.runs.length, d.agents.length, d.models.length, d.leases.leases.length], [1, 1, 1, 1, 1]);
    const c = await opened(fresh());
    assert.deepEqual([c.read().sessions, c.read().runs, c.read().tasks], [[], [], []], 'a third tenant sees nothing');
    await h.close(c);
  });
}
