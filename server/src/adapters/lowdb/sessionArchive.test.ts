import assert from 'node:assert/strict';
import { promises as real, mkdtempSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { DomainError } from '../../domain/errors';
import { newSession } from '../../domain/orchestration/sessionState';
import { tasksFromPlan } from '../../domain/orchestration/plan';
import { templatePlan } from '../../domain/orchestration/templatePlanner';
import { sessionsToArchive } from '../../domain/sessionArchive';
import type { StoredRun, StoredSession } from '../../domain/storeEntities';
import type { StoreData } from '../../domain/storeSchema';
import type { Logger } from '../../ports/logger';
import type { AtomicFs } from '../fs/atomicFile';
import { LowdbStore } from './lowdbStore';

const logged: string[] = [];
const logger: Logger = { error: (m: string) => void logged.push(m), warn() {}, info() {}, debug() {} };
const dir = () => mkdtempSync(path.join(os.tmpdir(), 'orch-archive-'));
const usage = { inputTokens: 0, outputTokens: 0, reasoningTokens: 0, cacheReadTokens: 0, cost: 0 };

/** A session that finished at `finishedAt`, with two tasks and one run. */
function finished(id: string, finishedAt = 1_000): { session: StoredSession; tasks: StoreData['tasks']; run: StoredRun } {
  const session: StoredSession = {
    ...newSession({ id, tenantId: 'local', goal: `goal of ${id}`, cwd: '/repo', nowMs: 1 }),
    state: 'completed',
    finishedAt,
  };
  const plan = templatePlan(['- [a] A: x', '- [b] B (after: a): x'].join('\n'));
  assert.ok(plan.ok);
  const tasks = tasksFromPlan(plan.plan, { sessionId: id, tenantId: 'local', nowMs: 1 });
  const run: StoredRun = {
    id: `r-${id}`,
    tenantId: 'local',
    sessionId: id,
    taskId: tasks[0].id,
    agent: 'opencode',
    cwd: '/repo',
    prompt: 'x',
    state: 'succeeded',
    createdAt: new Date(2).toISOString(),
    usage,
    events: 0,
  };
  return { session, tasks, run };
}

async function storeWith(d: string, ids: string[], fs?: AtomicFs): Promise<LowdbStore> {
  const store = new LowdbStore(path.join(d, 'store.json'), logger, { fs, now: () => new Date(50_000) });
  await store.load();
  await store.update((data) => {
    for (const id of ids) {
      const f = finished(id);
      data.sessions.push(f.session);
      data.tasks.push(...f.tasks);
      data.runs.push(f.run);
    }
  });
  return store;
}

/** A file system that counts temp-file opens and can be made to fail like a full disk. */
function countingFs(): { fs: AtomicFs; writes: () => number; full: (on: boolean) => void } {
  let writes = 0;
  let full = false;
  return {
    writes: () => writes,
    full: (on) => void (full = on),
    fs: {
      mkdir: (x, o) => real.mkdir(x, o),
      open: async (f, flags, mode) => {
        const h = await real.open(f, flags, mode);
        if (flags === 'w') writes++;
        return {
          writeFile: async (data, enc) => {
            if (full && flags === 'w') {
              await h.writeFile(data.slice(0, 10), enc);
              throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
            }
            await h.writeFile(data, enc);
          },
          sync: () => h.sync(),
          close: () => h.close(),
        };
      },
      rename: (a, b) => real.rename(a, b),
      rm: (f, o) => real.rm(f, o),
    },
  };
}

test('group commit: concurrent updates share writes, each resolves with its change on disk', async () => {
  const d = dir();
  const c = countingFs();
  const store = await storeWith(d, [], c.fs);
  const before = c.writes();
  const file = path.join(d, 'store.json');
  await Promise.all(
    Array.from({ length: 30 }, (_, i) =>
      store
        .update((data) => {
          data.sessions.push(finished(`s${i}`).session);
        })
        .then(() => {
          // Resolved only after the write that holds this change.
          const onDisk = JSON.parse(readFileSync(file, 'utf8')) as StoreData;
          assert.ok(
            onDisk.sessions.some((s) => s.id === `s${i}`),
            `s${i} is on disk when its update resolves`,
          );
        }),
    ),
  );
  assert.equal(store.read().sessions.length, 30);
  assert.ok(c.writes() - before <= 3, `30 concurrent updates took ${c.writes() - before} writes`);
});

test('group commit: a failed write fails every caller of the group and changes nothing', async () => {
  const d = dir();
  const c = countingFs();
  const store = await storeWith(d, ['kept'], c.fs);
  const file = path.join(d, 'store.json');
  const bytes = readFileSync(file, 'utf8');
  c.full(true);
  const results = await Promise.allSettled(
    ['x', 'y', 'z'].map((id) =>
      store.update((data) => {
        data.sessions.push(finished(id).session);
      }),
    ),
  );
  assert.deepEqual(
    results.map((r) => r.status),
    ['rejected', 'rejected', 'rejected'],
  );
  assert.deepEqual(
    store.read().sessions.map((s) => s.id),
    ['kept'],
  );
  assert.equal(readFileSync(file, 'utf8'), bytes);
  assert.deepEqual(readdirSync(d), ['store.json'], 'no temp file');
  c.full(false);
  await store.update((data) => void data.sessions.push(finished('after').session));
  assert.deepEqual(
    store.read().sessions.map((s) => s.id),
    ['kept', 'after'],
  );
});

test('group commit: a mutator that throws fails alone; the rest of its group is written', async () => {
  const store = await storeWith(dir(), []);
  const results = await Promise.allSettled([
    store.update((data) => void data.sessions.push(finished('a').session)),
    store.update((data) => {
      data.sessions.push(finished('bad').session);
      throw new Error('boom');
    }),
    store.update((data) => void data.sessions.push(finished('c').session)),
  ]);
  assert.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'rejected', 'fulfilled'],
  );
  assert.deepEqual(
    store.read().sessions.map((s) => s.id),
    ['a', 'c'],
  );
});

test('archive: a finished session, its tasks and runs move to store-archive/<id>.json and read back after a restart', async () => {
  const d = dir();
  const store = await storeWith(d, ['s1', 's2']);
  assert.deepEqual(await store.archiveSessions(['s1', 'missing']), ['s1']);
  const hot = JSON.parse(readFileSync(path.join(d, 'store.json'), 'utf8')) as StoreData;
  assert.deepEqual(
    hot.sessions.map((s) => s.id),
    ['s2'],
  );
  assert.ok(!hot.tasks.some((t) => t.sessionId === 's1') && !hot.runs.some((r) => r.sessionId === 's1'));
  assert.deepEqual(hot.archive, [], 'the index is not in the hot file');
  const index = JSON.parse(readFileSync(path.join(d, 'store-archive', '.index.json'), 'utf8')) as { entries: StoreData['archive'] };
  assert.deepEqual(
    index.entries.map((e) => [e.id, e.title, e.state, e.finishedAt]),
    [['s1', 'goal of s1', 'completed', 1_000]],
  );
  const reopened = new LowdbStore(path.join(d, 'store.json'), logger);
  await reopened.load();
  const a = reopened.archived('s1')!;
  assert.equal(a.session.id, 's1');
  assert.equal(a.tasks.length, 2);
  assert.equal(reopened.archivedRun('r-s1')?.sessionId, 's1');
  assert.equal(reopened.archived('s2'), undefined, 'a hot session is not archived');
  assert.equal(reopened.archivedRun('r-s2'), undefined);
});

test('restore: an archived session comes back into the hot store and its file goes', async () => {
  const d = dir();
  const store = await storeWith(d, ['s1']);
  await store.archiveSessions(['s1']);
  await store.restoreSession('s1');
  assert.deepEqual(
    store.read().sessions.map((s) => s.id),
    ['s1'],
  );
  assert.equal(store.read().tasks.length, 2);
  assert.equal(store.read().runs.length, 1);
  assert.deepEqual(store.read().archive, []);
  assert.ok(!existsSync(path.join(d, 'store-archive', 's1.json')));
  assert.equal(store.archivedRun('r-s1'), undefined, 'the run log no longer leads to an archive');
});

test('a corrupt archive file is reported naming the file, kept byte for byte, and never replaced', async () => {
  const d = dir();
  const store = await storeWith(d, ['s1']);
  await store.archiveSessions(['s1']);
  const file = path.join(d, 'store-archive', 's1.json');
  writeFileSync(file, '{"schemaVersion":1,"session":');
  const reopened = new LowdbStore(path.join(d, 'store.json'), logger);
  await reopened.load();
  logged.length = 0;
  assert.throws(
    () => reopened.archived('s1'),
    (e: unknown) => DomainError.is(e, 'store_corrupt') && e.message.includes(file),
  );
  assert.ok(
    logged.some((m) => m.includes(file)),
    'logged',
  );
  await assert.rejects(reopened.restoreSession('s1'), (e: unknown) => DomainError.is(e, 'store_corrupt'));
  assert.equal(readFileSync(file, 'utf8'), '{"schemaVersion":1,"session":');
  assert.deepEqual(
    reopened.read().archive.map((e) => e.id),
    ['s1'],
    'the index keeps it',
  );
});

test('an archive write that hits ENOSPC moves nothing: memory and store file unchanged, no temp file', async () => {
  const d = dir();
  const c = countingFs();
  const store = await storeWith(d, ['s1'], c.fs);
  const bytes = readFileSync(path.join(d, 'store.json'), 'utf8');
  c.full(true);
  await assert.rejects(store.archiveSessions(['s1']), /ENOSPC/);
  assert.deepEqual(
    store.read().sessions.map((s) => s.id),
    ['s1'],
  );
  assert.deepEqual(store.read().archive, []);
  assert.equal(readFileSync(path.join(d, 'store.json'), 'utf8'), bytes);
  assert.deepEqual(readdirSync(path.join(d, 'store-archive')), [], 'no temp file');
});

test('a read-only store refuses to archive or restore', async () => {
  const d = dir();
  await storeWith(d, ['s1']);
  const ro = new LowdbStore(path.join(d, 'store.json'), logger);
  await ro.load({ readOnly: true });
  await assert.rejects(ro.archiveSessions(['s1']), (e: unknown) => DomainError.is(e, 'store_read_only'));
  assert.ok(!existsSync(path.join(d, 'store-archive')));
});

test('a v4 store migrates to v5 with an empty archive index and keeps the v4 file as a backup', async () => {
  const d = dir();
  const v4 = {
    schemaVersion: 4,
    createdAt: 'x',
    tenants: [{ id: 'local', name: 'Local' }],
    sessions: [finished('old').session],
    tasks: [],
    runs: [],
    agents: [],
    agentHealth: {},
    leases: { leases: [] },
  };
  writeFileSync(path.join(d, 'store.json'), JSON.stringify(v4));
  const store = new LowdbStore(path.join(d, 'store.json'), logger);
  assert.equal((await store.load()).state, 'ok');
  assert.equal(store.read().schemaVersion, 5);
  assert.deepEqual(store.read().archive, []);
  assert.equal(readdirSync(d).filter((f) => f.includes('.pre-migration-v4-')).length, 1);
});

test('a store newer than this server is refused as such, kept, and not written', async () => {
  const d = dir();
  const text = JSON.stringify({ schemaVersion: 6 });
  writeFileSync(path.join(d, 'store.json'), text);
  const store = new LowdbStore(path.join(d, 'store.json'), logger);
  const st = await store.load();
  assert.equal(st.state, 'corrupt');
  assert.match(st.error ?? '', /schema version 6 is newer than this server supports \(5\)/);
  assert.equal(readFileSync(path.join(d, 'store.json'), 'utf8'), text);
});

test('which sessions are archived: finished for the delay, nothing running, not busy; oldest first', () => {
  const a = finished('a', 1_000).session;
  const b = finished('b', 500).session;
  const young = finished('young', 9_500).session;
  const live: StoredSession = { ...finished('live').session, state: 'running', finishedAt: undefined };
  const withRunning = finished('withRunning', 100);
  const runningTask = { ...withRunning.tasks[0], state: 'running' as const };
  const data = { sessions: [a, b, young, live, withRunning.session], tasks: [runningTask] };
  assert.deepEqual(sessionsToArchive(data, 10_000, 1_000), ['b', 'a']);
  assert.deepEqual(sessionsToArchive(data, 10_000, 1_000, new Set(['b'])), ['a']);
});

test('an archive file name cannot leave the archive folder', async () => {
  const store = await storeWith(dir(), []);
  assert.throws(
    () => store.archiveFiles.fileOf('../store'),
    (e: unknown) => DomainError.is(e, 'bad_input'),
  );
});
