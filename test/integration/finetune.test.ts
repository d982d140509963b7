/**
 * `finetune/*` and `model/*` over the real server process: single runs with the real OpenCode binary and the
 * scripted demo model are curated into a dataset version (`dataset/create`), then a real LoRA job trains the
 * tiny local model on CPU in the training venv (tools/ensureTrainingEnv.mjs, run before this layer): the loss
 * falls, the adapter is on disk, and the model registry holds the version with its lineage. The version is
 * evaluated against its base (`model/evaluate`: scores stored), becomes champion, is promoted (`model/promote`)
 * and a real OpenCode turn on it reaches its local inference server. The champion rule and its audited override
 * (`<dataDir>/audit/models.jsonl`), cancel (the trainer process is gone), bad input (nothing written), and a server
 * killed mid-job (the job is failed with `server_restart` on the next start, its trainer gone).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ResponseError } from 'vscode-jsonrpc/node';
import { datasetCreate, type DatasetView } from '../../protocol/dataset';
import { errorCodes } from '../../protocol/errors';
import {
  finetuneCancel,
  finetuneDidChange,
  finetuneGet,
  finetuneList,
  finetuneSubmit,
  type FineTuneJobView,
} from '../../protocol/finetune';
import type { ParamsOf, RequestDef, ResultOf } from '../../protocol/messages';
import { modelEvaluate, modelGet, modelList, modelPromote, modelSetAlias } from '../../protocol/model';
import { permissionRequest, runGet, runStart, type RunView } from '../../protocol/run';
import { defaultTrainingPython } from '../../server/src/adapters/training/localTrainer';
import { startServer, tempDir, withDeadline, type ServerHandle } from './serverProcess';
import { sampleRepo } from './sessionHelpers';

let server: ServerHandle;
const dataDir = tempDir('orch-ft-');
let dataset: DatasetView;

const call = <D extends RequestDef<string, unknown, unknown>>(def: D, params: ParamsOf<D>, ms = 60_000): Promise<ResultOf<D>> =>
  withDeadline(server.connection.sendRequest(def.method, params), ms, def.method) as Promise<ResultOf<D>>;

async function refused(method: string, params: unknown): Promise<ResponseError<unknown>> {
  const err = await withDeadline(server.connection.sendRequest(method, params), 30_000, method).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof ResponseError, `${method} ${JSON.stringify(params)} was refused`);
  return err;
}

async function finished(runId: string, ms = 240_000): Promise<RunView> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const r = await server.request(runGet, { runId });
    if (!['pending', 'running'].includes(r.state)) return r;
    await new Promise((res) => setTimeout(res, 200));
  }
  throw new Error(`run ${runId} did not finish within ${ms} ms`);
}

async function singleRun(prompt: string): Promise<void> {
  const { runId } = await server.request(runStart, { agent: 'opencode', cwd: sampleRepo(), prompt });
  const r = await finished(runId);
  assert.equal(r.state, 'succeeded', JSON.stringify(r.error));
}

/** Polls `finetune/get` until `done` holds (deadline `ms`). */
async function waitJob(jobId: string, done: (j: FineTuneJobView) => boolean, ms: number): Promise<FineTuneJobView> {
  const end = Date.now() + ms;
  let last: FineTuneJobView | undefined;
  while (Date.now() < end) {
    last = await server.request(finetuneGet, { jobId });
    if (done(last)) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`fine-tune ${jobId} did not get there within ${ms} ms; last: ${JSON.stringify({ ...last, lossCurve: undefined })}`);
}

const ended = (j: FineTuneJobView) => ['succeeded', 'failed', 'cancelled'].includes(j.state);

/** Live trainer processes of a job (by its config file on the command line); read-only, kills nothing. */
function trainerPids(job: FineTuneJobView): number[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => l.includes(path.join(job.outputDir, 'train-config.json')))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

async function gone(job: FineTuneJobView, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (trainerPids(job).length && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(trainerPids(job), [], 'the trainer process is gone');
}

before(async () => {
  assert.ok(
    existsSync(defaultTrainingPython()),
    `the training venv is missing (${defaultTrainingPython()}): run \`node tools/ensureTrainingEnv.mjs\` (npm test does it before this layer)`,
  );
  server = await startServer(dataDir);
  server.connection.onRequest(permissionRequest.method, () => ({ decision: 'allow' }));
});
after(async () => {
  await server?.stop();
});

test(
  'a real LoRA job trains the tiny model on a curated dataset: falling loss, adapter on disk, a registered version with lineage',
  { timeout: 1_200_000 },
  async () => {
    const notes = ['release notes', 'deploy checklist', 'oncall handbook', 'style guide', 'test plan', 'api overview'];
    for (const batch of [notes.slice(0, 3), notes.slice(3)])
      await Promise.all(batch.map((n, i) => singleRun(`[[script:write_file doc${i}.md]] write the ${n} for the team`)));
    dataset = await call(datasetCreate, { name: 'ft-demo', options: { validationFraction: 0.34 } }, 120_000);
    assert.equal(dataset.stats.train.examples, 4, JSON.stringify(dataset.stats));
    assert.equal(dataset.stats.validation.examples, 2, JSON.stringify(dataset.stats));

    const t0 = Date.now();
    const submitted = await call(finetuneSubmit, {
      dataset: 'ft-demo',
      modelName: 'coder-tiny',
      hyperparameters: { steps: 60, evalEvery: 10 },
      idempotencyKey: 'first-job',
    });
    assert.ok(['queued', 'running'].includes(submitted.state), submitted.state);
    assert.deepEqual(submitted.dataset, { name: 'ft-demo', id: dataset.id });
    const again = await call(finetuneSubmit, { dataset: 'ft-demo', modelName: 'coder-tiny', idempotencyKey: 'first-job' });
    assert.equal(again.id, submitted.id, 'the same idempotency key returns the same job');

    const job = await waitJob(submitted.id, ended, 240_000);
    assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
    const first = job.progress.firstLoss!;
    const last = job.lossCurve.slice(-5).reduce((a, [, l]) => a + l, 0) / 5;
    console.log(
      `fine-tune ${job.id}: ${job.lossCurve.length} steps in ${((Date.now() - t0) / 1000).toFixed(1)} s; loss ${first.toFixed(2)} → ${last.toFixed(2)}; validation ${job.progress.initialValidationLoss?.toFixed(2)} → ${job.progress.validationLoss?.toFixed(2)}`,
    );
    assert.equal(job.lossCurve.length, 60);
    assert.ok(last < first * 0.7, `the training loss fell by at least 30 % (${first} → ${last})`);
    assert.ok(job.progress.validationLoss! < job.progress.initialValidationLoss!, 'the validation loss fell');
    assert.equal(job.validationCurve.length, 7, 'step 0 and every 10 steps');

    const adapter = path.join(job.outputDir, 'adapter', 'adapter_model.safetensors');
    assert.ok(statSync(adapter).size > 1000, 'the adapter weights are on disk');
    const metrics = JSON.parse(readFileSync(path.join(job.outputDir, 'metrics.json'), 'utf8')) as { validationLoss: number };
    assert.equal(metrics.validationLoss, job.progress.validationLoss);

    const changes = server.notifications.filter((n) => n.method === finetuneDidChange.method).map((n) => n.params as FineTuneJobView);
    const states = [...new Set(changes.filter((c) => c.id === job.id).map((c) => c.state))];
    assert.deepEqual(states, ['queued', 'running', 'succeeded'], 'finetune/didChange carried each state');

    assert.equal(job.modelVersion, 1);
    const model = await call(modelGet, { name: 'coder-tiny' });
    assert.deepEqual(
      (await call(modelList, {})).map((m) => m.name),
      ['coder-tiny'],
    );
    const v1 = model.versions[0]!;
    assert.equal(v1.version, 1);
    assert.deepEqual(v1.lineage.dataset, { name: 'ft-demo', id: dataset.id });
    assert.equal(v1.lineage.jobId, job.id);
    assert.equal(v1.lineage.baseModel, 'tiny-llama');
    assert.deepEqual(v1.lineage.hyperparameters, job.hyperparameters);
    assert.equal(v1.metrics.validationLoss, job.progress.validationLoss);
    assert.equal(v1.artifact.adapterDir, path.dirname(adapter));
    assert.ok(existsSync(path.join(v1.artifact.baseDir, 'model.safetensors')), 'the base the adapter applies to is kept');

    // Evaluation before promotion: v1 (base + adapter) and its base on the held-out validation examples.
    const evaluated = await call(modelEvaluate, { name: 'coder-tiny', version: 1 }, 300_000);
    const ev = evaluated.versions[0]!.evaluation!;
    assert.ok(ev, 'the scores are stored on the version');
    console.log(`evaluation of coder-tiny v1: ${JSON.stringify({ ...ev, dataset: undefined })}`);
    assert.deepEqual(ev.dataset, { name: 'ft-demo', id: dataset.id });
    assert.equal(ev.examples, 2);
    for (const s of [ev.candidate, ev.base]) {
      assert.ok(Number.isFinite(s.validationLoss) && Number.isFinite(s.perplexity), JSON.stringify(s));
      assert.ok(Math.abs(s.perplexity - Math.exp(s.validationLoss)) < 1e-6 * s.perplexity);
      assert.ok(s.toolCalls.valid <= s.toolCalls.generated && s.toolCalls.exactMatches <= s.toolCalls.turns, JSON.stringify(s));
    }
    assert.ok(ev.candidate.toolCalls.turns > 0, 'the validation examples hold tool calls to generate');
    assert.ok(ev.candidate.validationLoss < ev.base.validationLoss, 'the fine-tuned version beats its base on held-out examples');
    assert.ok(Math.abs(ev.candidate.validationLoss - v1.metrics.validationLoss!) < 1e-3, 'the evaluator scores as the trainer did');
    assert.deepEqual((await call(modelGet, { name: 'coder-tiny' })).versions[0]!.evaluation, ev, 'persisted');

    // The champion rule over RPC: v1 becomes champion; a weaker v2 is refused until an override says why.
    assert.equal((await call(modelSetAlias, { name: 'coder-tiny', alias: 'champion', version: 1 })).aliases.champion, 1);
    const weak = await call(finetuneSubmit, {
      dataset: 'ft-demo',
      modelName: 'coder-tiny',
      hyperparameters: { steps: 2, evalEvery: 1, learningRate: 0.00001 },
    });
    const weakDone = await waitJob(weak.id, ended, 400_000);
    assert.equal(weakDone.state, 'succeeded', JSON.stringify(weakDone.error));
    assert.equal(weakDone.modelVersion, 2);
    const storeBefore = readFileSync(path.join(dataDir, 'store.json'), 'utf8');
    const refusal = await refused(modelSetAlias.method, { name: 'coder-tiny', alias: 'champion', version: 2 });
    assert.equal(refusal.code, errorCodes.conflict);
    assert.match(refusal.message, /version 2's validation loss \d+\.\d+ does not beat champion version 1's/);
    assert.equal(readFileSync(path.join(dataDir, 'store.json'), 'utf8'), storeBefore, 'a refused move writes nothing');
    const forced = await call(modelSetAlias, {
      name: 'coder-tiny',
      alias: 'champion',
      version: 2,
      override: { reason: 'try the smaller run in production' },
    });
    assert.equal(forced.aliases.champion, 2);
    assert.deepEqual(forced.audit.at(-1)?.override, { reason: 'try the smaller run in production' });
    assert.equal(forced.audit.at(-1)?.previous, 1);
    assert.deepEqual(forced.versions.find((v) => v.version === 2)?.aliases, ['champion']);

    // Promotion: v1 (evaluated) becomes a model agents can run: a real OpenCode turn reaches its inference server.
    const promoted = await call(modelPromote, { name: 'coder-tiny', version: 1 });
    const promotion = promoted.versions[0]!.promotion!;
    assert.equal(promotion.model, 'finetuned/coder-tiny-v1');
    assert.match(promotion.baseURL, /^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    const listed = (await (await fetch(`${promotion.baseURL}/models`)).json()) as { data: { id: string }[] };
    assert.deepEqual(
      listed.data.map((m) => m.id),
      ['coder-tiny-v1'],
    );
    const requestLog = path.join(dataDir, 'serving', 'coder-tiny-v1', 'requests.jsonl');
    assert.equal(existsSync(requestLog), false, 'the inference server starts on demand, not at promotion');
    const { runId } = await server.request(runStart, {
      agent: 'opencode',
      cwd: sampleRepo(),
      prompt: 'write the release notes for the team',
      model: 'finetuned/coder-tiny-v1',
    });
    const run = await finished(runId, 240_000);
    const seen = existsSync(requestLog)
      ? readFileSync(requestLog, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { model: string; messages: number })
      : [];
    console.log(`run on the promoted model: ${run.state}; the inference server saw ${seen.length} request(s)`);
    assert.ok(
      seen.some((r) => r.model === 'coder-tiny-v1' && r.messages > 0),
      `the promoted model's inference server saw the turn (${JSON.stringify(run.error)})`,
    );
    assert.equal(run.state, 'succeeded', JSON.stringify(run.error));

    // The audit trail: who, when, from, to, reason for every alias move and the promotion.
    const audit = readFileSync(path.join(dataDir, 'audit', 'models.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      audit.map((a) => [a.action, a.alias, a.from, a.to, a.override, a.reason]),
      [
        ['setAlias', 'champion', undefined, 1, false, undefined],
        ['setAlias', 'champion', 1, 2, true, 'try the smaller run in production'],
        ['promote', undefined, undefined, 1, false, undefined],
      ],
    );
    for (const a of audit) {
      assert.match(String(a.who), /^local:/);
      assert.ok(!Number.isNaN(Date.parse(String(a.at))));
    }
  },
);

test('bad params and bad dataset rows get a clear error and write nothing', { timeout: 60_000 }, async () => {
  assert.ok(dataset, 'the first test created the dataset');
  const before = readFileSync(path.join(dataDir, 'store.json'), 'utf8');
  const jobsBefore = readdirSync(path.join(dataDir, 'finetune')).sort();

  const steps = await refused(finetuneSubmit.method, { dataset: 'ft-demo', modelName: 'm', hyperparameters: { steps: 0 } });
  assert.equal(steps.code, errorCodes.invalidParams);
  assert.match(steps.message, /hyperparameters\.steps/);
  const name = await refused(finetuneSubmit.method, { dataset: 'ft-demo', modelName: 'Not A Name' });
  assert.match(name.message, /modelName: must be 1–64 lower-case/);
  const evalEvery = await refused(finetuneSubmit.method, {
    dataset: 'ft-demo',
    modelName: 'm',
    hyperparameters: { steps: 5, evalEvery: 10 },
  });
  assert.equal(evalEvery.code, errorCodes.invalidParams);
  assert.match(evalEvery.message, /hyperparameters\.evalEvery: 10 is more than steps \(5\)/);
  const missing = await refused(finetuneSubmit.method, { dataset: 'no-such-set', modelName: 'm' });
  assert.equal(missing.code, errorCodes.notFound);
  assert.match(missing.message, /dataset: no dataset named "no-such-set"/);

  // A dataset folder whose rows were damaged on disk (a copy of the real one, its manifest renamed).
  const broken = path.join(dataDir, 'datasets', 'ft-broken');
  cpSync(dataset.folder, broken, { recursive: true });
  const manifest = JSON.parse(readFileSync(path.join(broken, 'manifest.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(path.join(broken, 'manifest.json'), JSON.stringify({ ...manifest, name: 'ft-broken' }));
  const train = readFileSync(path.join(broken, 'openai', 'train.jsonl'), 'utf8').split('\n');
  const row = JSON.parse(train[1]!) as { messages: { role: string }[] };
  row.messages[0]!.role = 'narrator';
  train[1] = JSON.stringify(row);
  writeFileSync(path.join(broken, 'openai', 'train.jsonl'), train.join('\n'));
  const rows = await refused(finetuneSubmit.method, { dataset: 'ft-broken', modelName: 'm' });
  assert.equal(rows.code, errorCodes.invalidParams);
  assert.match(rows.message, /dataset ft-broken\/openai\/train\.jsonl:2: messages\[0\]\.role "narrator" is not one of/);

  const unknownJob = await refused(finetuneGet.method, { jobId: 'ft-nope' });
  assert.equal(unknownJob.code, errorCodes.notFound);
  const badAlias = await refused(modelSetAlias.method, { name: 'coder-tiny', alias: 'gold', version: 1 });
  assert.equal(badAlias.code, errorCodes.invalidParams);
  const noVersion = await refused(modelSetAlias.method, { name: 'coder-tiny', alias: 'challenger', version: 99 });
  assert.equal(noVersion.code, errorCodes.notFound);
  const evalUnknown = await refused(modelEvaluate.method, { name: 'coder-tiny', version: 99 });
  assert.equal(evalUnknown.code, errorCodes.notFound);
  assert.match(evalUnknown.message, /version: model coder-tiny has no version 99/);
  const evalNoModel = await refused(modelEvaluate.method, { name: 'no-such-model', version: 1 });
  assert.equal(evalNoModel.code, errorCodes.notFound);
  const unscored = await refused(modelPromote.method, { name: 'coder-tiny', version: 2 });
  assert.equal(unscored.code, errorCodes.conflict);
  assert.match(unscored.message, /coder-tiny version 2 has no evaluation scores; run model\/evaluate/);
  for (const override of [true, { reason: '' }, { reason: 'ok', by: 'me' }]) {
    const bad = await refused(modelSetAlias.method, { name: 'coder-tiny', alias: 'champion', version: 1, override });
    assert.equal(bad.code, errorCodes.invalidParams, JSON.stringify(override));
    assert.match(bad.message, /override/);
  }
  const auditBefore = readFileSync(path.join(dataDir, 'audit', 'models.jsonl'), 'utf8');

  assert.equal(readFileSync(path.join(dataDir, 'store.json'), 'utf8'), before, 'the store is unchanged');
  assert.deepEqual(readdirSync(path.join(dataDir, 'finetune')).sort(), jobsBefore, 'no job folder was made');
  assert.equal(readFileSync(path.join(dataDir, 'audit', 'models.jsonl'), 'utf8'), auditBefore, 'nothing audited');
});

test(
  'cancel stops the trainer and registers nothing; a server killed mid-job fails it with server_restart on restart',
  { timeout: 240_000 },
  async () => {
    const versionsBefore = (await call(modelGet, { name: 'coder-tiny' })).versions.length;
    const long = { steps: 5000, evalEvery: 1000 };
    const running = (j: FineTuneJobView) => j.state === 'running' && j.progress.step > 0;

    const a = await call(finetuneSubmit, { dataset: 'ft-demo', modelName: 'coder-tiny', hyperparameters: long });
    await waitJob(a.id, running, 90_000);
    assert.ok(trainerPids(a).length > 0, 'the trainer is running');
    const cancelled = await call(finetuneCancel, { jobId: a.id }, 30_000);
    assert.equal(cancelled.state, 'cancelled');
    assert.equal(cancelled.error?.reason, 'cancelled');
    assert.equal(cancelled.modelVersion, undefined);
    await gone(a);
    assert.equal(existsSync(path.join(a.outputDir, 'adapter')), false, 'no adapter from a cancelled job');
    assert.equal((await call(modelGet, { name: 'coder-tiny' })).versions.length, versionsBefore, 'nothing registered');
    const again = await refused(finetuneCancel.method, { jobId: a.id });
    assert.equal(again.code, errorCodes.conflict);

    const b = await call(finetuneSubmit, { dataset: 'ft-demo', modelName: 'coder-tiny', hyperparameters: long });
    await waitJob(b.id, running, 90_000);
    server.child.kill('SIGKILL');
    await new Promise((r) => server.child.once('exit', r));
    await gone(b);
    server.connection.dispose();
    server = await startServer(dataDir);
    const failed = await call(finetuneGet, { jobId: b.id });
    assert.equal(failed.state, 'failed');
    assert.equal(failed.error?.reason, 'server_restart');
    assert.match(failed.error?.message ?? '', /server stopped while the job was running/);
    const list = await call(finetuneList, {});
    assert.deepEqual(
      list.filter((j) => [a.id, b.id].includes(j.id)).map((j) => j.state),
      ['failed', 'cancelled'],
      'newest first',
    );
    assert.equal((await call(modelGet, { name: 'coder-tiny' })).versions.length, versionsBefore);
  },
);
