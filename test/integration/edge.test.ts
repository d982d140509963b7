/**
 * Validation at the edge and read-only commands, through the real server process and the real CLI:
 * lease paths outside the repository are InvalidParams naming the field and create nothing;
 * `orchestrator status` and `sessions` on a corrupt store write nothing, backups included.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { ResponseError } from 'vscode-jsonrpc/node';
import { errorCodes } from '../../protocol/errors';
import { serverStatus } from '../../protocol/server';
import { sessionGet, sessionList, sessionPlan, sessionStart } from '../../protocol/session';
import { cliJs, startServer, tempDir, type ServerHandle } from './serverProcess';
import { sampleRepo } from './sessionHelpers';

const exec = promisify(execFile);
const started: ServerHandle[] = [];
after(async () => {
  await Promise.all(started.map((s) => s.stop()));
});

async function rejected(p: Promise<unknown>): Promise<ResponseError<unknown>> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  assert.ok(e instanceof ResponseError, 'the request was rejected');
  return e;
}

describe('lease paths are validated at the edge', () => {
  test('expectedFiles and {files: …} outside the repository: InvalidParams naming the field, nothing created', async () => {
    const s = await startServer(tempDir());
    started.push(s);
    const cwd = sampleRepo();
    const worktreesBefore = readdirSync(cwd);
    for (const bad of ['../outside.txt', '/etc/passwd', '~/.bashrc', 'src/../../up.txt']) {
      const plan = {
        tasks: [
          { id: 'a', title: 'A', prompt: 'x', expectedFiles: ['a.txt'] },
          { id: 'b', title: 'B', prompt: 'y', expectedFiles: [bad] },
        ],
      };
      const e = await rejected(s.raw(sessionStart.method, { goal: 'g', cwd, plan }));
      assert.equal(e.code, errorCodes.invalidParams, bad);
      assert.deepEqual((e.data as { fields: string[] }).fields, ['plan.tasks.1.expectedFiles.0'], bad);
      assert.ok(e.message.includes(JSON.stringify(bad)), `the message quotes ${bad}: ${e.message}`);
      const listed = await rejected(s.raw(sessionStart.method, { goal: `- [a] A {files: a.txt}: x\n- [b] B {files: ${bad}}: y`, cwd }));
      assert.equal(listed.code, errorCodes.invalidParams, bad);
      assert.match(listed.message, /line 2: \{files: [^}]*\}: task "b"/);
    }
    assert.deepEqual(await s.request(sessionList, {}), [], 'no session was created');
    assert.deepEqual(readdirSync(cwd), worktreesBefore, 'nothing was written to the repository');
    // Editing a draft's plan: refused the same way, and the draft keeps its plan.
    const draft = await s.request(sessionStart, { goal: '- [a] A {files: a.txt}: x', cwd });
    const e = await rejected(
      s.raw(sessionPlan.method, {
        sessionId: draft.id,
        plan: { tasks: [{ id: 'a', title: 'A', prompt: 'x', expectedFiles: ['../../etc/shadow'] }] },
      }),
    );
    assert.equal(e.code, errorCodes.invalidParams);
    assert.deepEqual((e.data as { fields: string[] }).fields, ['plan.tasks.0.expectedFiles.0']);
    assert.deepEqual(
      (await s.request(sessionGet, { sessionId: draft.id })).tasks.map((t) => t.expectedFiles),
      [['a.txt']],
    );
    // A dry run reports every reason with its path (schema and graph rules together) and changes nothing.
    const dry = await rejected(
      s.raw(sessionPlan.method, {
        sessionId: draft.id,
        dryRun: true,
        plan: { tasks: [{ id: 'a', title: ' ', prompt: 'x', dependsOn: ['ghost'] }] },
      }),
    );
    assert.equal(dry.code, errorCodes.invalidParams);
    assert.deepEqual((dry.data as { issues: unknown }).issues, [
      { path: ['plan', 'tasks', 0, 'title'], message: 'must not be empty' },
      { path: ['plan', 'tasks', 0, 'dependsOn', 0], message: 'unknown task "ghost"' },
    ]);
    const fine = await s.request(sessionPlan, {
      sessionId: draft.id,
      dryRun: true,
      plan: { tasks: [{ id: 'b', title: 'B', prompt: 'y' }] },
    });
    assert.deepEqual(
      [fine.state, fine.tasks.map((t) => t.planId), (await s.request(sessionGet, { sessionId: draft.id })).tasks.map((t) => t.planId)],
      ['draft', ['a'], ['a']],
      'a passing dry run changes nothing',
    );
  });
});

/** Every file of the folder with its size, mtime and bytes. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir, { recursive: true }).map(String).sort()) {
    const p = path.join(dir, f);
    const st = statSync(p);
    out[f] = st.isDirectory() ? 'dir' : `${st.size} ${st.mtimeMs} ${readFileSync(p, 'base64')}`;
  }
  return out;
}

describe('read-only commands write nothing', () => {
  test('status and sessions on a corrupt store: the data folder is unchanged, no backup; the owning server backs up once', async () => {
    const dataDir = tempDir();
    const store = path.join(dataDir, 'store.json');
    writeFileSync(store, '{"schemaVersion": 1, "tenants": [ {"id": "lo');
    const before = snapshot(dataDir);
    for (const args of [['status'], ['status', '--json'], ['sessions'], ['sessions', '--json']]) {
      const r = await exec(process.execPath, [cliJs, ...args, '--data-dir', dataDir], { timeout: 60_000 }).then(
        (x) => ({ code: 0, ...x }),
        (x: { code: number; stdout: string; stderr: string }) => x,
      );
      assert.notEqual(r.code, 0, `${args.join(' ')} reports the corrupt store with a non-zero exit`);
      if (args[0] === 'status') assert.match(r.stdout, /corrupt/);
      assert.deepEqual(snapshot(dataDir), before, `${args.join(' ')} wrote nothing`);
    }
    // The server that owns the folder makes the one backup; a later start reports the same one.
    for (let i = 0; i < 2; i++) {
      const s = await startServer(dataDir);
      const st = await s.request(serverStatus, {});
      await s.stop();
      assert.equal(st.store.state, 'corrupt');
      assert.ok(st.store.backupPath, 'a backup is reported');
      assert.deepEqual(
        readdirSync(dataDir).filter((f) => f.includes('.corrupt-')),
        [path.basename(st.store.backupPath!)],
        `one backup after start ${i + 1}`,
      );
    }
    const afterServer = snapshot(dataDir);
    const r = await exec(process.execPath, [cliJs, 'status', '--json', '--data-dir', dataDir], { timeout: 60_000 }).then(
      () => undefined,
      (x: { stdout: string }) => x,
    );
    assert.match(r?.stdout ?? '', /"backupPath": ".*corrupt-/, 'status reports the existing backup');
    assert.deepEqual(snapshot(dataDir), afterServer, 'and still writes nothing');
  });
});
