/**
 * Trainer configs from one spec: axolotl YAML, mlx-lm LoRA YAML and an unsloth Python script, all from the
 * same `TrainerConfigSpec` (base model, lora|qlora, rank, alpha, dropout, target modules, sequence length,
 * epochs, learning rate, dataset paths). `checkTrainerConfigSpec` refuses a bad spec with a field-named
 * `bad_input`. Pure: a tiny YAML emitter (block maps and lists of scalars/maps), no I/O.
 * Keys follow axolotl's config reference (docs/config.qmd) and mlx-lm's `mlx_lm/examples/lora_config.yaml`.
 */
import type { LoraHyperparameters } from '../../../../protocol/finetune';
import { DomainError } from '../errors';

export type AdapterMethod = 'lora' | 'qlora';

export interface TrainerConfigSpec {
  /** Hugging Face id or local path of the base model. */
  baseModel: string;
  method: AdapterMethod;
  /** Weight bits the base model is loaded with: qlora needs 4; lora takes 8 or 16 (default: 4 for qlora, 16 for lora). */
  loadBits?: 4 | 8 | 16;
  rank: number;
  alpha: number;
  dropout: number;
  targetModules: string[];
  sequenceLength: number;
  epochs: number;
  learningRate: number;
  /** Per-device batch size (default 2). */
  batchSize?: number;
  /** Training examples in the train file: mlx-lm counts iterations, not epochs. */
  trainExamples: number;
  /** OpenAI chat JSONL (absolute). mlx-lm reads the folder: `train.jsonl` and `valid.jsonl` beside it. */
  trainFile: string;
  validationFile?: string;
  outputDir: string;
  seed?: number;
}

export interface TrainerConfigFiles {
  'axolotl.yaml': string;
  'mlx-lm-lora.yaml': string;
  'unsloth_train.py': string;
}

const bad = (field: string, msg: string): never => {
  throw new DomainError('bad_input', `trainerConfig.${field}: ${msg}`, { field: `trainerConfig.${field}` });
};
const isInt = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n);
const isNum = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n);
const moduleName = /^[A-Za-z_][A-Za-z0-9_.]*$/;

/** The spec with defaults filled in, or a `bad_input` naming the first wrong field. */
export function checkTrainerConfigSpec(spec: TrainerConfigSpec): Required<Omit<TrainerConfigSpec, 'validationFile'>> & {
  validationFile?: string;
} {
  if (typeof spec.baseModel !== 'string' || !spec.baseModel.trim()) bad('baseModel', 'must be a non-empty model id or path');
  if (spec.method !== 'lora' && spec.method !== 'qlora') bad('method', `${JSON.stringify(spec.method)} is not lora or qlora`);
  const loadBits = spec.loadBits ?? (spec.method === 'qlora' ? 4 : 16);
  if (![4, 8, 16].includes(loadBits)) bad('loadBits', `${String(loadBits)} is not 4, 8 or 16`);
  if (spec.method === 'qlora' && loadBits !== 4) bad('loadBits', `qlora trains a 4-bit base model; ${loadBits} bits is not 4`);
  if (spec.method === 'lora' && loadBits === 4) bad('loadBits', 'a 4-bit base model is qlora; set method to qlora');
  if (!isInt(spec.rank) || spec.rank <= 0) bad('rank', `${String(spec.rank)} must be a whole number above 0`);
  if (!isNum(spec.alpha) || spec.alpha <= 0) bad('alpha', `${String(spec.alpha)} must be a number above 0`);
  if (!isNum(spec.dropout) || spec.dropout < 0 || spec.dropout >= 1)
    bad('dropout', `${String(spec.dropout)} must be at least 0 and below 1`);
  if (!Array.isArray(spec.targetModules) || !spec.targetModules.length) bad('targetModules', 'name at least one module');
  for (const m of spec.targetModules)
    if (typeof m !== 'string' || !moduleName.test(m)) bad('targetModules', `${JSON.stringify(m)} is not a module name`);
  if (new Set(spec.targetModules).size !== spec.targetModules.length) bad('targetModules', 'a module is named twice');
  if (!isInt(spec.sequenceLength) || spec.sequenceLength < 16)
    bad('sequenceLength', `${String(spec.sequenceLength)} must be a whole number of at least 16`);
  if (!isNum(spec.epochs) || spec.epochs <= 0) bad('epochs', `${String(spec.epochs)} must be a number above 0`);
  if (!isNum(spec.learningRate) || spec.learningRate <= 0 || spec.learningRate > 1)
    bad('learningRate', `${String(spec.learningRate)} must be above 0 and at most 1`);
  const batchSize = spec.batchSize ?? 2;
  if (!isInt(batchSize) || batchSize <= 0) bad('batchSize', `${String(batchSize)} must be a whole number above 0`);
  if (!isInt(spec.trainExamples) || spec.trainExamples <= 0)
    bad('trainExamples', `${String(spec.trainExamples)} must be a whole number above 0`);
  for (const f of ['trainFile', 'outputDir'] as const)
    if (typeof spec[f] !== 'string' || !spec[f].startsWith('/')) bad(f, `${JSON.stringify(spec[f])} must be an absolute path`);
  if (!spec.trainFile.endsWith('.jsonl')) bad('trainFile', `${spec.trainFile} must be a .jsonl file`);
  if (spec.validationFile !== undefined && (typeof spec.validationFile !== 'string' || !spec.validationFile.startsWith('/')))
    bad('validationFile', `${JSON.stringify(spec.validationFile)} must be an absolute path`);
  const seed = spec.seed ?? 0;
  if (!isInt(seed) || seed < 0) bad('seed', `${String(seed)} must be a whole number of at least 0`);
  return { ...spec, loadBits, batchSize, seed };
}

// ---- a tiny YAML emitter ----

type Yaml = string | number | boolean | null | Yaml[] | { [k: string]: Yaml };

const plainSafe = /^[A-Za-z_/][A-Za-z0-9_./-]*$/;
const reserved = /^(true|false|yes|no|on|off|null|~)$/i;

function scalar(v: string | number | boolean | null): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(v).includes('e') ? v.toExponential() : String(v);
  return plainSafe.test(v) && !reserved.test(v) ? v : JSON.stringify(v);
}

function emit(v: Yaml, indent: string): string[] {
  if (Array.isArray(v))
    return v.flatMap((item) => {
      if (item !== null && typeof item === 'object') {
        const [first, ...rest] = emit(item, `${indent}  `);
        return [`${indent}- ${first!.trimStart()}`, ...rest];
      }
      return [`${indent}- ${scalar(item)}`];
    });
  if (v !== null && typeof v === 'object')
    return Object.entries(v).flatMap(([k, x]) =>
      x !== null && typeof x === 'object' && (!Array.isArray(x) || x.length)
        ? [`${indent}${k}:`, ...emit(x, Array.isArray(x) ? indent : `${indent}  `)]
        : [`${indent}${k}: ${Array.isArray(x) ? '[]' : scalar(x)}`],
    );
  return [`${indent}${scalar(v)}`];
}

export const toYaml = (doc: Record<string, Yaml>): string => `${emit(doc, '').join('\n')}\n`;

// ---- the emitters ----

const dirOf = (p: string): string => p.slice(0, p.lastIndexOf('/')) || '/';

/** axolotl: adapter lora|qlora, lora_* keys, chat_template datasets over the OpenAI `messages` field. */
export function axolotlConfig(input: TrainerConfigSpec): string {
  const s = checkTrainerConfigSpec(input);
  const ds = (path: string): Yaml => ({
    path,
    ds_type: 'json',
    type: 'chat_template',
    field_messages: 'messages',
    roles_to_train: ['assistant'],
  });
  return toYaml({
    base_model: s.baseModel,
    load_in_4bit: s.loadBits === 4,
    load_in_8bit: s.loadBits === 8,
    adapter: s.method,
    lora_r: s.rank,
    lora_alpha: s.alpha,
    lora_dropout: s.dropout,
    lora_target_modules: s.targetModules,
    sequence_len: s.sequenceLength,
    sample_packing: false,
    datasets: [ds(s.trainFile)],
    ...(s.validationFile
      ? { test_datasets: [{ ...(ds(s.validationFile) as Record<string, Yaml>), split: 'train' }] }
      : { val_set_size: 0 }),
    num_epochs: s.epochs,
    learning_rate: s.learningRate,
    micro_batch_size: s.batchSize,
    gradient_accumulation_steps: 1,
    optimizer: s.method === 'qlora' ? 'paged_adamw_8bit' : 'adamw_torch',
    lr_scheduler: 'cosine',
    train_on_inputs: false,
    bf16: 'auto',
    seed: s.seed,
    output_dir: `${s.outputDir}/axolotl`,
  });
}

/** mlx-lm's layer paths for the common projection names (`q_proj` → `self_attn.q_proj`). */
export function mlxKey(module: string): string {
  if (module.includes('.')) return module;
  if (/^[qkvo]_proj$/.test(module)) return `self_attn.${module}`;
  if (/^(gate|up|down)_proj$/.test(module)) return `mlp.${module}`;
  return module;
}

/** Iterations mlx-lm runs for `epochs` passes over `trainExamples` at `batchSize`. */
export const mlxIters = (epochs: number, trainExamples: number, batchSize: number): number =>
  Math.max(1, Math.ceil((epochs * trainExamples) / batchSize));

/**
 * mlx-lm (`mlx_lm.lora -c FILE`): `data` is the folder holding train.jsonl / valid.jsonl; LoRA scale is
 * alpha/rank (mlx-lm multiplies the update by `scale`). qlora: mlx-lm trains QLoRA when the model is quantized,
 * so the base model must be a 4-bit MLX conversion (named in the comment).
 */
export function mlxLoraConfig(input: TrainerConfigSpec): string {
  const s = checkTrainerConfigSpec(input);
  const head = s.method === 'qlora' ? '# qlora: point model at a 4-bit MLX conversion (mlx_lm.convert -q --q-bits 4)\n' : '';
  return (
    head +
    toYaml({
      model: s.baseModel,
      train: true,
      fine_tune_type: 'lora',
      data: dirOf(s.trainFile),
      seed: s.seed,
      num_layers: -1,
      batch_size: s.batchSize,
      iters: mlxIters(s.epochs, s.trainExamples, s.batchSize),
      learning_rate: s.learningRate,
      max_seq_length: s.sequenceLength,
      adapter_path: `${s.outputDir}/mlx-adapter`,
      lora_parameters: {
        keys: s.targetModules.map(mlxKey),
        rank: s.rank,
        scale: s.alpha / s.rank,
        dropout: s.dropout,
      },
    })
  );
}

const py = (v: unknown): string => (typeof v === 'boolean' ? (v ? 'True' : 'False') : JSON.stringify(v));

/** unsloth: FastLanguageModel.from_pretrained → get_peft_model → TRL SFTTrainer(SFTConfig) → save adapter. */
export function unslothScript(input: TrainerConfigSpec): string {
  const s = checkTrainerConfigSpec(input);
  const files = s.validationFile ? `{"train": ${py(s.trainFile)}, "validation": ${py(s.validationFile)}}` : `{"train": ${py(s.trainFile)}}`;
  return `# Generated by Industrial Orchestrator from one TrainerConfigSpec; run in an environment with unsloth and trl.
from datasets import load_dataset
from trl import SFTConfig, SFTTrainer
from unsloth import FastLanguageModel

MAX_SEQ_LENGTH = ${s.sequenceLength}

model, tokenizer = FastLanguageModel.from_pretrained(
    model_name=${py(s.baseModel)},
    max_seq_length=MAX_SEQ_LENGTH,
    load_in_4bit=${py(s.loadBits === 4)},
    load_in_8bit=${py(s.loadBits === 8)},
)
model = FastLanguageModel.get_peft_model(
    model,
    r=${s.rank},
    lora_alpha=${s.alpha},
    lora_dropout=${s.dropout},
    target_modules=${py(s.targetModules)},
    use_gradient_checkpointing="unsloth",
    random_state=${s.seed},
)
data = load_dataset("json", data_files=${files})
def render(row):
    return {"text": tokenizer.apply_chat_template(row["messages"], tokenize=False)}
data = data.map(render)
trainer = SFTTrainer(
    model=model,
    tokenizer=tokenizer,
    train_dataset=data["train"],
    eval_dataset=data.get("validation"),
    args=SFTConfig(
        dataset_text_field="text",
        max_seq_length=MAX_SEQ_LENGTH,
        num_train_epochs=${s.epochs},
        learning_rate=${s.learningRate},
        per_device_train_batch_size=${s.batchSize},
        seed=${s.seed},
        output_dir=${py(`${s.outputDir}/unsloth`)},
    ),
)
trainer.train()
model.save_pretrained(${py(`${s.outputDir}/unsloth/adapter`)})
tokenizer.save_pretrained(${py(`${s.outputDir}/unsloth/adapter`)})
`;
}

/** All three files from one spec (checked once: a bad spec throws before anything is made). */
export function trainerConfigFiles(spec: TrainerConfigSpec): TrainerConfigFiles {
  checkTrainerConfigSpec(spec);
  return { 'axolotl.yaml': axolotlConfig(spec), 'mlx-lm-lora.yaml': mlxLoraConfig(spec), 'unsloth_train.py': unslothScript(spec) };
}

/**
 * The spec of a `local` job (steps → epochs over its train examples), so the job folder can carry the same run
 * as axolotl / mlx-lm / unsloth configs. `baseModel` is the folder the local trainer writes the base model to.
 */
export function configSpecForLocalJob(job: {
  baseModel: string;
  hyperparameters: LoraHyperparameters;
  trainFile: string;
  validationFile?: string;
  outputDir: string;
  trainExamples: number;
}): TrainerConfigSpec {
  const hp = job.hyperparameters;
  return {
    baseModel: job.baseModel,
    method: 'lora',
    rank: hp.rank,
    alpha: hp.alpha,
    dropout: hp.dropout,
    targetModules: hp.targetModules,
    sequenceLength: hp.maxSeqLength,
    epochs: Math.max(1, Math.round(((hp.steps * hp.batchSize) / Math.max(1, job.trainExamples)) * 100) / 100),
    learningRate: hp.learningRate,
    batchSize: hp.batchSize,
    trainExamples: job.trainExamples,
    trainFile: job.trainFile,
    ...(job.validationFile ? { validationFile: job.validationFile } : {}),
    outputDir: job.outputDir,
    seed: hp.seed,
  };
}
