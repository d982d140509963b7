/**
 * The `local` trainer: `python server/python/train_lora.py CONFIG.json` in the training venv that
 * tools/ensureTrainingEnv.mjs makes (~/.cache/industrial-orchestrator/train-venv, or $ORCH_TRAIN_PYTHON).
 * Reads its stdout as JSON lines (step, loss, validation loss), keeps the last lines of stderr for the error,
 * enforces a deadline on its running time, and stops it with SIGTERM (SIGKILL after a grace period) on cancel,
 * deadline or server exit. Pause is SIGSTOP of the trainer process (it forks no workers: torch's threads stop
 * with it; memory, optimizer state and progress are kept, no checkpoint is written) and resume is SIGCONT.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseTrainerLine, type TrainerMetrics } from '../../domain/finetune/job';
import { configSpecForLocalJob, trainerConfigFiles } from '../../domain/finetune/trainerConfigs';
import type { TrainerPort, TrainingHandle, TrainingOutcome, TrainingSpec } from '../../ports/trainer';
import { killChildren } from '../killChildren';

export const defaultTrainingPython = (): string =>
  process.env.ORCH_TRAIN_PYTHON ?? path.join(os.homedir(), '.cache', 'industrial-orchestrator', 'train-venv', 'bin', 'python');

/** The trainer script: next to the bundle (dist/python/) or in the source tree (server/python/). */
export function trainerScript(): string {
  const candidates = [
    process.env.ORCH_TRAIN_SCRIPT,
    path.join(__dirname, 'python', 'train_lora.py'),
    path.join(__dirname, '..', '..', '..', 'python', 'train_lora.py'),
  ].filter((p): p is string => !!p);
  return candidates.find((p) => existsSync(p)) ?? candidates[candidates.length - 1]!;
}

export interface LocalTrainerOptions {
  python?: string;
  script?: string;
  /** Wall-clock limit of one job (default 30 min). */
  deadlineMs?: number;
  /** Between SIGTERM and SIGKILL (default 5 s). */
  graceMs?: number;
}

const tailLines = 12;

export class LocalTrainer implements TrainerPort {
  private readonly live = new Set<ChildProcess>();
  constructor(private readonly opts: LocalTrainerOptions = {}) {}

  start(spec: TrainingSpec, onEvent: Parameters<TrainerPort['start']>[1]): TrainingHandle {
    const python = this.opts.python ?? defaultTrainingPython();
    const script = this.opts.script ?? trainerScript();
    if (!existsSync(python))
      return done({
        kind: 'failed',
        reason: 'trainer_failed',
        message: `the training environment is missing (${python}); create it with \`node tools/ensureTrainingEnv.mjs\``,
      });
    if (!existsSync(script))
      return done({ kind: 'failed', reason: 'trainer_failed', message: `the trainer script is missing (${script})` });
    mkdirSync(spec.outputDir, { recursive: true });
    const config = path.join(spec.outputDir, 'train-config.json');
    writeFileSync(
      config,
      `${JSON.stringify(
        {
          train: spec.trainFile,
          validation: spec.validationFile,
          outputDir: spec.outputDir,
          baseModel: spec.baseModel,
          hyperparameters: spec.hyperparameters,
        },
        null,
        2,
      )}\n`,
    );
    writeTrainerConfigs(spec);
    const child = spawn(python, [script, config], {
      cwd: spec.outputDir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PYTHONUNBUFFERED: '1', HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1' },
    });
    this.live.add(child);
    const stderr: string[] = [];
    let metrics: TrainerMetrics | undefined;
    let stopped: 'cancelled' | 'timeout' | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    let paused = false;
    const alive = () => child.exitCode === null && child.signalCode === null;
    const stop = (why: 'cancelled' | 'timeout') => {
      if (stopped || !alive()) return;
      stopped = why;
      child.kill('SIGTERM');
      // A stopped process keeps SIGTERM pending until it runs again.
      if (paused) child.kill('SIGCONT');
      killTimer = setTimeout(() => child.kill('SIGKILL'), this.opts.graceMs ?? 5000);
    };
    const deadlineMs = this.opts.deadlineMs ?? 30 * 60_000;
    // The deadline counts running time only: a pause stops the clock (leftMs is what remains).
    let leftMs = deadlineMs;
    let armedAt = Date.now();
    let deadline = setTimeout(() => stop('timeout'), leftMs);
    const pause = (): boolean => {
      if (paused || stopped || !alive()) return false;
      if (!child.kill('SIGSTOP')) return false;
      paused = true;
      clearTimeout(deadline);
      leftMs -= Date.now() - armedAt;
      return true;
    };
    const resume = (): boolean => {
      if (!paused || !alive()) return false;
      paused = false;
      child.kill('SIGCONT');
      armedAt = Date.now();
      deadline = setTimeout(() => stop('timeout'), Math.max(0, leftMs));
      return true;
    };
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const e = parseTrainerLine(line);
      if (!e) return;
      if (e.event === 'done') metrics = e.metrics;
      onEvent(e);
    });
    createInterface({ input: child.stderr! }).on('line', (line) => {
      stderr.push(line);
      if (stderr.length > tailLines) stderr.shift();
    });
    const outcome = new Promise<TrainingOutcome>((resolve) => {
      const finish = (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => {
        clearTimeout(deadline);
        clearTimeout(killTimer);
        this.live.delete(child);
        if (stopped === 'cancelled') return resolve({ kind: 'cancelled' });
        if (stopped === 'timeout')
          return resolve({
            kind: 'failed',
            reason: 'timeout',
            message: `the trainer did not finish within ${deadlineMs} ms and was stopped`,
          });
        if (code === 0 && metrics)
          return resolve({
            kind: 'succeeded',
            metrics,
            adapterDir: path.join(spec.outputDir, 'adapter'),
            baseDir: path.join(spec.outputDir, 'base'),
          });
        const errLine = [...stderr].reverse().find((l) => l.startsWith('error: '));
        const why = spawnError
          ? `could not start ${python}: ${spawnError.message}`
          : `the trainer exited with ${signal ? `signal ${signal}` : `code ${code}`}${code === 0 ? ' without reporting its metrics' : ''}`;
        resolve({
          kind: 'failed',
          reason: 'trainer_failed',
          message: `${errLine ? `${errLine.slice('error: '.length)} (${why})` : why}${stderr.length ? `\nstderr (last lines):\n${stderr.join('\n')}` : ''}`,
        });
      };
      child.once('error', (e) => finish(null, null, e));
      child.once('close', (code, signal) => finish(code, signal));
    });
    return { outcome, cancel: () => stop('cancelled'), pause, resume };
  }

  async dispose(): Promise<void> {
    await killChildren([...this.live]);
  }
}

function done(outcome: TrainingOutcome): TrainingHandle {
  return { outcome: Promise.resolve(outcome), cancel: () => undefined };
}

/**
 * The same run as axolotl / mlx-lm / unsloth configs in `<outputDir>/trainer-configs/`, for running it
 * elsewhere. Best effort: a spec those trainers cannot take (or an unreadable file) is skipped, never failing the job.
 */
export function writeTrainerConfigs(spec: TrainingSpec): string | undefined {
  try {
    const trainExamples = readFileSync(spec.trainFile, 'utf8')
      .split('\n')
      .filter((l) => l.trim()).length;
    const files = trainerConfigFiles(
      configSpecForLocalJob({
        baseModel: path.join(spec.outputDir, 'base'),
        hyperparameters: spec.hyperparameters,
        trainFile: spec.trainFile,
        validationFile: spec.validationFile,
        outputDir: spec.outputDir,
        trainExamples,
      }),
    );
    const dir = path.join(spec.outputDir, 'trainer-configs');
    mkdirSync(dir, { recursive: true });
    for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
    return dir;
  } catch {
    return undefined;
  }
}
