/**
 * Process lifecycle of the OpenCode adapter: start failures (missing binary, early exit, start deadline),
 * `kill -9` of the server mid-turn, restart, dispose without orphans, and reaping a server left behind by
 * a crashed orchestrator. Real binary, real git repos, the scripted model as the only fake; the "broken
 * binaries" are small shell scripts padded past the placeholder-size check.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { OpencodeAdapterOptions } from '../../server/src/adapters/opencode/opencodeAdapter';
import { TestOpencodeAdapter as OpencodeAdapter } from './opencodeTestAdapter';
import { startScriptedModel, type ScriptedModel } from '../../server/src/adapters/scriptedModel/scriptedModel';
import type { AgentEvent } from '../../server/src/domain/agentEvent';
import { AgentError } from '../../server/src/ports/agentRuntime';

let tmp: string;
let model: ScriptedModel;
const debug = (l: string) => {
  if (process.env.OC_DEBUG) console.log(l);
};

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oc-lifecycle-'));
  model = await startScriptedModel();
});

after(async () => {
  await model?.close();
  if (tmp && !process.env.OC_KEEP) fs.rmSync(tmp, { recursive: true, force: true });
});

function options(dataDir: string, extra: Partial<OpencodeAdapterOptions> = {}): OpencodeAdapterOptions {
  return {
    dataDir: path.join(tmp, dataDir),
    models: { providers: [{ id: 'scripted', baseURL: model.url, models: { scripted: {} } }], defaultModel: 'scripted/scripted' },
    timeouts: { idleMs: 30_000, turnMs: 60_000 },
    restartBackoffMs: { initial: 200, max: 2000 },
    log: debug,
    ...extra,
  };
}

function makeRepo(name: string): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  const git = (...a: string[]) => execFileSync('git', a, { cwd: dir, stdio: 'ignore' });
  git('init', '-q');
  git('-c', 'user.email=t@example.invalid', '-c', 'user.name=test', 'commit', '--allow-empty', '-qm', `init ${name}`);
  return dir;
}

/** An executable shell script named `opencode`, padded past the 1 MB placeholder check. */
function fakeBinary(name: string, body: string): string {
  const dir = path.join(tmp, 'fake', name);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'opencode');
  fs.writeFileSync(file, `#!/bin/sh\n${body}\nexit 0\n#${'x'.repeat(1_100_000)}\n`, { mode: 0o755 });
  return file;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!pidAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !pidAlive(pid);
}

test('no usable binary: start rejects with not_installed; a prompt resolves failed with the same reason', async () => {
  const a = new OpencodeAdapter(options('missing', { binaryPath: path.join(tmp, 'nope', 'opencode') }));
  await assert.rejects(a.start(), (e: unknown) => AgentError.is(e, 'not_installed') && /not usable/.test(e.message));
  const events: AgentEvent[] = [];
  const r = await a.prompt({ runId: 't', cwd: makeRepo('missing'), prompt: 'hi' }, (e) => events.push(e));
  assert.equal(r.status, 'failed');
  assert.equal(r.error?.reason, 'not_installed');
  assert.deepEqual(
    events.map((e) => e.kind),
    ['error', 'finished'],
  );
  await a.dispose();
});

test('server exits while starting: start_failed with its stderr tail', async () => {
  const bin = fakeBinary('exits', 'echo "boom: cannot open database" >&2\nexit 3');
  const a = new OpencodeAdapter(options('exits', { binaryPath: bin }));
  await assert.rejects(
    a.start(),
    (e: unknown) =>
      AgentError.is(e, 'start_failed') &&
      /exited while starting \(code 3/.test(e.message) &&
      /boom: cannot open database/.test(e.stderrTail ?? ''),
  );
  await a.dispose();
});

test('start deadline: a server that never says "listening" is killed and reported', async () => {
  const pidFile = path.join(tmp, 'hung.pid');
  const bin = fakeBinary('hangs', `echo $$ > ${pidFile}\nsleep 30`);
  const a = new OpencodeAdapter(options('hangs', { binaryPath: bin, startTimeoutMs: 1500 }));
  const t0 = Date.now();
  await assert.rejects(a.start(), (e: unknown) => AgentError.is(e, 'start_failed') && /no "listening" line within 1500 ms/.test(e.message));
  const took = Date.now() - t0;
  assert.ok(took < 1500 + 3000, `gave up after ${took} ms`);
  const pid = Number(fs.readFileSync(pidFile, 'utf8'));
  assert.ok(await waitGone(pid, 3000), 'the hung process was killed');
  await a.dispose();
});

test('a server left behind by a crashed orchestrator (pid file) is reaped on the next start', async () => {
  const orphanBin = fakeBinary('orphan', 'sleep 60');
  const data = options('reap');
  const home = path.join(data.dataDir, 'opencode-home');
  fs.mkdirSync(home, { recursive: true });
  const orphan = spawn(orphanBin, ['serve', '--port', '0'], { detached: true, stdio: 'ignore' });
  orphan.unref();
  assert.ok(orphan.pid && pidAlive(orphan.pid));
  fs.writeFileSync(path.join(home, 'serve.pid'), String(orphan.pid));
  const a = new OpencodeAdapter(data);
  try {
    await a.start();
    assert.ok(await waitGone(orphan.pid, 3000), 'the stale server was killed');
    assert.notEqual(a.serverPid, orphan.pid);
  } finally {
    await a.dispose();
  }
});

test('kill -9 of opencode mid-turn: the turn fails with the stderr tail, the next prompt restarts it, dispose leaves no process', async () => {
  const a = new OpencodeAdapter(options('kill', { logLevel: 'INFO' }));
  try {
    const repo = makeRepo('kill');
    await a.start();
    const first = a.serverPid;
    assert.ok(first && pidAlive(first));
    let killedAt = 0;
    const events: AgentEvent[] = [];
    const killed = await a.prompt({ runId: 'kill', cwd: repo, prompt: '[[script:slow 60 250]]' }, (e) => {
      events.push(e);
      if (!killedAt && e.kind === 'message_chunk' && e.role === 'assistant') {
        killedAt = Date.now();
        process.kill(first, 'SIGKILL');
      }
    });
    const settle = Date.now() - killedAt;
    console.log(`kill -9: turn settled ${settle} ms after the kill; stderr tail ${killed.error?.stderrTail?.length ?? 0} chars`);
    assert.equal(killed.status, 'failed');
    assert.equal(killed.error?.reason, 'crashed');
    assert.match(killed.error?.message ?? '', /SIGKILL/);
    assert.ok((killed.error?.stderrTail ?? '').length > 0, 'stderr tail attached');
    assert.match(killed.summary, /^tick 0/, 'partial output kept');
    assert.ok(settle < 2000);
    assert.equal(events.filter((e) => e.kind === 'finished').length, 1);

    const t0 = Date.now();
    const again = await a.prompt({ runId: 'kill', cwd: repo, prompt: '[[script:write_file after.txt]] after restart' }, () => undefined);
    console.log(`restart + turn after the crash: ${Date.now() - t0} ms`);
    assert.equal(again.status, 'succeeded', JSON.stringify(again.error));
    assert.equal(fs.readFileSync(path.join(repo, 'after.txt'), 'utf8'), 'after restart\n');
    const second = a.serverPid;
    assert.ok(second && second !== first && pidAlive(second));
    await a.dispose();
    assert.ok(!pidAlive(first), 'killed server is gone');
    assert.ok(!pidAlive(second), 'restarted server is gone after dispose');
    await assert.rejects(
      a.prompt({ runId: 'x', cwd: repo, prompt: 'x' }, () => undefined),
      (e: unknown) => AgentError.is(e, 'disposed'),
    );
  } finally {
    await a.dispose();
  }
});

test('dispose during a running turn settles it as failed (disposed) and kills the server', async () => {
  const a = new OpencodeAdapter(options('dispose'));
  const repo = makeRepo('dispose');
  await a.start();
  const pid = a.serverPid as number;
  let disposing: Promise<void> | undefined;
  const r = await a.prompt({ runId: 'd', cwd: repo, prompt: '[[script:slow 60 250]]' }, (e) => {
    if (!disposing && e.kind === 'message_chunk' && e.role === 'assistant') disposing = a.dispose();
  });
  await disposing;
  assert.equal(r.status, 'failed');
  assert.equal(r.error?.reason, 'disposed');
  assert.ok(!pidAlive(pid));
});
