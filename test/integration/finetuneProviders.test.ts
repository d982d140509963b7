/**
 * Fine-tune providers and pause over the real server process. Two single runs with the real OpenCode binary
 * and the scripted demo model are curated into a dataset version; then:
 * - hosted providers through `finetune/submit` against the scripted hosted fine-tuning stand-in
 *   (scriptedFineTune.ts, a real HTTP server): Together end to end (validating → running → succeeded, the
 *   version registered with lineage provider / remote job / fine-tuned model, one remote job for a repeated
 *   idempotency key), an OpenAI-compatible provider that fails, a Fireworks job cancelled (the remote cancel
 *   called), a server killed mid-job that resumes polling the same remote job at its next start; the key is
 *   nowhere in the store, the notifications or the server's log; a job whose endpoint is no longer the
 *   configured one fails at the next start, its key not sent;
 * - bad specs (unknown provider, no remote model, hosted settings on local) and attacks (a key sent to another
 *   URL than the operator's `ORCH_FT_<PROVIDER>_URL`, or another key chosen): the field named, nothing written or sent;
 * - pause / resume of a real local LoRA job (SIGSTOP / SIGCONT of the trainer: the process is stopped, its
 *   step frozen, the pause not counted against the trainer's deadline), pause refused for hosted jobs, cancel
 *   from paused.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ResponseError } from 'vscode-jsonrpc/node';
import { datasetCreate } from '../../protocol/dataset';
import { errorCodes } from '../../protocol/errors';
import {
  finetuneCancel,
  finetuneDidChange,
  finetuneGet,
  finetuneList,
  finetunePause,
  finetuneResume,
  finetuneSubmit,
  type FineTuneJobView,
} from '../../protocol/finetune';
import type { ParamsOf, RequestDef, ResultOf } from '../../protocol/messages';
import { modelGet } from '../../protocol/model';
import { runGet, runStart } from '../../protocol/run';
import { startScriptedFineTune, type ScriptedFineTune } from '../../server/src/adapters/scriptedModel/scriptedFineTune';
import { defaultTrainingPython } from '../../server/src/adapters/training/localTrainer';
import { startServer, tempDir, withDeadline, type ServerHandle } from './serverProcess';
import { sampleRepo } from './sessionHelpers';

const key = 'sk-hosted-IT-SECRET-90210';
// The local trainer's deadline (running time): long enough for the trainer's start under load, short enough
// that the pause test can pause past it by wall clock.
const trainDeadlineMs = 60_000;
// Another key of the operator's, which the attack tries to send away.
const otherKey = 'sk-operator-anthropic-SECRET-4242';
// The hosted stand-ins, started before the server: the operator binds each key to its endpoint in the env.
let tg: ScriptedFineTune;
let failing: ScriptedFineTune;
let hang: ScriptedFineTune;
let env: Record<string, string>;
const dataDir = tempDir('orch-ftprov-');
let server: ServerHandle;
const stopped: ServerHandle[] = [];
const remotes: ScriptedFineTune[] = [];
const ds = 'prov-set';

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

async function waitJob(jobId: string, done: (j: FineTuneJobView) => boolean, ms: number): Promise<FineTuneJobView> {
  const end = Date.now() + ms;
  let last: FineTuneJobView | undefined;
  while (Date.now() < end) {
    last = await server.request(finetuneGet, { jobId });
    if (done(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`fine-tune ${jobId} did not get there within ${ms} ms; last: ${JSON.stringify({ ...last, lossCurve: undefined })}`);
}
const ended = (j: FineTuneJobView) => ['succeeded', 'failed', 'cancelled'].includes(j.state);

async function stand(o: Parameters<typeof startScriptedFineTune>[0]): Promise<ScriptedFineTune> {
  const r = await startScriptedFineTune(o);
  remotes.push(r);
  return r;
}
const creates = (r: ScriptedFineTune) =>
  r.requests.filter((q) => q.method === 'POST' && /\/(fine_tuning\/jobs|fine-tunes|supervisedFineTuningJobs)$/.test(q.path)).length;

function keyNowhere(): void {
  assert.ok(!readFileSync(path.join(dataDir, 'store.json'), 'utf8').includes(key), 'the key is not in the store');
  assert.ok(!readFileSync(path.join(dataDir, 'store.json'), 'utf8').includes(otherKey), 'the other key is not in the store');
  assert.ok(!JSON.stringify(server.notifications).includes(key), 'the key is not in any notification');
  for (const s of [server, ...stopped]) assert.ok(!s.stderr().includes(key), 'the key is not in the server log');
}

/** The trainer process of a local job and its state letter from /proc (R, S, T…). */
function trainer(job: FineTuneJobView): { pid: number; state: string } | undefined {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  const line = out.split('\n').find((l) => l.includes(path.join(job.outputDir, 'train-config.json')));
  if (!line) return undefined;
  const pid = Number(line.trim().split(/\s+/)[0]);
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return { pid, state: stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]! };
  } catch {
    return undefined;
  }
}

before(async () => {
  assert.ok(
    existsSync(defaultTrainingPython()),
    `the training venv is missing (${defaultTrainingPython()}): run \`node tools/ensureTrainingEnv.mjs\``,
  );
  tg = await stand({ apiKey: key, runningPolls: 6 });
  failing = await stand({ apiKey: key, outcome: 'fail', runningPolls: 1, failMessage: 'the dataset has too few rows' });
  hang = await stand({ apiKey: key, outcome: 'hang' });
  env = {
    ORCH_FT_TOGETHER_URL: tg.url,
    ORCH_KEY_TOGETHER: key,
    ORCH_FT_OPENAI_COMPATIBLE_URL: failing.url,
    ORCH_KEY_OPENAI_COMPATIBLE: key,
    ORCH_FT_FIREWORKS_URL: hang.url,
    ORCH_KEY_FIREWORKS: key,
    ORCH_KEY_ANTHROPIC: otherKey,
    ORCH_TRAIN_DEADLINE_MS: String(trainDeadlineMs),
  };
  server = await startServer(dataDir, {}, { env });
  const runs = await Promise.all(
    ['[[script:write_file a.md]] write the release notes', '[[script:write_file b.md]] write the deploy checklist'].map(async (prompt) => {
      const { runId } = await server.request(runStart, { agent: 'opencode', cwd: sampleRepo(), prompt });
      const end = Date.now() + 240_000;
      while (Date.now() < end) {
        const r = await server.request(runGet, { runId });
        if (!['pending', 'running'].includes(r.state)) return r;
        await new Promise((res) => setTimeout(res, 200));
      }
      throw new Error(`run ${runId} did not finish within 240 s`);
    }),
  );
  for (const r of runs) assert.equal(r.state, 'succeeded', JSON.stringify(r.error));
  await call(datasetCreate, { name: ds, options: { validationFraction: 0.5 } }, 120_000);
});
after(async () => {
  await server?.stop();
  for (const r of remotes) await r.close();
});

test('bad provider specs and key-stealing attacks name the field, write nothing and send nothing', { timeout: 60_000 }, async () => {
  const storeBefore = readFileSync(path.join(dataDir, 'store.json'), 'utf8');
  const attacker = await stand({ apiKey: otherKey });
  const notConfigured = /hosted\.baseURL: must be the endpoint this server configures for together \(ORCH_FT_TOGETHER_URL\), or left out/;
  const cases: [unknown, RegExp][] = [
    [{ provider: 'replicate' }, /provider/],
    [{ provider: 'together' }, /hosted\.remoteModel: the together provider needs the id of its base model/],
    [{ provider: 'fireworks', hosted: { remoteModel: 'm' } }, /hosted\.accountId/],
    // The review's scenario: the operator's other key, to the attacker's URL.
    [
      { provider: 'openai-compatible', hosted: { baseURL: attacker.url, apiKeyEnv: 'ORCH_KEY_ANTHROPIC', remoteModel: 'm' } },
      /hosted: Unrecognized key: "apiKeyEnv"/,
    ],
    [{ provider: 'together', hosted: { baseURL: attacker.url, remoteModel: 'm' } }, notConfigured],
    [{ provider: 'together', hosted: { baseURL: 'http://169.254.169.254/latest/v1', remoteModel: 'm' } }, notConfigured],
    [{ provider: 'together', hosted: { baseURL: failing.url, remoteModel: 'm' } }, notConfigured],
    [{ hosted: { baseURL: 'http://127.0.0.1:1/v1', remoteModel: 'm' } }, /hosted: the local provider takes no hosted settings/],
  ];
  for (const [extra, message] of cases) {
    const err = await refused(finetuneSubmit.method, { dataset: ds, modelName: 'bad', ...(extra as object) });
    assert.equal(err.code, errorCodes.invalidParams, `${JSON.stringify(extra)}: ${err.message}`);
    assert.match(err.message, message, JSON.stringify(extra));
  }
  assert.deepEqual(await call(finetuneList, {}), []);
  assert.equal(readFileSync(path.join(dataDir, 'store.json'), 'utf8'), storeBefore, 'nothing was written');
  assert.deepEqual(attacker.requests, [], 'nothing was sent to the attacker');
});

test(
  'together end to end through finetune/submit: states, one remote job per idempotency key, a version with lineage',
  { timeout: 120_000 },
  async () => {
    const remote = tg;
    const spec = { dataset: ds, modelName: 'hosted-tg', provider: 'together' as const, idempotencyKey: 'tg-1' };
    // No baseURL: the server's configured endpoint for together.
    const hosted = { remoteModel: 'meta-llama/Llama-3-8b', pollMs: 100 };
    const submitted = await call(finetuneSubmit, { ...spec, hosted });
    assert.equal(submitted.provider, 'together');
    assert.deepEqual(submitted.remote, {
      baseURL: remote.url,
      apiKeyEnv: 'ORCH_KEY_TOGETHER',
      remoteModel: 'meta-llama/Llama-3-8b',
      pollMs: 100,
    });
    const again = await call(finetuneSubmit, { ...spec, hosted });
    assert.equal(again.id, submitted.id, 'the same idempotency key returns the same job');
    const job = await waitJob(submitted.id, ended, 60_000);
    assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
    assert.equal(creates(remote), 1, 'one remote job');
    assert.match(job.remote?.remoteJobId ?? '', /^job\d+$/);
    assert.equal(job.remote?.remoteState, 'completed');
    assert.match(job.remote?.fineTunedModel ?? '', /^ft:meta-llama\/Llama-3-8b:/);
    const states = [
      ...new Set(
        server.notifications
          .filter((n) => n.method === finetuneDidChange.method)
          .map((n) => n.params as FineTuneJobView)
          .filter((v) => v.id === job.id)
          .map((v) => v.state),
      ),
    ];
    assert.deepEqual(states, ['queued', 'validating', 'running', 'succeeded']);
    const v = (await call(modelGet, { name: 'hosted-tg' })).versions[0]!;
    assert.equal(v.lineage.provider, 'together');
    assert.deepEqual(v.lineage.remote, {
      baseURL: remote.url,
      remoteJobId: job.remote!.remoteJobId,
      fineTunedModel: job.remote!.fineTunedModel,
    });
    assert.equal(v.lineage.jobId, job.id);
    // A hosted version stays with its provider: the local evaluator and server refuse it clearly.
    const pause = await refused(finetunePause.method, { jobId: job.id });
    assert.equal(pause.code, errorCodes.invalidParams);
    assert.match(pause.message, /runs on together, which cannot pause/);
    keyNowhere();
  },
);

test(
  'a provider that fails fails the job with its message; a cancelled fireworks job calls the remote cancel',
  { timeout: 120_000 },
  async () => {
    const f = await call(finetuneSubmit, {
      dataset: ds,
      modelName: 'hosted-oa',
      provider: 'openai-compatible',
      // The configured endpoint may be named again (normalised: a trailing / is the same endpoint).
      hosted: { baseURL: `${failing.url}/`, remoteModel: 'gpt-4o-mini', pollMs: 100 },
    });
    const failed = await waitJob(f.id, ended, 60_000);
    assert.equal(failed.state, 'failed');
    assert.equal(failed.error?.reason, 'trainer_failed');
    assert.match(failed.error?.message ?? '', /openai-compatible job job\d+ failed: the dataset has too few rows/);
    assert.equal(failed.modelVersion, undefined);

    const c = await call(finetuneSubmit, {
      dataset: ds,
      modelName: 'hosted-fw',
      provider: 'fireworks',
      hosted: { remoteModel: 'accounts/fireworks/models/llama', accountId: 'acct', pollMs: 100 },
    });
    await waitJob(c.id, (j) => j.state === 'running', 60_000);
    const cancelled = await call(finetuneCancel, { jobId: c.id });
    assert.equal(cancelled.state, 'cancelled');
    assert.ok(
      hang.requests.some((q) => q.method === 'DELETE' && /\/v1\/accounts\/acct\/supervisedFineTuningJobs\/job\d+$/.test(q.path)),
      'the remote job was cancelled',
    );
    keyNowhere();
  },
);

test('a server killed mid-job resumes polling the same remote job at its next start', { timeout: 180_000 }, async () => {
  const remote = tg;
  const createsBefore = creates(remote);
  const j = await call(finetuneSubmit, {
    dataset: ds,
    modelName: 'hosted-restart',
    provider: 'together',
    hosted: { remoteModel: 'm', pollMs: 300 },
    idempotencyKey: 'restart-1',
  });
  await waitJob(j.id, (x) => x.state === 'running' && !!x.remote?.remoteJobId, 60_000);
  const stored = JSON.parse(readFileSync(path.join(dataDir, 'store.json'), 'utf8')) as { fineTuneJobs: FineTuneJobView[] };
  assert.ok(stored.fineTuneJobs.find((x) => x.id === j.id)?.remote?.remoteJobId, 'the remote job id was persisted');
  server.child.kill('SIGKILL');
  await new Promise((r) => server.child.once('exit', r));
  server.connection.dispose();
  stopped.push(server);
  server = await startServer(dataDir, {}, { env });
  const done = await waitJob(j.id, ended, 120_000);
  assert.equal(done.state, 'succeeded', JSON.stringify(done.error));
  assert.equal(creates(remote) - createsBefore, 1, 'no second remote job');
  const again = await call(finetuneSubmit, {
    dataset: ds,
    modelName: 'hosted-restart',
    provider: 'together',
    hosted: { remoteModel: 'm' },
    idempotencyKey: 'restart-1',
  });
  assert.equal(again.id, j.id);
  assert.equal(creates(remote) - createsBefore, 1, 'the idempotency key still returns the job after the restart');
  assert.equal((await call(modelGet, { name: 'hosted-restart' })).versions[0]!.lineage.remote?.remoteJobId, done.remote?.remoteJobId);
  keyNowhere();
});

test(
  'a job whose endpoint is no longer the configured one fails at the next start and its key is not sent',
  { timeout: 180_000 },
  async () => {
    const j = await call(finetuneSubmit, {
      dataset: ds,
      modelName: 'hosted-moved',
      provider: 'together',
      hosted: { remoteModel: 'm', pollMs: 300 },
      idempotencyKey: 'moved-1',
    });
    await waitJob(j.id, (x) => x.state === 'running' && !!x.remote?.remoteJobId, 60_000);
    server.child.kill('SIGKILL');
    await new Promise((r) => server.child.once('exit', r));
    server.connection.dispose();
    stopped.push(server);
    const sentBefore = tg.requests.length;
    // The operator moved together's endpoint: the stored job's endpoint is not it any more.
    const moved = await stand({ apiKey: key });
    server = await startServer(dataDir, {}, { env: { ...env, ORCH_FT_TOGETHER_URL: moved.url } });
    const done = await waitJob(j.id, ended, 60_000);
    assert.equal(done.state, 'failed');
    assert.equal(done.error?.reason, 'trainer_failed');
    assert.match(
      done.error?.message ?? '',
      /^the job's endpoint http:\/\/127\.0\.0\.1:\d+\/v1 is not the one this server configures for together \(ORCH_FT_TOGETHER_URL\); its key is not sent there$/,
    );
    assert.equal(tg.requests.length, sentBefore, 'nothing was sent to the old endpoint');
    assert.deepEqual(moved.requests, [], 'nor to the new one');
    keyNowhere();
  },
);

test(
  'pause and resume a real local LoRA job: the trainer stops where it is, the pause does not count against the deadline; cancel from paused',
  { timeout: 300_000 },
  async () => {
    const t0 = Date.now();
    const j = await call(finetuneSubmit, {
      dataset: ds,
      modelName: 'paused-tiny',
      hyperparameters: { steps: 10_000, evalEvery: 10_000, batchSize: 2 },
    });
    const running = await waitJob(j.id, (x) => (x.state === 'running' && x.progress.step >= 2) || ended(x), 120_000);
    assert.equal(running.state, 'running', JSON.stringify(running.error));
    const paused = await call(finetunePause, { jobId: j.id });
    assert.equal(paused.state, 'paused');
    assert.equal(trainer(running)?.state, 'T', 'the trainer process is stopped');
    const stepAt = (await call(finetuneGet, { jobId: j.id })).progress.step;
    // Paused past the trainer's deadline (60 s of running time) by wall clock.
    const pauseMs = Math.max(3000, trainDeadlineMs - (Date.now() - t0) + 4000);
    await new Promise((r) => setTimeout(r, pauseMs));
    const still = await call(finetuneGet, { jobId: j.id });
    assert.equal(still.state, 'paused');
    assert.ok(still.progress.step <= stepAt + 1, `no steps while paused (${stepAt} → ${still.progress.step})`);
    assert.equal((await refused(finetunePause.method, { jobId: j.id })).code, errorCodes.conflict, 'a paused job cannot pause again');
    const resumed = await call(finetuneResume, { jobId: j.id });
    assert.equal(resumed.state, 'running');
    assert.ok((resumed.pausedMs ?? 0) >= pauseMs - 500, `the paused time is recorded (${resumed.pausedMs})`);
    const moved = await waitJob(j.id, (x) => x.progress.step > still.progress.step + 3 || ended(x), 60_000);
    assert.equal(
      moved.state,
      'running',
      `the job runs on after the pause (wall time ${Date.now() - t0} ms > deadline ${trainDeadlineMs} ms): ${JSON.stringify(moved.error)}`,
    );
    assert.notEqual(trainer(running)?.state, 'T');
    await call(finetunePause, { jobId: j.id });
    const cancelled = await call(finetuneCancel, { jobId: j.id }, 30_000);
    assert.equal(cancelled.state, 'cancelled');
    const end = Date.now() + 15_000;
    while (trainer(running) && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
    assert.equal(trainer(running), undefined, 'the paused trainer was stopped on cancel');
    assert.equal((await refused(finetuneResume.method, { jobId: j.id })).code, errorCodes.conflict);
  },
);

test('evaluate: true evaluates the version a local job registered and stores the scores on it', { timeout: 600_000 }, async () => {
  const j = await call(finetuneSubmit, {
    dataset: ds,
    modelName: 'auto-eval',
    evaluate: true,
    hyperparameters: { steps: 20, evalEvery: 10 },
  });
  assert.equal(j.evaluate, true);
  const done = await waitJob(
    j.id,
    (x) => x.evaluation?.state === 'succeeded' || x.evaluation?.state === 'failed' || ['failed', 'cancelled'].includes(x.state),
    540_000,
  );
  assert.equal(done.state, 'succeeded', JSON.stringify(done.error));
  assert.deepEqual(done.evaluation, { state: 'succeeded' });
  const v = (await call(modelGet, { name: 'auto-eval' })).versions.find((x) => x.version === done.modelVersion)!;
  assert.ok(v.evaluation, 'the scores are stored on the version');
  assert.ok(Number.isFinite(v.evaluation.candidate.validationLoss) && Number.isFinite(v.evaluation.base.validationLoss));
  const states = server.notifications
    .filter((n) => n.method === finetuneDidChange.method)
    .map((n) => n.params as FineTuneJobView)
    .filter((x) => x.id === j.id)
    .map((x) => x.evaluation?.state);
  assert.ok(states.includes('running'), 'the evaluation was announced while it ran');
});
