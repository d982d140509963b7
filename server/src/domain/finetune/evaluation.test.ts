import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EvaluationScores } from '../../../../protocol/model';
import { DomainError } from '../errors';
import { parseEvaluatorLine } from './evaluation';
import { defaultHyperparameters } from './job';
import {
  addVersion,
  championRefusal,
  newModel,
  promote,
  promotedVersions,
  setAlias,
  setEvaluation,
  type RegisteredModel,
} from './registry';

const scores = (validationLoss: number): EvaluationScores => ({
  validationLoss,
  perplexity: Math.exp(validationLoss),
  toolCalls: { turns: 2, generated: 2, valid: 1, exactMatches: 0, validity: 0.5, exactMatch: 0 },
});

const evaluation = (candidate: number, base = 6) => ({
  at: 5,
  dataset: { name: 'd', id: 'sha256:x' },
  examples: 2,
  candidate: scores(candidate),
  base: scores(base),
  seconds: 1,
});

function model(...trainerLosses: number[]): RegisteredModel {
  let m = newModel('m', 'local', 0);
  for (const validationLoss of trainerLosses)
    m = addVersion(m, {
      createdAt: 1,
      lineage: {
        dataset: { name: 'd', id: 'sha256:x' },
        jobId: 'ft',
        baseModel: 'tiny-llama',
        provider: 'local',
        hyperparameters: defaultHyperparameters,
      },
      metrics: { firstLoss: 6, finalLoss: 2, steps: 60, validationLoss },
      artifact: { adapterDir: '/a', baseDir: '/b' },
    }).model;
  return m;
}

test("the evaluator's done line is parsed; any other line or a bad shape is not a result", () => {
  const line = JSON.stringify({ event: 'done', scores: { examples: 2, turns: 2, candidate: scores(1.5), base: scores(6), seconds: 1.2 } });
  assert.deepEqual(parseEvaluatorLine(line), { examples: 2, candidate: scores(1.5), base: scores(6), seconds: 1.2 });
  assert.equal(parseEvaluatorLine('not json'), undefined);
  assert.equal(parseEvaluatorLine(JSON.stringify({ event: 'step' })), undefined);
  const nan = line.replace('"validationLoss":1.5', '"validationLoss":null');
  assert.equal(parseEvaluatorLine(nan), undefined, 'a loss that is not a finite number is refused');
  const over = JSON.stringify({
    event: 'done',
    scores: {
      examples: 2,
      turns: 2,
      candidate: { ...scores(1), toolCalls: { ...scores(1).toolCalls, validity: 2 } },
      base: scores(6),
      seconds: 1,
    },
  });
  assert.equal(parseEvaluatorLine(over), undefined, 'a rate above 1 is refused');
});

test('the champion rule compares evaluated losses when the versions were evaluated', () => {
  // By the trainer's numbers v2 (2.0) beats v1 (3.0); evaluated, v1 (1.0) beats v2 (2.5).
  let m = setAlias(model(3, 2), 'champion', 1, 10);
  assert.equal(championRefusal(m, 2), undefined);
  m = setEvaluation(setEvaluation(m, 1, evaluation(1)), 2, evaluation(2.5));
  assert.match(championRefusal(m, 2) ?? '', /version 2's validation loss 2\.5000 does not beat champion version 1's 1\.0000/);
  assert.throws(
    () => setAlias(m, 'champion', 2, 11),
    (e: unknown) => DomainError.is(e, 'conflict'),
  );
  assert.equal(setAlias(m, 'champion', 2, 11, { reason: 'ship it anyway' }).aliases.champion, 2);
});

test('promotion needs evaluation scores; a promoted version is served as finetuned/<name>-v<version>', () => {
  const m = model(3, 2);
  assert.throws(
    () => promote(m, 1, 7, 'http://127.0.0.1:1/v1'),
    (e: unknown) => DomainError.is(e, 'conflict') && /no evaluation scores; run model\/evaluate/.test(e.message),
  );
  assert.throws(
    () => promote(m, 9, 7, 'http://127.0.0.1:1/v1'),
    (e: unknown) => DomainError.is(e, 'not_found'),
  );
  assert.throws(
    () => setEvaluation(m, 9, evaluation(1)),
    (e: unknown) => DomainError.is(e, 'not_found'),
  );
  const p = promote(setEvaluation(m, 2, evaluation(1)), 2, 7, 'http://127.0.0.1:1/v1');
  assert.deepEqual(p.versions[1]!.promotion, { at: 7, model: 'finetuned/m-v2', baseURL: 'http://127.0.0.1:1/v1' });
  assert.equal(p.versions[0]!.promotion, undefined);
  assert.deepEqual(
    promotedVersions([p, m]).map((x) => x.model),
    ['finetuned/m-v2'],
  );
});
