/**
 * Fine-tune jobs: the state machine, hyperparameter defaults and the reading of trainer progress. Pure.
 * queued → (validating →) running → succeeded | failed | cancelled; running ⇄ paused (paused → cancelled |
 * failed); queued / validating → failed | cancelled. Ended jobs never change.
 */
import type {
  BaseModel,
  FineTuneProgress,
  FineTuneProvider,
  RemoteJobInfo,
  FineTuneState,
  LoraHyperparameters,
  LoraHyperparametersInput,
} from '../../../../protocol/finetune';
import { DomainError } from '../errors';

export type FineTuneErrorReason = 'trainer_failed' | 'timeout' | 'server_restart' | 'cancelled';

/** A job as stored (times in epoch ms). */
export interface FineTuneJob {
  id: string;
  tenantId: string;
  state: FineTuneState;
  provider: FineTuneProvider;
  modelName: string;
  baseModel: BaseModel;
  dataset: { name: string; id: string };
  hyperparameters: LoraHyperparameters;
  /** Hosted providers: where the job runs (the key is never stored: only its variable's name). */
  remote?: RemoteJobInfo;
  evaluate?: boolean;
  /** Total time paused; `pausedAt` while paused. */
  pausedMs?: number;
  pausedAt?: number;
  evaluation?: { state: 'running' | 'succeeded' | 'failed'; message?: string };
  idempotencyKey?: string;
  progress: FineTuneProgress;
  lossCurve: [number, number][];
  validationCurve: [number, number][];
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  modelVersion?: number;
  outputDir: string;
  error?: { reason: FineTuneErrorReason; message: string };
}

const transitions: Record<FineTuneState, readonly FineTuneState[]> = {
  queued: ['validating', 'running', 'failed', 'cancelled'],
  validating: ['running', 'succeeded', 'failed', 'cancelled'],
  running: ['paused', 'succeeded', 'failed', 'cancelled'],
  paused: ['running', 'failed', 'cancelled'],
  succeeded: [],
  failed: [],
  cancelled: [],
};

export const isEnded = (s: FineTuneState): boolean => transitions[s].length === 0;

export function canTransition(from: FineTuneState, to: FineTuneState): boolean {
  return transitions[from].includes(to);
}

/** The job moved to `to` at `now`; throws DomainError('conflict') for a move the machine does not allow. */
export function transition(
  job: FineTuneJob,
  to: FineTuneState,
  now: number,
  error?: { reason: FineTuneErrorReason; message: string },
): FineTuneJob {
  if (!canTransition(job.state, to)) throw new DomainError('conflict', `fine-tune job ${job.id} is ${job.state}; it cannot become ${to}`);
  const { pausedAt, ...rest } = job;
  const pausedMs = pausedAt !== undefined ? (job.pausedMs ?? 0) + Math.max(0, now - pausedAt) : job.pausedMs;
  return {
    ...rest,
    state: to,
    ...((to === 'running' || to === 'validating') && job.startedAt === undefined ? { startedAt: now } : {}),
    ...(to === 'paused' ? { pausedAt: now } : {}),
    ...(pausedMs !== undefined ? { pausedMs } : {}),
    ...(isEnded(to) ? { finishedAt: now } : {}),
    ...(error ? { error } : {}),
  };
}

/** Defaults that train the tiny local model to a clearly falling loss in seconds on one CPU thread. */
export const defaultHyperparameters: LoraHyperparameters = {
  rank: 8,
  alpha: 16,
  dropout: 0,
  targetModules: ['q_proj', 'v_proj'],
  learningRate: 0.03,
  steps: 60,
  batchSize: 16,
  maxSeqLength: 256,
  evalEvery: 10,
  seed: 0,
};

/** The full set: the input over the defaults; cross-field rules give a field-named `bad_input`. */
export function resolveHyperparameters(input: LoraHyperparametersInput = {}): LoraHyperparameters {
  const hp: LoraHyperparameters = { ...defaultHyperparameters, ...input };
  if (hp.evalEvery > hp.steps)
    throw new DomainError('bad_input', `hyperparameters.evalEvery: ${hp.evalEvery} is more than steps (${hp.steps})`, {
      field: 'hyperparameters.evalEvery',
    });
  if (new Set(hp.targetModules).size !== hp.targetModules.length)
    throw new DomainError('bad_input', 'hyperparameters.targetModules: a module is named twice', {
      field: 'hyperparameters.targetModules',
    });
  return hp;
}

/** One line of the trainer's stdout, as far as the job cares. */
export type TrainerEvent =
  | { event: 'start'; trainExamples: number; validationExamples: number }
  | { event: 'step'; step: number; loss: number }
  | { event: 'eval'; step: number; validationLoss: number }
  | { event: 'done'; metrics: TrainerMetrics }
  | { event: 'cancelled'; step: number }
  /** Hosted providers: the remote job exists (`remoteJobId`) and is in `state` (ours: queued/running…; theirs: `remoteState`). */
  | { event: 'remote'; remoteJobId: string; state: FineTuneState; remoteState: string };

export interface TrainerMetrics {
  steps: number;
  firstLoss: number;
  finalLoss: number;
  validationLoss?: number | null;
  initialValidationLoss?: number | null;
}

const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** A trainer stdout line → event, or undefined for anything else (never throws). */
export function parseTrainerLine(line: string): TrainerEvent | undefined {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!o || typeof o !== 'object') return undefined;
  const r = o as Record<string, unknown>;
  switch (r.event) {
    case 'start':
      return num(r.trainExamples) && num(r.validationExamples)
        ? { event: 'start', trainExamples: r.trainExamples, validationExamples: r.validationExamples }
        : undefined;
    case 'step':
      return num(r.step) && num(r.loss) ? { event: 'step', step: r.step, loss: r.loss } : undefined;
    case 'eval':
      return num(r.step) && num(r.validationLoss) ? { event: 'eval', step: r.step, validationLoss: r.validationLoss } : undefined;
    case 'cancelled':
      return num(r.step) ? { event: 'cancelled', step: r.step } : undefined;
    case 'done': {
      const m = r.metrics as Record<string, unknown> | undefined;
      return m && num(m.steps) && num(m.firstLoss) && num(m.finalLoss)
        ? { event: 'done', metrics: m as unknown as TrainerMetrics }
        : undefined;
    }
    default:
      return undefined;
  }
}

/** The job after a trainer event: progress and curves (pure; `done` and `cancelled` change only progress). */
export function applyTrainerEvent(job: FineTuneJob, e: TrainerEvent): FineTuneJob {
  const p = { ...job.progress };
  if (e.event === 'step') {
    p.step = e.step;
    p.loss = e.loss;
    if (e.step <= 5) {
      const firsts = [...job.lossCurve.filter(([s]) => s <= 5).map(([, l]) => l), e.loss];
      p.firstLoss = firsts.reduce((a, b) => a + b, 0) / firsts.length;
    }
    return { ...job, progress: p, lossCurve: [...job.lossCurve, [e.step, e.loss]] };
  }
  if (e.event === 'eval') {
    p.validationLoss = e.validationLoss;
    if (e.step === 0) p.initialValidationLoss = e.validationLoss;
    return { ...job, progress: p, validationCurve: [...job.validationCurve, [e.step, e.validationLoss]] };
  }
  return job;
}
