/**
 * The `local` evaluator: `python server/python/eval_lora.py CONFIG.json` in the training venv (see
 * localTrainer.ts). Reads the result from its stdout's `done` line, keeps the last lines of stderr for the
 * error, enforces a wall-clock deadline (SIGTERM, SIGKILL after a grace period) and is killed on server exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseEvaluatorLine, type EvaluationResult } from '../../domain/finetune/evaluation';
import type { EvaluationOutcome, EvaluationSpec, EvaluatorPort } from '../../ports/evaluator';
import { defaultTrainingPython, trainerScript } from './localTrainer';
import { killChildren } from '../killChildren';

export interface LocalEvaluatorOptions {
  python?: string;
  script?: string;
  /** Wall-clock limit of one evaluation (default 10 min). */
  deadlineMs?: number;
  graceMs?: number;
}

/** A script beside the trainer's (dist/python/ or server/python/). */
export const pythonScript = (name: string): string => path.join(path.dirname(trainerScript()), name);

const tailLines = 12;

export class LocalEvaluator implements EvaluatorPort {
  private readonly live = new Set<ChildProcess>();
  constructor(private readonly opts: LocalEvaluatorOptions = {}) {}

  evaluate(spec: EvaluationSpec): Promise<EvaluationOutcome> {
    const python = this.opts.python ?? defaultTrainingPython();
    const script = this.opts.script ?? pythonScript('eval_lora.py');
    if (!existsSync(python))
      return Promise.resolve({
        kind: 'failed',
        reason: 'evaluator_failed',
        message: `the training environment is missing (${python}); create it with \`node tools/ensureTrainingEnv.mjs\``,
      });
    if (!existsSync(script))
      return Promise.resolve({ kind: 'failed', reason: 'evaluator_failed', message: `the evaluator script is missing (${script})` });
    mkdirSync(spec.workDir, { recursive: true });
    const config = path.join(spec.workDir, 'eval-config.json');
    writeFileSync(
      config,
      `${JSON.stringify({ validation: spec.validationFile, baseDir: spec.baseDir, adapterDir: spec.adapterDir, maxSeqLength: spec.maxSeqLength }, null, 2)}\n`,
    );
    const child = spawn(python, [script, config], {
      cwd: spec.workDir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PYTHONUNBUFFERED: '1', HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1' },
    });
    this.live.add(child);
    const stderr: string[] = [];
    let result: EvaluationResult | undefined;
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const deadlineMs = this.opts.deadlineMs ?? 10 * 60_000;
    const deadline = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), this.opts.graceMs ?? 5000);
    }, deadlineMs);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      result = parseEvaluatorLine(line) ?? result;
    });
    createInterface({ input: child.stderr! }).on('line', (line) => {
      stderr.push(line);
      if (stderr.length > tailLines) stderr.shift();
    });
    return new Promise<EvaluationOutcome>((resolve) => {
      const finish = (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => {
        clearTimeout(deadline);
        clearTimeout(killTimer);
        this.live.delete(child);
        if (timedOut)
          return resolve({
            kind: 'failed',
            reason: 'timeout',
            message: `the evaluator did not finish within ${deadlineMs} ms and was stopped`,
          });
        if (code === 0 && result) {
          writeFileSync(path.join(spec.workDir, 'scores.json'), `${JSON.stringify(result, null, 2)}\n`);
          return resolve({ kind: 'succeeded', result });
        }
        const errLine = [...stderr].reverse().find((l) => l.startsWith('error: '));
        const why = spawnError
          ? `could not start ${python}: ${spawnError.message}`
          : `the evaluator exited with ${signal ? `signal ${signal}` : `code ${code}`}${code === 0 ? ' without reporting its scores' : ''}`;
        resolve({
          kind: 'failed',
          reason: code === 2 ? 'bad_data' : 'evaluator_failed',
          message: errLine
            ? `${errLine.slice('error: '.length)} (${why})`
            : `${why}${stderr.length ? `\nstderr (last lines):\n${stderr.join('\n')}` : ''}`,
        });
      };
      child.once('error', (e) => finish(null, null, e));
      child.once('close', (code, signal) => finish(code, signal));
    });
  }

  async dispose(): Promise<void> {
    await killChildren([...this.live]);
  }
}
