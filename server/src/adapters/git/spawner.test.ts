import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { execViaSpawner, spawnerForTests } from './spawner';

const opts = { cwd: process.cwd(), env: process.env, timeout: 20_000, maxBuffer: 1024 * 1024 };

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until(what: string, ok: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('a command runs in the helper process: stdout on success, the error on a non-zero exit', async () => {
  assert.match(await execViaSpawner('git', ['--version'], opts), /^git version /);
  const pid = spawnerForTests.pid;
  assert.ok(pid && pid !== process.pid && alive(pid), 'a separate, live helper process ran it');
  await assert.rejects(execViaSpawner('git', ['no-such-subcommand-xyz'], opts), /no-such-subcommand-xyz/);
  await assert.rejects(execViaSpawner('sh', ['-c', 'exit 3'], opts), /Command failed/);
  assert.equal(await execViaSpawner('sh', ['-c', 'printf "%s" "$X"'], { ...opts, env: { ...process.env, X: 'from env' } }), 'from env');
});

test('a helper killed while a command runs: the command runs directly, and the next call gets an answer', async () => {
  await execViaSpawner('git', ['--version'], opts);
  const pid = spawnerForTests.pid!;
  const slow = execViaSpawner('sh', ['-c', 'sleep 0.3; echo done'], opts);
  await new Promise((r) => setTimeout(r, 50));
  process.kill(pid, 'SIGKILL');
  assert.equal((await slow).trim(), 'done');
  assert.match(await execViaSpawner('git', ['--version'], opts), /^git version /);
});

test('the helper exits when the process that started it is killed (no orphan)', async () => {
  const code = `
    const { execViaSpawner, spawnerForTests } = require(${JSON.stringify(require.resolve('./spawner'))});
    execViaSpawner('git', ['--version'], { cwd: process.cwd(), env: process.env, timeout: 20000, maxBuffer: 1 << 20 })
      .then(() => { console.log('helper ' + spawnerForTests.pid); setInterval(() => {}, 1000); });
  `;
  const parent = spawn(process.execPath, ['--import', 'tsx', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  parent.stdout.on('data', (b: Buffer) => (out += b.toString()));
  await until('the child to report its helper', () => /helper \d+/.test(out), 60_000);
  const helper = Number(/helper (\d+)/.exec(out)![1]);
  assert.ok(alive(helper));
  parent.kill('SIGKILL');
  await until('the helper to exit', () => !alive(helper), 20_000);
});
