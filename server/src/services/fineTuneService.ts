/**
 * `finetune/*`: fine-tune jobs over curated dataset versions. `submit` checks everything before writing
 * (hyperparameters, the dataset version, every training row), then stores the job `queued` and runs it
 * when the trainer is free (one job at a time: training takes the CPU). Trainer events update the job's
 * progress (persisted at most every `persistEveryMs`, and at each validation); a successful run registers
 * the next version of the job's model with its lineage in the same store write that ends the job.
 * On start-up, jobs left queued or running by an earlier server are failed (`server_restart`).
 */
import path from 'node:path';
import type { BaseModel, FineTuneJobView, LoraHyperparametersInput } from '../../../protocol/finetune';
import { DomainError } from '../domain/errors';
import {
  applyTrainerEvent,
  isEnded,
  resolveHyperparameters,
  transition,
  type FineTuneErrorReason,
  type FineTuneJob,
  type TrainerEvent,
} from '../domain/finetune/job';
import { addVersion, newModel } from '../domain/finetune/registry';
import { checkTrainingRows } from '../domain/finetune/trainingRows';
import { localTenantId } from '../domain/storeSchema';
import type { DatasetFolderPort } from '../ports/datasetTools';
import type { Logger } from '../ports/logger';
import type { StorePort } from '../ports/store';
import type { TrainerPort, TrainingHandle, TrainingOutcome } from '../ports/trainer';
import type { DatasetSummary } from './datasetService';

export interface SubmitInput {
  dataset: string;
  modelName: string;
  provider?: 'local';
  baseModel?: BaseModel;
  hyperparameters?: LoraHyperparametersInput;
  idempotencyKey?: string;
}

export interface FineTuneServiceDeps {
  store: StorePort;
  datasets: { get(name: string): Promise<DatasetSummary | undefined> };
  folders: Pick<DatasetFolderPort, 'read'>;
  trainer: TrainerPort;
  /** `<dataDir>/finetune`: each job writes into `<outputRoot>/<jobId>/`. */
  outputRoot: string;
  now(): Date;
  newId(): string;
  publish(view: FineTuneJobView): void;
  logger: Logger;
  tenantId?: string;
  persistEveryMs?: number;
}

const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

export function fineTuneView(j: FineTuneJob): FineTuneJobView {
  const { tenantId: _t, idempotencyKey: _k, createdAt, startedAt, finishedAt, ...rest } = j;
  return {
    ...rest,
    createdAt: iso(createdAt)!,
    ...(startedAt !== undefined ? { startedAt: iso(startedAt) } : {}),
    ...(finishedAt !== undefined ? { finishedAt: iso(finishedAt) } : {}),
  };
}

export class FineTuneService {
  /** Live jobs' latest state (progress between persisted writes). */
  private readonly live = new Map<string, FineTuneJob>();
  private readonly handles = new Map<string, TrainingHandle>();
  private readonly cancelRequested = new Set<string>();
  private queue: Promise<void> = Promise.resolve();
  /** Each submitted job's run, settled once its end is recorded. */
  private readonly runs = new Map<string, Promise<void>>();

  constructor(private readonly deps: FineTuneServiceDeps) {}

  private get tenant(): string {
    return this.deps.tenantId ?? localTenantId;
  }
  private nowMs(): number {
    return this.deps.now().getTime();
  }

  /** Fails what an earlier server left queued or running; call once after the store loaded. */
  async recover(): Promise<number> {
    const stale = this.deps.store.read().fineTuneJobs.filter((j) => !isEnded(j.state));
    if (!stale.length) return 0;
    const now = this.nowMs();
    await this.deps.store.update((d) => {
      d.fineTuneJobs = d.fineTuneJobs.map((j) =>
        isEnded(j.state)
          ? j
          : transition(j, 'failed', now, {
              reason: 'server_restart',
              message: `the server stopped while the job was ${j.state}; submit it again`,
            }),
      );
    });
    this.deps.logger.warn(`fine-tune: ${stale.length} job(s) left unfinished by an earlier server were marked failed (server_restart)`);
    return stale.length;
  }

  list(): FineTuneJobView[] {
    return this.deps.store
      .read()
      .fineTuneJobs.filter((j) => j.tenantId === this.tenant)
      .map((j) => this.live.get(j.id) ?? j)
      .sort((a, b) => b.createdAt - a.createdAt || b.id.localeCompare(a.id))
      .map(fineTuneView);
  }

  get(jobId: string): FineTuneJobView {
    return fineTuneView(this.job(jobId));
  }

  async submit(input: SubmitInput): Promise<FineTuneJobView> {
    if (input.idempotencyKey) {
      const same = this.deps.store.read().fineTuneJobs.find((j) => j.tenantId === this.tenant && j.idempotencyKey === input.idempotencyKey);
      if (same) return fineTuneView(this.live.get(same.id) ?? same);
    }
    const hyperparameters = resolveHyperparameters(input.hyperparameters);
    const ds = await this.deps.datasets.get(input.dataset);
    if (!ds) throw new DomainError('not_found', `dataset: no dataset named ${JSON.stringify(input.dataset)}`, { field: 'dataset' });
    if (!ds.formats.includes('openai'))
      throw new DomainError('bad_input', `dataset: ${input.dataset} was created without the openai format the local trainer reads`, {
        field: 'dataset',
      });
    const rows = async (file: string): Promise<number> => {
      const text = await this.deps.folders.read(input.dataset, `openai/${file}`);
      if (text === undefined) throw new DomainError('bad_input', `dataset: ${input.dataset} has no openai/${file}`, { field: 'dataset' });
      return checkTrainingRows(text, `${input.dataset}/openai/${file}`);
    };
    const trainRows = await rows('train.jsonl');
    const validationRows = await rows('validation.jsonl');
    if (trainRows === 0) throw new DomainError('bad_input', `dataset: ${input.dataset} has no training examples`, { field: 'dataset' });
    const id = `ft-${this.deps.newId()}`;
    const job: FineTuneJob = {
      id,
      tenantId: this.tenant,
      state: 'queued',
      provider: 'local',
      modelName: input.modelName,
      baseModel: input.baseModel ?? 'tiny-llama',
      dataset: { name: ds.name, id: ds.id },
      hyperparameters,
      ...(input.idempotencyKey ? { idempotencyKey: input.idempotencyKey } : {}),
      progress: { step: 0, totalSteps: hyperparameters.steps },
      lossCurve: [],
      validationCurve: [],
      createdAt: this.nowMs(),
      outputDir: path.join(this.deps.outputRoot, id),
    };
    await this.deps.store.update((d) => {
      d.fineTuneJobs.push(job);
    });
    this.deps.publish(fineTuneView(job));
    const files = {
      trainFile: path.join(ds.folder, 'openai', 'train.jsonl'),
      ...(validationRows > 0 ? { validationFile: path.join(ds.folder, 'openai', 'validation.jsonl') } : {}),
    };
    const run = this.queue
      .then(() => this.run(id, files))
      .catch((e: unknown) => this.deps.logger.error(`fine-tune ${id}: ${String(e)}`))
      .finally(() => this.runs.delete(id));
    this.runs.set(id, run);
    this.queue = run;
    return fineTuneView(job);
  }

  async cancel(jobId: string): Promise<FineTuneJobView> {
    const j = this.job(jobId);
    if (isEnded(j.state)) throw new DomainError('conflict', `fine-tune job ${jobId} already ended (${j.state})`, { state: j.state });
    this.cancelRequested.add(jobId);
    const handle = this.handles.get(jobId);
    if (handle) {
      handle.cancel();
      // run() records the end once the trainer exited; wait for that write.
      await this.runs.get(jobId);
    } else {
      await this.end(jobId, 'cancelled', { reason: 'cancelled', message: 'cancelled before it started' });
    }
    return this.get(jobId);
  }

  /** Stops every running trainer (server exit); their jobs are failed by `recover` at the next start. */
  async dispose(): Promise<void> {
    await this.deps.trainer.dispose();
  }

  private job(jobId: string): FineTuneJob {
    const live = this.live.get(jobId);
    if (live) return live;
    const j = this.deps.store.read().fineTuneJobs.find((x) => x.id === jobId && x.tenantId === this.tenant);
    if (!j) throw new DomainError('not_found', `jobId: no fine-tune job ${JSON.stringify(jobId)}`, { field: 'jobId' });
    return j;
  }

  private async write(job: FineTuneJob): Promise<void> {
    await this.deps.store.update((d) => {
      const i = d.fineTuneJobs.findIndex((x) => x.id === job.id);
      if (i >= 0) d.fineTuneJobs[i] = job;
    });
  }

  private async end(jobId: string, to: 'cancelled' | 'failed', error: { reason: FineTuneErrorReason; message: string }): Promise<void> {
    const j = this.job(jobId);
    if (isEnded(j.state)) return;
    const ended = transition(j, to, this.nowMs(), error);
    await this.write(ended);
    this.live.delete(jobId);
    this.deps.publish(fineTuneView(ended));
  }

  private async run(jobId: string, files: { trainFile: string; validationFile?: string }): Promise<void> {
    const queued = this.job(jobId);
    if (isEnded(queued.state) || this.cancelRequested.has(jobId)) return;
    let job = transition(queued, 'running', this.nowMs());
    this.live.set(jobId, job);
    await this.write(job);
    this.deps.publish(fineTuneView(job));
    let lastPersist = Date.now();
    let persisting = Promise.resolve();
    const onEvent = (e: TrainerEvent) => {
      const current = this.live.get(jobId);
      if (!current) return;
      job = applyTrainerEvent(current, e);
      this.live.set(jobId, job);
      if (e.event === 'eval' || Date.now() - lastPersist >= (this.deps.persistEveryMs ?? 1000)) {
        lastPersist = Date.now();
        const snapshot = job;
        persisting = persisting
          .then(() => this.write(snapshot))
          .catch((err: unknown) => this.deps.logger.warn(`fine-tune ${jobId}: ${String(err)}`));
        this.deps.publish(fineTuneView(snapshot));
      }
    };
    const handle = this.deps.trainer.start(
      { jobId, ...files, outputDir: job.outputDir, baseModel: job.baseModel, hyperparameters: job.hyperparameters },
      onEvent,
    );
    this.handles.set(jobId, handle);
    if (this.cancelRequested.has(jobId)) handle.cancel();
    const outcome = await handle.outcome;
    this.handles.delete(jobId);
    await persisting;
    await this.finish(jobId, outcome);
  }

  private async finish(jobId: string, outcome: TrainingOutcome): Promise<void> {
    const j = this.job(jobId);
    const now = this.nowMs();
    if (outcome.kind === 'cancelled') return this.end(jobId, 'cancelled', { reason: 'cancelled', message: 'cancelled while training' });
    if (outcome.kind === 'failed') {
      this.deps.logger.warn(`fine-tune ${jobId} failed: ${outcome.message}`);
      return this.end(jobId, 'failed', { reason: outcome.reason, message: outcome.message });
    }
    const m = outcome.metrics;
    let ended: FineTuneJob | undefined;
    await this.deps.store.update((d) => {
      const i = d.models.findIndex((x) => x.name === j.modelName && x.tenantId === j.tenantId);
      const model = i >= 0 ? d.models[i]! : newModel(j.modelName, j.tenantId, now);
      const added = addVersion(model, {
        createdAt: now,
        lineage: { dataset: j.dataset, jobId, baseModel: j.baseModel, provider: j.provider, hyperparameters: j.hyperparameters },
        metrics: {
          firstLoss: m.firstLoss,
          finalLoss: m.finalLoss,
          steps: m.steps,
          ...(typeof m.validationLoss === 'number' ? { validationLoss: m.validationLoss } : {}),
          ...(typeof m.initialValidationLoss === 'number' ? { initialValidationLoss: m.initialValidationLoss } : {}),
        },
        artifact: { adapterDir: outcome.adapterDir, baseDir: outcome.baseDir },
      });
      if (i >= 0) d.models[i] = added.model;
      else d.models.push(added.model);
      ended = { ...transition(j, 'succeeded', now), modelVersion: added.version, progress: { ...j.progress, firstLoss: m.firstLoss } };
      const k = d.fineTuneJobs.findIndex((x) => x.id === jobId);
      if (k >= 0) d.fineTuneJobs[k] = ended;
    });
    this.live.delete(jobId);
    if (ended) this.deps.publish(fineTuneView(ended));
  }
}
