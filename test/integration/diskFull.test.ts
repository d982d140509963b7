/**
 * A full disk during a CLI run, on a real small file system (a tmpfs mounted for the test; skipped where
 * mounting is not allowed): the run stops within seconds with the error named and a non-zero exit, the
 * store is valid, no temporary file is left, every transcript line is whole, and `resume` completes
 * once space is back.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ResponseError } from 'vscode-jsonrpc/node';
import { serverDidChangeStatus, serverStatus, type ServerStatus } from '../../protocol/server';
import { sessionList, sessionStart } from '../../protocol/session';
import { parseStore } from '../../server/src/domain/storeSchema';
import { cliJs, startServer, tempDir, type ServerHandle } from './serverProcess';
import { sampleRepo } from './sessionHelpers';

function mountTmpfs(dir: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Writes zeros until the file system says ENOSPC. */
function fillDisk(file: string): void {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(256 * 1024);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    closeSync(fd);
  }
}

function cli(args: string[], ms: number): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  const child = spawn(process.execPath, [cliJs, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`orchestrator ${args[0]} did not exit within ${ms} ms; stderr: ${stderr.slice(-2000)}`));
    }, ms);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

function files(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String) : [];
}

test('ENOSPC during a run: exit within seconds naming it, store valid, no temp files, resume completes after space returns', async (t) => {
  const mnt = tempDir('orch-full-');
  if (process.getuid?.() !== 0 || !mountTmpfs(mnt, '24m')) {
    t.skip('needs root and mount -t tmpfs (a small real file system)');
    return;
  }
  try {
    const dataDir = path.join(mnt, 'data');
    const cwd = sampleRepo();
    const goal = [
      '- [a] A {files: a.txt}: [[script:slow_write a.txt 300]] alpha',
      '- [b] B (after: a) {files: b.txt}: [[script:slow_write b.txt 100]] beta',
    ].join('\n');
    const run = cli(['run', goal, '--cwd', cwd, '--data-dir', dataDir, '--approve'], 300_000);
    // Fill the disk once task a's turn is under way (its transcript has lines).
    const store = path.join(dataDir, 'store.json');
    const deadline = Date.now() + 240_000;
    let sessionId: string | undefined;
    while (Date.now() < deadline) {
      const transcripts = files(path.join(dataDir, 'transcripts')).filter((f) => f.endsWith('.jsonl'));
      if (existsSync(store) && transcripts.length) {
        sessionId = (JSON.parse(readFileSync(store, 'utf8')) as { sessions: { id: string }[] }).sessions[0]?.id;
        if (sessionId) break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(sessionId, 'the run started a session whose first turn wrote transcript lines');
    const filler = path.join(mnt, 'filler');
    fillDisk(filler);
    const filledAt = Date.now();
    const first = await run;
    const stoppedAfter = Date.now() - filledAt;
    assert.notEqual(first.code, 0, `a non-zero exit: ${first.stderr.slice(-1500)}`);
    assert.match(first.stderr, /ENOSPC/, 'the error is named');
    assert.match(first.stderr, /orchestrator resume/, 'the way on is printed');
    console.log(`stopped ${stoppedAfter} ms after the disk filled; exit ${first.code}`);
    assert.ok(stoppedAfter < 60_000, `stopped ${stoppedAfter} ms after the disk filled (the turn's own end included)`);
    // The store is valid (parses and passes the schema) and no temp file is left anywhere.
    const text = readFileSync(store, 'utf8');
    assert.doesNotThrow(() => parseStore(text, store), 'the store is valid');
    assert.deepEqual(
      files(dataDir).filter((f) => /\.tmp$|\.tmp-/.test(path.basename(f))),
      [],
      'no temporary files',
    );
    for (const f of files(path.join(dataDir, 'transcripts')).filter((x) => x.endsWith('.jsonl'))) {
      const lines = readFileSync(path.join(dataDir, 'transcripts', f), 'utf8')
        .split('\n')
        .filter(Boolean);
      for (const l of lines) assert.doesNotThrow(() => JSON.parse(l), `${f}: every line is whole`);
    }
    // Space returns: resume finishes the session.
    rmSync(filler);
    const resumed = await cli(['resume', sessionId!, '--approve', '--data-dir', dataDir], 300_000);
    assert.equal(resumed.code, 0, resumed.stderr.slice(-2000));
    assert.match(resumed.stdout, /completed/);
    for (const [f, content] of [
      ['a.txt', 'alpha'],
      ['b.txt', 'beta'],
    ]) {
      assert.equal(
        execFileSync('git', ['show', `orchestrator/${sessionId}/integration:${f}`], { cwd, encoding: 'utf8' }).split('\n')[0],
        content,
        f,
      );
    }
  } finally {
    execFileSync('umount', ['-l', mnt], { stdio: 'ignore' });
  }
});

test('ENOSPC under the stdio server: it keeps serving, the status turns degraded naming the error, the store stays valid', async (t) => {
  const mnt = tempDir('orch-full-');
  if (process.getuid?.() !== 0 || !mountTmpfs(mnt, '8m')) {
    t.skip('needs root and mount -t tmpfs (a small real file system)');
    return;
  }
  let s: ServerHandle | undefined;
  try {
    const dataDir = path.join(mnt, 'data');
    s = await startServer(dataDir);
    const cwd = sampleRepo();
    const kept = await s.request(sessionStart, { goal: '- [a] A: kept', cwd });
    fillDisk(path.join(mnt, 'filler'));
    const err = await s.raw(sessionStart.method, { goal: '- [b] B: lost', cwd }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof ResponseError, 'the write is refused with an error');
    assert.match(err.message, /ENOSPC/);
    const status = await s.request(serverStatus, {});
    assert.equal(status.health, 'degraded');
    assert.match(status.message, /ENOSPC/);
    assert.match(status.message, /Dispatching has stopped/);
    const pushed = s.notifications.filter((n) => n.method === serverDidChangeStatus.method).map((n) => n.params as ServerStatus);
    assert.equal(pushed.at(-1)?.health, 'degraded', 'the client was told');
    assert.deepEqual(
      (await s.request(sessionList, {})).map((v) => v.id),
      [kept.id],
      'still serving what was recorded; nothing half-written',
    );
    const store = path.join(dataDir, 'store.json');
    const text = readFileSync(store, 'utf8');
    assert.doesNotThrow(() => parseStore(text, store));
    assert.deepEqual(
      files(dataDir).filter((f) => /\.tmp$/.test(f)),
      [],
      'no temporary files',
    );
  } finally {
    await s?.stop();
    execFileSync('umount', ['-l', mnt], { stdio: 'ignore' });
  }
});
