import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { defaultHyperparameters } from '../../domain/finetune/job';
import type { TrainingSpec } from '../../ports/trainer';
import { LocalTrainer, writeTrainerConfigs } from './localTrainer';

const row = JSON.stringify({
  messages: [
    { role: 'user', content: 'hi' },
    { role: 'assistant', content: 'hello' },
  ],
});

function fixture(): TrainingSpec {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'local-ft-'));
  writeFileSync(path.join(dir, 'train.jsonl'), `${row}\n${row}\n\n`);
  return {
    jobId: 'ft-1',
    trainFile: path.join(dir, 'train.jsonl'),
    outputDir: path.join(dir, 'out'),
    baseModel: 'tiny-llama',
    hyperparameters: defaultHyperparameters,
  };
}

test('a local job writes axolotl, mlx-lm and unsloth configs of the same run next to its trainer config', async () => {
  const spec = fixture();
  // A real process standing in for the Python trainer: node runs a script that reports its metrics.
  const script = path.join(path.dirname(spec.trainFile), 'fake_train.js');
  writeFileSync(script, `console.log(JSON.stringify({ event: 'done', metrics: { steps: 1, firstLoss: 2, finalLoss: 1 } }));\n`);
  const outcome = await new LocalTrainer({ python: process.execPath, script, deadlineMs: 20_000 }).start(spec, () => undefined).outcome;
  assert.equal(outcome.kind, 'succeeded', JSON.stringify(outcome));
  const dir = path.join(spec.outputDir, 'trainer-configs');
  const axolotl = readFileSync(path.join(dir, 'axolotl.yaml'), 'utf8');
  assert.match(axolotl, new RegExp(`^base_model: ${path.join(spec.outputDir, 'base')}$`, 'm'));
  assert.match(axolotl, /^adapter: lora$/m);
  assert.match(axolotl, new RegExp(`^num_epochs: ${(defaultHyperparameters.steps * defaultHyperparameters.batchSize) / 2}$`, 'm'));
  assert.match(readFileSync(path.join(dir, 'mlx-lm-lora.yaml'), 'utf8'), /^ {2}rank: 8$/m);
  assert.ok(existsSync(path.join(dir, 'unsloth_train.py')));
  assert.ok(existsSync(path.join(spec.outputDir, 'train-config.json')));
});

test('a run those trainers cannot take writes no configs and does not throw', () => {
  const spec = fixture();
  assert.equal(writeTrainerConfigs({ ...spec, hyperparameters: { ...defaultHyperparameters, learningRate: 5 } }), undefined);
  assert.equal(existsSync(path.join(spec.outputDir, 'trainer-configs')), false);
  assert.equal(writeTrainerConfigs({ ...spec, trainFile: path.join(spec.outputDir, 'missing.jsonl') }), undefined);
});
