import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DomainError } from '../errors';
import { defaultHyperparameters } from './job';
import {
  axolotlConfig,
  configSpecForLocalJob,
  mlxIters,
  mlxLoraConfig,
  toYaml,
  trainerConfigFiles,
  unslothScript,
  type TrainerConfigSpec,
} from './trainerConfigs';

const spec: TrainerConfigSpec = {
  baseModel: 'Qwen/Qwen2.5-0.5B-Instruct',
  method: 'qlora',
  rank: 16,
  alpha: 32,
  dropout: 0.05,
  targetModules: ['q_proj', 'v_proj', 'gate_proj'],
  sequenceLength: 2048,
  epochs: 3,
  learningRate: 0.0002,
  batchSize: 4,
  trainExamples: 10,
  trainFile: '/data/ds/openai/train.jsonl',
  validationFile: '/data/ds/openai/validation.jsonl',
  outputDir: '/data/finetune/ft-1',
};

test('axolotl YAML: every field where axolotl reads it (string-exact)', () => {
  assert.equal(
    axolotlConfig(spec),
    `base_model: Qwen/Qwen2.5-0.5B-Instruct
load_in_4bit: true
load_in_8bit: false
adapter: qlora
lora_r: 16
lora_alpha: 32
lora_dropout: 0.05
lora_target_modules:
- q_proj
- v_proj
- gate_proj
sequence_len: 2048
sample_packing: false
datasets:
- path: /data/ds/openai/train.jsonl
  ds_type: json
  type: chat_template
  field_messages: messages
  roles_to_train:
  - assistant
test_datasets:
- path: /data/ds/openai/validation.jsonl
  ds_type: json
  type: chat_template
  field_messages: messages
  roles_to_train:
  - assistant
  split: train
num_epochs: 3
learning_rate: 0.0002
micro_batch_size: 4
gradient_accumulation_steps: 1
optimizer: paged_adamw_8bit
lr_scheduler: cosine
train_on_inputs: false
bf16: auto
seed: 0
output_dir: /data/finetune/ft-1/axolotl
`,
  );
  const lora = axolotlConfig({ ...spec, method: 'lora', validationFile: undefined });
  assert.match(lora, /^load_in_4bit: false\nload_in_8bit: false\nadapter: lora$/m);
  assert.match(lora, /^val_set_size: 0$/m);
  assert.doesNotMatch(lora, /test_datasets/);
});

test('mlx-lm YAML: data folder, iters from epochs, lora_parameters with mlx key paths and scale = alpha/rank', () => {
  assert.equal(
    mlxLoraConfig({ ...spec, method: 'lora' }),
    `model: Qwen/Qwen2.5-0.5B-Instruct
train: true
fine_tune_type: lora
data: /data/ds/openai
seed: 0
num_layers: -1
batch_size: 4
iters: 8
learning_rate: 0.0002
max_seq_length: 2048
adapter_path: /data/finetune/ft-1/mlx-adapter
lora_parameters:
  keys:
  - self_attn.q_proj
  - self_attn.v_proj
  - mlp.gate_proj
  rank: 16
  scale: 2
  dropout: 0.05
`,
  );
  assert.match(mlxLoraConfig(spec), /^# qlora: point model at a 4-bit MLX conversion/);
  assert.equal(mlxIters(1, 5, 2), 3);
});

test('unsloth script carries the same spec', () => {
  const s = unslothScript(spec);
  for (const line of [
    'model_name="Qwen/Qwen2.5-0.5B-Instruct",',
    'MAX_SEQ_LENGTH = 2048',
    'load_in_4bit=True,',
    'r=16,',
    'lora_alpha=32,',
    'lora_dropout=0.05,',
    'target_modules=["q_proj","v_proj","gate_proj"],',
    'num_train_epochs=3,',
    'learning_rate=0.0002,',
    'per_device_train_batch_size=4,',
    'data = load_dataset("json", data_files={"train": "/data/ds/openai/train.jsonl", "validation": "/data/ds/openai/validation.jsonl"})',
  ])
    assert.ok(s.includes(line), `missing: ${line}`);
  assert.deepEqual(Object.keys(trainerConfigFiles(spec)).sort(), ['axolotl.yaml', 'mlx-lm-lora.yaml', 'unsloth_train.py']);
});

test('YAML scalars that would read as something else are quoted', () => {
  assert.equal(toYaml({ a: 'yes', b: 'has: colon', c: '', d: [], e: 1e-5 }), 'a: "yes"\nb: "has: colon"\nc: ""\nd: []\ne: 0.00001\n');
});

test('a bad spec is refused naming the field', () => {
  const refused = (patch: Partial<TrainerConfigSpec>, field: string, pattern: RegExp) =>
    assert.throws(
      () => trainerConfigFiles({ ...spec, ...patch }),
      (e: unknown) => DomainError.is(e, 'bad_input') && e.data?.field === `trainerConfig.${field}` && pattern.test(e.message),
    );
  refused({ loadBits: 8 }, 'loadBits', /qlora trains a 4-bit base model/);
  refused({ method: 'lora', loadBits: 4 }, 'loadBits', /set method to qlora/);
  refused({ method: 'dora' as never }, 'method', /not lora or qlora/);
  refused({ rank: 0 }, 'rank', /above 0/);
  refused({ rank: 2.5 }, 'rank', /whole number/);
  refused({ alpha: -1 }, 'alpha', /above 0/);
  refused({ dropout: 1 }, 'dropout', /below 1/);
  refused({ dropout: -0.1 }, 'dropout', /at least 0/);
  refused({ targetModules: [] }, 'targetModules', /at least one/);
  refused({ targetModules: ['q_proj', 'q_proj'] }, 'targetModules', /named twice/);
  refused({ targetModules: ['q proj'] }, 'targetModules', /not a module name/);
  refused({ sequenceLength: 8 }, 'sequenceLength', /at least 16/);
  refused({ epochs: 0 }, 'epochs', /above 0/);
  refused({ learningRate: 2 }, 'learningRate', /at most 1/);
  refused({ trainFile: 'rel/train.jsonl' }, 'trainFile', /absolute path/);
  refused({ baseModel: ' ' }, 'baseModel', /non-empty/);
  refused({ trainExamples: 0 }, 'trainExamples', /above 0/);
});

test('a local job maps onto the spec: steps become epochs over its examples, and the defaults pass the checks', () => {
  const s = configSpecForLocalJob({
    baseModel: '/d/ft-1/base',
    hyperparameters: defaultHyperparameters,
    trainFile: '/d/ds/openai/train.jsonl',
    outputDir: '/d/ft-1',
    trainExamples: 40,
  });
  assert.equal(s.epochs, (defaultHyperparameters.steps * defaultHyperparameters.batchSize) / 40);
  assert.equal(s.method, 'lora');
  assert.match(trainerConfigFiles(s)['axolotl.yaml'], /^lora_r: 8$/m);
});
