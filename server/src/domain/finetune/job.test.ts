import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DomainError } from '../errors';
import {
  applyTrainerEvent,
  canTransition,
  defaultHyperparameters,
  parseTrainerLine,
  resolveHyperparameters,
  transition,
  type FineTuneJob,
} from './job';

const job = (): FineTuneJob => ({
  id: 'ft-1',
  tenantId: 'local',
  state: 'queued',
  provider: 'local',
  modelName: 'm',
  baseModel: 'tiny-llama',
  dataset: { name: 'd', id: 'sha256:x' },
  hyperparameters: defaultHyperparameters,
  progress: { step: 0, totalSteps: 60 },
  lossCurve: [],
  validationCurve: [],
  createdAt: 1,
  outputDir: '/out',
});

test('jobs go queued → running → an end, and ended jobs never change', () => {
  const running = transition(job(), 'running', 5);
  assert.equal(running.startedAt, 5);
  const done = transition(running, 'succeeded', 9);
  assert.equal(done.finishedAt, 9);
  for (const to of ['running', 'failed', 'cancelled', 'succeeded'] as const) assert.equal(canTransition('succeeded', to), false);
  assert.equal(canTransition('queued', 'succeeded'), false, 'a job cannot succeed without running');
  assert.throws(
    () => transition(done, 'failed', 10),
    (e: unknown) => DomainError.is(e, 'conflict'),
  );
  const failed = transition(running, 'failed', 7, { reason: 'server_restart', message: 'x' });
  assert.deepEqual(failed.error, { reason: 'server_restart', message: 'x' });
});

test('hyperparameters: defaults fill the gaps; cross-field mistakes name the field', () => {
  assert.deepEqual(resolveHyperparameters({ steps: 80 }), { ...defaultHyperparameters, steps: 80 });
  assert.throws(
    () => resolveHyperparameters({ steps: 5, evalEvery: 10 }),
    (e: unknown) => DomainError.is(e, 'bad_input') && e.data?.field === 'hyperparameters.evalEvery',
  );
  assert.throws(
    () => resolveHyperparameters({ targetModules: ['q_proj', 'q_proj'] }),
    (e: unknown) => DomainError.is(e, 'bad_input') && e.data?.field === 'hyperparameters.targetModules',
  );
});

test('trainer lines: only well-formed events are read', () => {
  assert.deepEqual(parseTrainerLine('{"event":"step","step":3,"loss":4.5}'), { event: 'step', step: 3, loss: 4.5 });
  assert.equal(parseTrainerLine('{"event":"step","step":3,"loss":"NaN"}'), undefined);
  assert.equal(parseTrainerLine('Writing model shards: 100%'), undefined);
  assert.equal(parseTrainerLine('{"event":"done","metrics":{"steps":2}}'), undefined);
  assert.equal(parseTrainerLine('{"event":"done","metrics":{"steps":2,"firstLoss":6,"finalLoss":2}}')?.event, 'done');
});

test('progress: steps build the loss curve and the first steps mean; evaluations the validation curve', () => {
  let j = job();
  j = applyTrainerEvent(j, { event: 'eval', step: 0, validationLoss: 6 });
  j = applyTrainerEvent(j, { event: 'step', step: 1, loss: 6 });
  j = applyTrainerEvent(j, { event: 'step', step: 2, loss: 4 });
  j = applyTrainerEvent(j, { event: 'step', step: 6, loss: 1 });
  j = applyTrainerEvent(j, { event: 'eval', step: 6, validationLoss: 3 });
  assert.deepEqual(j.progress, { step: 6, totalSteps: 60, loss: 1, firstLoss: 5, validationLoss: 3, initialValidationLoss: 6 });
  assert.deepEqual(j.lossCurve, [
    [1, 6],
    [2, 4],
    [6, 1],
  ]);
  assert.deepEqual(j.validationCurve, [
    [0, 6],
    [6, 3],
  ]);
});

test('pause: running ⇄ paused, cancel from paused; the paused time is added up and a resume keeps startedAt', () => {
  const running = transition(job(), 'running', 5);
  const paused = transition(running, 'paused', 10);
  assert.equal(paused.pausedAt, 10);
  const again = transition(paused, 'running', 40);
  assert.equal(again.startedAt, 5, 'resume is not a new start');
  assert.equal(again.pausedMs, 30);
  assert.equal(again.pausedAt, undefined);
  const paused2 = transition(again, 'paused', 50);
  const cancelled = transition(paused2, 'cancelled', 60, { reason: 'cancelled', message: 'x' });
  assert.equal(cancelled.pausedMs, 40);
  assert.equal(canTransition('queued', 'paused'), false, 'only a running job pauses');
  assert.equal(canTransition('paused', 'succeeded'), false);
});

test('hosted jobs: queued → validating → running → an end; validating can end at once', () => {
  const v = transition({ ...job(), provider: 'together' }, 'validating', 3);
  assert.equal(v.startedAt, 3);
  assert.equal(transition(v, 'running', 8).startedAt, 3);
  for (const to of ['succeeded', 'failed', 'cancelled'] as const) assert.equal(canTransition('validating', to), true);
  assert.equal(canTransition('validating', 'paused'), false);
});
