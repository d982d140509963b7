import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { newSession } from '../../domain/orchestration/sessionState';
import type { StoredSession } from '../../domain/storeEntities';
import type { StoreData } from '../../domain/storeSchema';
import type { Logger } from '../../ports/logger';
import { LowdbStore } from './lowdbStore';

const logger: Logger = { error() {}, warn() {}, info() {}, debug() {} };
const dir = () => mkdtempSync(path.join(os.tmpdir(), 'orch-archive-index-'));
const hotFile = (d: string) => path.join(d, 'store.json');
const indexFile = (d: string) => path.join(d, 'store-archive', '.index.json');
const onDisk = (d: string) => JSON.parse(readFileSync(hotFile(d), 'utf8')) as StoreData;

const usage = { inputTokens: 0, outputTokens: 0, reasoningTokens: 0, cacheReadTokens: 0, cost: 0 };

function finished(id: string): { session: StoredSession; run: StoreData['runs'][number] } {
  const session: StoredSession = {
    ...newSession({ id, tenantId: 'local', goal: `goal of ${id}`, cwd: '/repo', nowMs: 1 }),
    state: 'completed',
    finishedAt: 1_000,
  };
  const run = {
    id: `r-${id}`,
    tenantId: 'local',
    sessionId: id,
    agent: 'opencode',
    cwd: '/repo',
    prompt: 'x',
    state: 'succeeded' as const,
    createdAt: new Date(2).toISOString(),
    usage,
    events: 0,
  };
  return { session, run };
}

/** A store with the finished sessions `ids` in its hot file. */
async function storeWith(d: string, ids: string[]): Promise<LowdbStore> {
  const store = new LowdbStore(hotFile(d), logger, { now: () => new Date(50_000) });
  await store.load();
  await store.update((data) => {
    for (const id of ids) {
      const f = finished(id);
      data.sessions.push(f.session);
      data.runs.push(f.run);
    }
  });
  return store;
}

/** One live session's write, the same in every store. */
async function liveWrite(store: LowdbStore): Promise<number> {
  await store.update((data) => {
    data.sessions = data.sessions.filter((s) => s.id !== 'live');
    data.sessions.push({ ...finished('live').session, state: 'running', finishedAt: undefined });
  });
  return statSync(store.status().path ?? '').size;
}

test('a store write does not grow with archived history: the hot file is the same size with 0 or 300 archived sessions', async () => {
  const empty = await storeWith(dir(), []);
  const ids = Array.from({ length: 300 }, (_, i) => `h${i}`);
  const d = dir();
  const full = await storeWith(d, ids);
  assert.equal((await full.archiveSessions(ids)).length, 300);
  assert.equal(await liveWrite(full), await liveWrite(empty));
  assert.equal(full.read().archive.length, 300, 'the index is still in memory');
  const reopened = new LowdbStore(hotFile(d), logger);
  await reopened.load();
  assert.equal(reopened.read().archive.length, 300, 'and read back from its file after a restart');
  assert.equal(reopened.archived('h7')?.session.id, 'h7');
});

test('a store that holds its archive index in store.json moves it to the index file on the first load, not when read-only', async () => {
  const d = dir();
  const store = await storeWith(d, ['s1', 's2']);
  await store.archiveSessions(['s1']);
  // The layout before the index had its own file.
  const legacy = { ...onDisk(d), archive: store.read().archive };
  writeFileSync(hotFile(d), JSON.stringify(legacy));
  rmSync(indexFile(d));
  const ro = new LowdbStore(hotFile(d), logger);
  await ro.load({ readOnly: true });
  assert.deepEqual(
    ro.read().archive.map((e) => e.id),
    ['s1'],
  );
  assert.equal(readFileSync(hotFile(d), 'utf8'), JSON.stringify(legacy), 'a reader changes nothing');
  const rw = new LowdbStore(hotFile(d), logger);
  await rw.load();
  assert.deepEqual(onDisk(d).archive, []);
  assert.deepEqual(
    (JSON.parse(readFileSync(indexFile(d), 'utf8')) as { entries: { id: string }[] }).entries.map((e) => e.id),
    ['s1'],
  );
  assert.equal(rw.archived('s1')?.session.id, 's1');
});

test('a crash between the index write and the hot write: the session in both is hot', async () => {
  const d = dir();
  const store = await storeWith(d, ['s1']);
  const before = readFileSync(hotFile(d), 'utf8');
  await store.archiveSessions(['s1']);
  writeFileSync(hotFile(d), before); // the hot write never happened
  const reopened = new LowdbStore(hotFile(d), logger);
  await reopened.load();
  assert.deepEqual(
    reopened.read().sessions.map((s) => s.id),
    ['s1'],
  );
  assert.deepEqual(reopened.read().archive, []);
  assert.deepEqual(await reopened.archiveSessions(['s1']), ['s1'], 'and it is archived again later');
});

test('a corrupt archive index is reported naming it and kept byte for byte; the store is read-only', async () => {
  const d = dir();
  const store = await storeWith(d, ['s1']);
  await store.archiveSessions(['s1']);
  writeFileSync(indexFile(d), '{"schemaVersion":1,"entries":[{"id":');
  const reopened = new LowdbStore(hotFile(d), logger);
  const st = await reopened.load();
  assert.equal(st.state, 'corrupt');
  assert.ok(st.error?.includes(indexFile(d)), st.error);
  assert.equal(readFileSync(indexFile(d), 'utf8'), '{"schemaVersion":1,"entries":[{"id":');
  await assert.rejects(reopened.update(() => undefined));
});

test('the index in memory is never edited in place: such a mutator fails alone and memory is unchanged', async () => {
  const d = dir();
  const store = await storeWith(d, ['s1']);
  await store.archiveSessions(['s1']);
  const entry = store.read().archive[0];
  await assert.rejects(store.update((data) => void data.archive.push({ ...entry, id: 'x' })));
  assert.deepEqual(
    store.read().archive.map((e) => e.id),
    ['s1'],
  );
});
