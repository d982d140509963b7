/**
 * Finished sessions leave the hot store: after the (here shortened) delay a session's records are in
 * `store-archive/<id>.json`, not in `store.json`, and every read still works, also after a restart;
 * a change (apply) brings it back. A corrupt archive file is reported and kept, never replaced.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { runGet, runTranscript } from '../../protocol/run';
import { sessionApply, sessionApprove, sessionDiff, sessionGet, sessionList, sessionStart } from '../../protocol/session';
import { startServer, tempDir, type ServerHandle } from './serverProcess';
import { ended, sampleRepo, waitSession } from './sessionHelpers';

/** store.json with the archive index (kept in `store-archive/.index.json`, not in store.json) as `archive`. */
const storeOf = (dataDir: string) => {
  const hot = JSON.parse(readFileSync(path.join(dataDir, 'store.json'), 'utf8'));
  const index = path.join(dataDir, 'store-archive', '.index.json');
  return { ...hot, archive: existsSync(index) ? JSON.parse(readFileSync(index, 'utf8')).entries : [], archiveInHotFile: hot.archive };
};

async function until(what: string, cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A finished one-task session, archived one second after it ended. */
async function archivedSession(dataDir: string): Promise<{ server: ServerHandle; id: string; cwd: string }> {
  const cwd = sampleRepo();
  const server = await startServer(dataDir, { store: { archiveAfterMs: 1_000 } });
  const s = await server.request(sessionStart, { goal: '- [a] A {files: a.txt}: [[script:slow_write a.txt 10]] alpha', cwd });
  await server.request(sessionApprove, { sessionId: s.id });
  const v = await waitSession(server, s.id, ended, 120_000);
  assert.equal(v.state, 'completed', JSON.stringify(v.tasks.map((t) => [t.planId, t.state, t.lastError])));
  const file = path.join(dataDir, 'store-archive', `${s.id}.json`);
  const moved = () => {
    const st = storeOf(dataDir);
    return st.archive.some((e: { id: string }) => e.id === s.id) && !st.sessions.some((x: { id: string }) => x.id === s.id);
  };
  await until(`${file}`, () => existsSync(file) && moved(), 30_000);
  return { server, id: s.id, cwd };
}

test('a finished session moves to store-archive after its delay and stays readable, also after a restart; apply brings it back', async () => {
  const dataDir = tempDir();
  const archived = await archivedSession(dataDir);
  const { id } = archived;
  let { server } = archived;
  try {
    const hot = storeOf(dataDir);
    assert.equal(hot.schemaVersion, 5);
    assert.ok(!hot.sessions.some((s: { id: string }) => s.id === id), 'not in store.json any more');
    assert.deepEqual(hot.archiveInHotFile, [], 'the archive index is not in store.json either');
    assert.ok(!hot.tasks.some((t: { sessionId: string }) => t.sessionId === id));
    assert.ok(!hot.runs.some((r: { sessionId?: string }) => r.sessionId === id));
    const before = await server.request(sessionGet, { sessionId: id });
    await server.stop();
    server = await startServer(dataDir);
    const v = await server.request(sessionGet, { sessionId: id });
    assert.deepEqual(v, before, 'session/get reads the archive');
    assert.ok(
      (await server.request(sessionList, {})).some((s) => s.id === id),
      'session/list includes it',
    );
    const runId = v.tasks[0].runId!;
    assert.equal((await server.request(runGet, { runId })).state, 'succeeded', 'run/get of an archived run');
    assert.ok((await server.request(runTranscript, { runId })).events.length > 0, 'its transcript');
    const diff = await server.request(sessionDiff, { sessionId: id });
    assert.deepEqual(
      diff.files.map((f) => f.path),
      ['a.txt'],
    );
    const applied = await server.request(sessionApply, { sessionId: id });
    assert.deepEqual(applied.applied, ['a.txt']);
    const after = storeOf(dataDir);
    assert.ok(
      after.sessions.some((s: { id: string; applied?: unknown }) => s.id === id && s.applied),
      'applied: back in the hot store with the change',
    );
    assert.ok(!after.archive.some((e: { id: string }) => e.id === id));
    assert.ok(!existsSync(path.join(dataDir, 'store-archive', `${id}.json`)));
  } finally {
    await server.stop();
  }
});

test('a corrupt archive file is reported naming it and kept byte for byte; the rest keeps working', async () => {
  const dataDir = tempDir();
  const archived = await archivedSession(dataDir);
  const { id } = archived;
  let { server } = archived;
  await server.stop();
  const file = path.join(dataDir, 'store-archive', `${id}.json`);
  const broken = readFileSync(file, 'utf8').slice(0, 40);
  writeFileSync(file, broken);
  server = await startServer(dataDir);
  try {
    await assert.rejects(server.request(sessionGet, { sessionId: id }), (e: Error) => e.message.includes(file));
    await assert.rejects(server.request(sessionApply, { sessionId: id }), (e: Error) => e.message.includes(file));
    assert.ok(!(await server.request(sessionList, {})).some((s) => s.id === id), 'left out of the list');
    assert.equal(readFileSync(file, 'utf8'), broken, 'never replaced');
    assert.ok(
      storeOf(dataDir).archive.some((e: { id: string }) => e.id === id),
      'still in the index',
    );
  } finally {
    await server.stop();
  }
});
