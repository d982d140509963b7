/**
 * The real server process over stdio JSON-RPC: status, malformed params to every method, a corrupt
 * store, a kill -9 mid-life, and the CLI sharing the same services.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { ResponseError } from 'vscode-jsonrpc/node';
import { errorCodes } from '../../protocol/errors';
import { requests } from '../../protocol/methods';
import { serverDidChangeStatus, serverStatus, type ServerStatus } from '../../protocol/server';
import { sessionGet, sessionStart } from '../../protocol/session';
import { cliJs, startServer, tempDir, type ServerHandle } from './serverProcess';
import { sampleRepo } from './sessionHelpers';

const run = promisify(execFile);
const started: ServerHandle[] = [];
after(async () => {
  await Promise.all(started.map((s) => s.stop()));
});

async function server(dataDir = tempDir()): Promise<ServerHandle> {
  const s = await startServer(dataDir);
  started.push(s);
  return s;
}

/** Values the field's own schema rejects. */
function wrongValues(fieldSchema: { safeParse(v: unknown): { success: boolean } }): unknown[] {
  return [12345, 'not-a-valid-value', true, [], { nested: 1 }].filter((v) => !fieldSchema.safeParse(v).success);
}

describe('orchestrator server over stdio JSON-RPC', () => {
  test('answers server/status and pushes server/didChangeStatus after initialized', async () => {
    const dataDir = tempDir();
    const s = await server(dataDir);
    const status = await s.request(serverStatus, {});
    assert.equal(status.health, 'ok');
    assert.equal(status.mode, 'stdio');
    assert.equal(status.pid, s.child.pid);
    assert.equal(status.dataDir, dataDir);
    assert.equal(status.store.path, path.join(dataDir, 'store.json'));
    assert.ok(existsSync(status.store.path), 'the store file was created');
    const deadline = Date.now() + 5000;
    while (!s.notifications.some((n) => n.method === serverDidChangeStatus.method) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    const pushed = s.notifications.find((n) => n.method === serverDidChangeStatus.method)?.params as ServerStatus | undefined;
    assert.equal(pushed?.health, 'ok');
    assert.equal(pushed?.pid, s.child.pid);
  });

  test('malformed params to every request: InvalidParams naming the field, and the server stays up', async () => {
    const s = await server();
    assert.ok(requests.length > 0);
    for (const def of requests) {
      const cases: { params: unknown; field: string }[] = [{ params: { bogusField: 1 }, field: 'bogusField' }];
      const shape = (def.params as unknown as { shape?: Record<string, { safeParse(v: unknown): { success: boolean } }> }).shape ?? {};
      for (const [field, fieldSchema] of Object.entries(shape)) {
        for (const v of wrongValues(fieldSchema)) cases.push({ params: { [field]: v }, field });
      }
      for (const c of cases) {
        const err = await s.raw(def.method, c.params).then(
          () => undefined,
          (e: unknown) => e,
        );
        assert.ok(err instanceof ResponseError, `${def.method} ${JSON.stringify(c.params)} was rejected`);
        assert.equal(err.code, errorCodes.invalidParams, `${def.method}: code`);
        assert.match(err.message, new RegExp(`\\b${c.field}\\b`), `${def.method}: message names ${c.field}: ${err.message}`);
        const fields = (err.data as { fields: string[] }).fields;
        assert.ok(
          fields.some((f) => f === c.field || f.startsWith(`${c.field}.`)),
          `${def.method}: data.fields names ${c.field} (${fields})`,
        );
      }
    }
    const status = await s.request(serverStatus, {});
    assert.equal(status.health, 'ok', 'still serving after the bad requests');
    assert.equal(s.child.exitCode, null);
  });

  test('an unknown method is MethodNotFound and the server stays up', async () => {
    const s = await server();
    const err = await s.raw('nope/nothing', {}).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof ResponseError);
    assert.equal(err.code, errorCodes.methodNotFound);
    assert.equal((await s.request(serverStatus, {})).health, 'ok');
  });

  test('a corrupt store is reported, backed up, and never overwritten', async () => {
    const dataDir = tempDir();
    const file = path.join(dataDir, 'store.json');
    const garbage = '{"schemaVersion": 1, "tenants": [ {"id": "local", "name": "Lo';
    writeFileSync(file, garbage);
    const s = await server(dataDir);
    const status = await s.request(serverStatus, {});
    assert.equal(status.health, 'degraded');
    assert.equal(status.store.state, 'corrupt');
    assert.match(status.store.error ?? '', /not valid JSON/);
    assert.match(status.message, /read-only/);
    assert.ok(status.store.backupPath && existsSync(status.store.backupPath), 'a backup exists');
    assert.equal(readFileSync(status.store.backupPath!, 'utf8'), garbage, 'the backup holds the original bytes');
    await s.stop();
    assert.equal(readFileSync(file, 'utf8'), garbage, 'the original file is untouched after the server ran');
    // A second start reports again and the same backup (one per corrupt content), still without touching the file.
    const s2 = await server(dataDir);
    const again = await s2.request(serverStatus, {});
    assert.equal(again.store.state, 'corrupt');
    assert.equal(again.store.backupPath, status.store.backupPath);
    await s2.stop();
    assert.equal(readFileSync(file, 'utf8'), garbage);
    assert.equal(readdirSync(dataDir).filter((f) => f.includes('.corrupt-')).length, 1);
  });

  test('a store that fails validation names the bad field', async () => {
    const dataDir = tempDir();
    writeFileSync(
      path.join(dataDir, 'store.json'),
      JSON.stringify({
        schemaVersion: 1,
        createdAt: 'x',
        tenants: [{ id: 'local', name: 'Local' }],
        sessions: 'oops',
        tasks: [],
        agents: [],
      }),
    );
    const s = await server(dataDir);
    const status = await s.request(serverStatus, {});
    assert.equal(status.store.state, 'corrupt');
    assert.match(status.store.error ?? '', /sessions/);
  });

  test('kill -9 loses nothing: a session written before the crash is there after the restart', async () => {
    const dataDir = tempDir();
    const s = await server(dataDir);
    const first = await s.request(serverStatus, {});
    const draft = await s.request(sessionStart, { goal: '- [a] A: do a\n- [b] B (after: a): do b', cwd: sampleRepo() });
    s.child.kill('SIGKILL');
    await new Promise((r) => s.child.once('exit', r));
    const s2 = await server(dataDir);
    const again = await s2.request(serverStatus, {});
    assert.equal(again.health, 'ok');
    assert.notEqual(again.pid, first.pid);
    const kept = await s2.request(sessionGet, { sessionId: draft.id });
    assert.equal(kept.state, 'draft');
    assert.deepEqual(
      kept.tasks.map((t) => [t.planId, t.state]),
      [
        ['a', 'pending'],
        ['b', 'pending'],
      ],
    );
  });

  test('a second server on the same data folder stays read-only and says who owns it', async () => {
    const dataDir = tempDir();
    const owner = await server(dataDir);
    const ownerStatus = await owner.request(serverStatus, {});
    const second = await server(dataDir);
    const st = await second.request(serverStatus, {});
    assert.equal(st.health, 'degraded');
    assert.equal(st.store.state, 'locked');
    assert.match(st.message, new RegExp(`pid ${ownerStatus.pid}`));
    const err = await second.raw(sessionStart.method, { goal: '- [a] A: a', cwd: sampleRepo() }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof ResponseError);
    assert.equal(err.code, errorCodes.storeReadOnly);
    await second.stop();
    await owner.stop();
    const third = await server(dataDir);
    assert.equal((await third.request(serverStatus, {})).store.state, 'ok', 'the lock was released when the owner stopped');
  });

  test('the CLI uses the same services: status on the same data dir', async () => {
    const dataDir = tempDir();
    const { stdout } = await run(process.execPath, [cliJs, 'status', '--data-dir', dataDir, '--json']);
    const s = JSON.parse(stdout) as ServerStatus;
    assert.equal(s.health, 'ok');
    assert.equal(s.mode, 'cli');
    assert.equal(s.store.path, path.join(dataDir, 'store.json'));
    writeFileSync(s.store.path, 'not json');
    const bad = await run(process.execPath, [cliJs, 'status', '--data-dir', dataDir]).then(
      () => undefined,
      (e: { code: number; stdout: string }) => e,
    );
    assert.equal(bad?.code, 1, 'exit 1 when degraded');
    assert.match(bad?.stdout ?? '', /health: {3}degraded/);
    const unknown = await run(process.execPath, [cliJs, 'frobnicate']).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    assert.equal(unknown?.code, 2);
    assert.match(unknown?.stderr ?? '', /unknown command "frobnicate"/);
  });
});
