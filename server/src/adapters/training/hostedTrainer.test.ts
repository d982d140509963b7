import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { defaultHyperparameters, type TrainerEvent } from '../../domain/finetune/job';
import type { HostedShape } from '../../domain/finetune/hostedStates';
import type { Logger } from '../../ports/logger';
import type { TrainingSpec } from '../../ports/trainer';
import { startScriptedFineTune, type ScriptedFineTuneOptions } from '../scriptedModel/scriptedFineTune';
import { HostedTrainer, resolveApiKey } from './hostedTrainer';

const key = 'sk-test-SECRET-4242';
const row = JSON.stringify({
  messages: [
    { role: 'user', content: 'hi' },
    { role: 'assistant', content: 'hello' },
  ],
});

function fixture(): TrainingSpec {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hosted-ft-'));
  writeFileSync(path.join(dir, 'train.jsonl'), `${row}\n${row}\n`);
  writeFileSync(path.join(dir, 'validation.jsonl'), `${row}\n`);
  return {
    jobId: 'ft-abc',
    trainFile: path.join(dir, 'train.jsonl'),
    validationFile: path.join(dir, 'validation.jsonl'),
    outputDir: path.join(dir, 'out'),
    baseModel: 'tiny-llama',
    hyperparameters: defaultHyperparameters,
  };
}

async function runJob(shape: HostedShape, server: ScriptedFineTuneOptions, opts: { cancelAfterMs?: number } = {}) {
  const remote = await startScriptedFineTune(server);
  const logs: string[] = [];
  const logger: Logger = { error: (m) => logs.push(m), warn: (m) => logs.push(m), info: (m) => logs.push(m), debug: (m) => logs.push(m) };
  const messages: string[] = [];
  const events: TrainerEvent[] = [];
  const trainer = new HostedTrainer({
    shape,
    baseURL: remote.url,
    apiKey: key,
    accountId: 'acct',
    remoteModel: 'base-model-1',
    pollMs: 10,
    maxPollMs: 40,
    deadlineMs: 5000,
    logger,
    onMessage: (_id, level, m) => messages.push(`${level}: ${m}`),
  });
  const spec = fixture();
  const started = Date.now();
  const handle = trainer.start(spec, (e) => events.push(e));
  if (opts.cancelAfterMs !== undefined) setTimeout(() => handle.cancel(), opts.cancelAfterMs);
  const outcome = await handle.outcome;
  await remote.close();
  return { outcome, remote, logs, messages, events, spec, ms: Date.now() - started };
}

const keyNowhere = (r: Awaited<ReturnType<typeof runJob>>) => {
  const everything = JSON.stringify([r.outcome, r.logs, r.messages, r.events]);
  assert.ok(!everything.includes(key), 'the API key leaked into the outcome, logs or events');
  for (const q of r.remote.requests) assert.equal(q.authorization, `Bearer ${key}`);
};

for (const shape of ['openai-compatible', 'together', 'fireworks'] as const) {
  test(`${shape}: a job succeeds end to end and names the provider's model`, async () => {
    const r = await runJob(shape, { apiKey: key, runningPolls: 2 });
    assert.equal(r.outcome.kind, 'succeeded', JSON.stringify(r.outcome));
    if (r.outcome.kind !== 'succeeded') return;
    assert.match(
      r.outcome.providerModelId ?? '',
      shape === 'fireworks' ? /^accounts\/acct\/models\/ft-abc$/ : /^ft:base-model-1:ft-abc:job\d+$/,
    );
    const saved = JSON.parse(readFileSync(path.join(r.spec.outputDir, 'remote-model.json'), 'utf8')) as { model: string; provider: string };
    assert.equal(saved.model, r.outcome.providerModelId);
    assert.equal(saved.provider, shape);
    const paths = r.remote.requests.map((q) => `${q.method} ${q.path}`);
    if (shape === 'openai-compatible') {
      assert.deepEqual(paths.slice(0, 3), ['POST /v1/files', 'POST /v1/files', 'POST /v1/fine_tuning/jobs']);
      assert.ok(paths.includes('GET /v1/fine_tuning/jobs/job3/events'));
      const create = JSON.parse(r.remote.requests[2]!.body) as Record<string, unknown>;
      assert.deepEqual([create.model, create.training_file, create.validation_file], ['base-model-1', 'file-1', 'file-2']);
    } else if (shape === 'together') {
      assert.deepEqual(paths.slice(0, 3), ['POST /v1/files', 'POST /v1/files', 'POST /v1/fine-tunes']);
      const create = JSON.parse(r.remote.requests[2]!.body) as { training_type: { type: string; lora_r: number } };
      assert.equal(create.training_type.type, 'Lora');
      assert.equal(create.training_type.lora_r, defaultHyperparameters.rank);
    } else {
      assert.deepEqual(paths.slice(0, 5), [
        'POST /v1/accounts/acct/datasets',
        'POST /v1/accounts/acct/datasets/ft-abc-train:upload',
        'POST /v1/accounts/acct/datasets',
        'POST /v1/accounts/acct/datasets/ft-abc-validation:upload',
        'POST /v1/accounts/acct/supervisedFineTuningJobs',
      ]);
      const create = JSON.parse(r.remote.requests[4]!.body) as Record<string, unknown>;
      assert.equal(create.dataset, 'accounts/acct/datasets/ft-abc-train');
      assert.equal(create.loraRank, defaultHyperparameters.rank);
    }
    if (shape !== 'fireworks') {
      assert.deepEqual(
        r.events.filter((e) => e.event !== 'remote').map((e) => (e.event === 'step' ? [e.step, e.loss] : e.event)),
        [
          [1, 2],
          [2, 1],
        ],
      );
      assert.equal(r.outcome.metrics.finalLoss, 1);
      assert.ok(r.messages.some((m) => m.includes('Validating training file')));
    }
    keyNowhere(r);
  });

  test(`${shape}: a remote failure fails the job with the remote message (key redacted)`, async () => {
    const r = await runJob(shape, { apiKey: key, outcome: 'fail', runningPolls: 1, failMessage: `bad rows; you sent key ${key}` });
    assert.equal(r.outcome.kind, 'failed');
    if (r.outcome.kind !== 'failed') return;
    assert.equal(r.outcome.reason, 'trainer_failed');
    assert.match(r.outcome.message, /failed: bad rows; you sent key \*\*\*/);
    keyNowhere(r);
  });

  test(`${shape}: cancel ends the job cancelled and calls the remote cancel`, async () => {
    const r = await runJob(shape, { apiKey: key, outcome: 'hang' }, { cancelAfterMs: 80 });
    assert.equal(r.outcome.kind, 'cancelled');
    const cancel =
      shape === 'fireworks'
        ? /^DELETE \/v1\/accounts\/acct\/supervisedFineTuningJobs\/job\d+$/
        : /^POST \/v1\/fine[-_]tun(ing\/jobs|es)\/job\d+\/cancel$/;
    assert.ok(
      r.remote.requests.some((q) => cancel.test(`${q.method} ${q.path}`)),
      'the remote cancel was not called',
    );
    keyNowhere(r);
  });
}

test('a job that never ends fails with timeout at the deadline, and the remote job is cancelled', async () => {
  const remote = await startScriptedFineTune({ apiKey: key, outcome: 'hang' });
  const trainer = new HostedTrainer({
    shape: 'openai-compatible',
    baseURL: remote.url,
    apiKey: key,
    pollMs: 10,
    maxPollMs: 20,
    deadlineMs: 300,
  });
  const started = Date.now();
  const outcome = await trainer.start(fixture(), () => undefined).outcome;
  await remote.close();
  assert.equal(outcome.kind, 'failed');
  if (outcome.kind === 'failed') {
    assert.equal(outcome.reason, 'timeout');
    assert.match(outcome.message, /did not finish within 300 ms/);
  }
  assert.ok(Date.now() - started < 2000);
  assert.ok(remote.requests.some((q) => q.path.endsWith('/cancel')));
});

test('an unreachable endpoint fails clearly, well within the deadline, without the key', async () => {
  const remote = await startScriptedFineTune({ apiKey: key });
  const url = remote.url;
  await remote.close(); // nothing listens there now
  const logs: string[] = [];
  const logger: Logger = { error: (m) => logs.push(m), warn: (m) => logs.push(m), info: (m) => logs.push(m), debug: (m) => logs.push(m) };
  const trainer = new HostedTrainer({ shape: 'together', baseURL: url, apiKey: key, deadlineMs: 3000, logger });
  const started = Date.now();
  const outcome = await trainer.start(fixture(), () => undefined).outcome;
  assert.ok(Date.now() - started < 3000);
  assert.equal(outcome.kind, 'failed');
  if (outcome.kind === 'failed')
    assert.match(outcome.message, /could not reach the together fine-tuning API at http:\/\/127\.0\.0\.1:\d+\/v1\/files \(ECONNREFUSED\)/);
  assert.ok(!JSON.stringify([outcome, logs]).includes(key));
});

test('a wrong key is refused by the provider and reported without echoing the key', async () => {
  const remote = await startScriptedFineTune({ apiKey: 'the-right-key' });
  const trainer = new HostedTrainer({ shape: 'openai-compatible', baseURL: remote.url, apiKey: key, deadlineMs: 3000 });
  const outcome = await trainer.start(fixture(), () => undefined).outcome;
  await remote.close();
  assert.equal(outcome.kind, 'failed');
  if (outcome.kind === 'failed') assert.match(outcome.message, /POST \/files answered 401: invalid api key/);
});

test('resolveApiKey reads {env:NAME}; a missing variable is named', () => {
  assert.equal(resolveApiKey('{env:FT_KEY}', { FT_KEY: 'v' }), 'v');
  assert.throws(() => resolveApiKey('{env:FT_KEY}', {}), /FT_KEY is not set/);
  assert.throws(() => new HostedTrainer({ shape: 'fireworks', baseURL: 'http://x', apiKey: 'k' }), /accountId is required/);
});
