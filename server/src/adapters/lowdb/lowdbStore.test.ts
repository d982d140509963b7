import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { DomainError } from '../../domain/errors';
import { newSession } from '../../domain/orchestration/sessionState';
import type { Logger } from '../../ports/logger';
import { LowdbStore } from './lowdbStore';

const quiet: Logger = { error() {}, warn() {}, info() {}, debug() {} };
/** A valid session record (the store validates every record it loads). */
const session = (id: string, tenantId = 'local') => newSession({ id, tenantId, goal: 'g', cwd: '/repo', nowMs: 1 });
const dir = () => mkdtempSync(path.join(os.tmpdir(), 'orch-store-'));

test('creates the file, persists updates atomically and leaves no temp files', async () => {
  const d = dir();
  const file = path.join(d, 'store.json');
  const store = new LowdbStore(file, quiet);
  assert.equal((await store.load()).state, 'ok');
  await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      store.update((data) => {
        data.sessions.push(session(`s${i}`));
      }),
    ),
  );
  const onDisk = JSON.parse(readFileSync(file, 'utf8'));
  assert.equal(onDisk.sessions.length, 20);
  assert.deepEqual(readdirSync(d), ['store.json']);
  const reopened = new LowdbStore(file, quiet);
  await reopened.load();
  assert.equal(reopened.read().sessions.length, 20);
});

test('a corrupt file stays as it is; reads and writes are refused with typed errors', async () => {
  const d = dir();
  const file = path.join(d, 'store.json');
  writeFileSync(file, '{oops');
  const store = new LowdbStore(file, quiet);
  const st = await store.load();
  assert.equal(st.state, 'corrupt');
  assert.throws(
    () => store.read(),
    (e: unknown) => DomainError.is(e, 'store_corrupt'),
  );
  await assert.rejects(
    store.update(() => {}),
    (e: unknown) => DomainError.is(e, 'store_read_only'),
  );
  assert.equal(readFileSync(file, 'utf8'), '{oops');
  assert.equal(readFileSync(st.backupPath!, 'utf8'), '{oops');
});

test('a failed mutation changes nothing in memory or on disk', async () => {
  const file = path.join(dir(), 'store.json');
  const store = new LowdbStore(file, quiet);
  await store.load();
  const before = readFileSync(file, 'utf8');
  await assert.rejects(
    store.update((data) => {
      data.sessions.push(session('x'));
      throw new Error('boom');
    }),
  );
  assert.equal(store.read().sessions.length, 0);
  assert.equal(readFileSync(file, 'utf8'), before);
});

test('an old-schema file is migrated and the original kept as a backup', async () => {
  const d = dir();
  const file = path.join(d, 'store.json');
  writeFileSync(file, JSON.stringify({ sessions: [(({ tenantId: _t, ...rest }) => rest)(session('old'))] }));
  const store = new LowdbStore(file, quiet);
  assert.equal((await store.load()).state, 'ok');
  assert.equal(store.read().sessions[0].tenantId, 'local');
  const backups = readdirSync(d).filter((f) => f.includes('.pre-migration-v0-'));
  assert.equal(backups.length, 1, `backup of the v0 file: ${readdirSync(d)}`);
});

test('a write that hits ENOSPC: rejected, reported, memory and file unchanged, no temp file; the next write works', async () => {
  const d = dir();
  const file = path.join(d, 'store.json');
  let full = false;
  const reported: unknown[] = [];
  const { promises: real } = await import('node:fs');
  const store = new LowdbStore(file, quiet, {
    onWriteError: (e) => reported.push(e),
    fs: {
      mkdir: (x, o) => real.mkdir(x, o),
      open: async (f, flags, mode) => {
        const h = await real.open(f, flags, mode);
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
  });
  await store.load();
  await store.update((data) => {
    data.sessions.push(session('kept'));
  });
  const before = readFileSync(file, 'utf8');
  full = true;
  await assert.rejects(
    store.update((data) => {
      data.sessions.push(session('lost'));
    }),
    /ENOSPC/,
  );
  assert.deepEqual(
    store.read().sessions.map((s) => s.id),
    ['kept'],
    'memory changes only after a successful write',
  );
  assert.equal(readFileSync(file, 'utf8'), before, 'the file keeps its bytes');
  assert.deepEqual(readdirSync(d), ['store.json'], 'no temp file');
  assert.equal((reported[0] as { code?: string })?.code, 'ENOSPC', 'the failure is reported');
  full = false;
  await store.update((data) => {
    data.sessions.push(session('after'));
  });
  assert.deepEqual(
    JSON.parse(readFileSync(file, 'utf8')).sessions.map((s: { id: string }) => s.id),
    ['kept', 'after'],
  );
});
