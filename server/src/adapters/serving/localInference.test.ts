import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { LocalInference } from './localInference';

const logger = { debug() {}, info() {}, warn() {}, error() {} } as unknown as ConstructorParameters<typeof LocalInference>[0]['logger'];
const chat = (url: string, model: unknown) =>
  fetch(`${url}/chat/completions`, { method: 'POST', body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }) });

test('lists the registered models; an unknown model or a bad body is refused without starting anything', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'orch-serve-'));
  const inf = new LocalInference({ root, logger, python: path.join(root, 'no-python') });
  await inf.start();
  try {
    assert.match(inf.baseURL, /^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    inf.register({ id: 'm-v1', baseDir: '/b', adapterDir: '/a', maxSeqLength: 64 });
    const listed = (await (await fetch(`${inf.baseURL}/models`)).json()) as { data: { id: string }[] };
    assert.deepEqual(
      listed.data.map((m) => m.id),
      ['m-v1'],
    );
    const unknown = await chat(inf.baseURL, 'other');
    assert.equal(unknown.status, 404);
    assert.match(
      ((await unknown.json()) as { error: { message: string } }).error.message,
      /model "other" is not served here; served: m-v1/,
    );
    const bad = await fetch(`${inf.baseURL}/chat/completions`, { method: 'POST', body: '{' });
    assert.equal(bad.status, 400);
    assert.deepEqual(inf.pids(), {}, 'no inference server was started');
  } finally {
    await inf.dispose();
  }
});

test('an inference server that exits before listening, or misses its start deadline, is a 503 naming why', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'orch-serve-'));
  const crashing = path.join(root, 'crash.sh');
  writeFileSync(crashing, '#!/bin/sh\necho "error: no model here" >&2\nexit 1\n');
  const silent = path.join(root, 'silent.sh');
  // Its `sleep` keeps the pipes open after the script is killed: dispose must not wait for it.
  writeFileSync(silent, '#!/bin/sh\nsleep 120\n');
  chmodSync(crashing, 0o755);
  chmodSync(silent, 0o755);
  for (const [python, why] of [
    [crashing, /exited \(code 1\): error: no model here/],
    [silent, /did not start within 500 ms/],
  ] as const) {
    const inf = new LocalInference({ root, logger, python, startDeadlineMs: 500 });
    await inf.start();
    try {
      inf.register({ id: 'm-v1', baseDir: '/b', adapterDir: '/a', maxSeqLength: 64 });
      const r = await chat(inf.baseURL, 'm-v1');
      assert.equal(r.status, 503);
      assert.match(((await r.json()) as { error: { message: string } }).error.message, why);
    } finally {
      const t0 = Date.now();
      await inf.dispose();
      assert.ok(Date.now() - t0 < 60_000, `dispose took ${Date.now() - t0} ms`);
    }
  }
});
