/**
 * `finetune/*`: fine-tune jobs over curated dataset versions. `submit` checks everything before writing
 * (hyperparameters, the dataset version, every training row), then stores the job `queued` and runs it
 * when the trainer is free (one job at a time: training takes the CPU). Trainer events update the job's
 * progress (persisted at most every `persistEveryMs`, and at each validation); a successful run registers
 * the next version of the job's model with its lineage in the same store write that ends the job.
 * Hosted providers (`openai-compatible`, `together`, `fireworks`) run beside local jobs: `validating` while the
 * files are uploaded and the provider validates or queues them, then `running` as the provider says; the
 * remote job id is persisted as soon as it exists. On start-up, local jobs left queued or running by an
 * earlier server are failed (`server_restart`); hosted jobs whose remote job exists resume polling it.
 * Local jobs can pause (`paused`, the trainer stopped where it is) and resume; `evaluate: true` runs the
 * registry's evaluation on the version a local job registered.
 */
import path from 'node:path';
import type { BaseModel, FineTuneJobView, HostedSpecInput, LoraHyperparametersInput, RemoteJobInfo } from '../../../protocol/finetune';
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
import { checkProviderChoice, storedJobEndpoint, type HostedEndpoints } from '../domain/finetune/providerSpec';
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
  provider?: string;
  hosted?: HostedSpecInput;
  baseModel?: BaseModel;
  hyperparameters?: LoraHyperparametersInput;
  idempotencyKey?: string;
  evaluate?: boolean;
}

/** What a hosted trainer is built from (the key read from the environment just before). */
export interface HostedTrainerConfig {
  shape: 'openai-compatible' | 'together' | 'fireworks';
  baseURL: string;
  apiKey: string;
  accountId?: string;
  remoteModel: string;
  deadlineMs?: number;
  pollMs?: number;
}

export interface FineTuneServiceDeps {
  store: StorePort;
  datasets: { get(name: string): Promise<DatasetSummary | undefined> };
  folders: Pick<DatasetFolderPort, 'read'>;
  trainer: TrainerPort;
  /** Builds the trainer of one hosted job (absent: hosted providers are refused). */
  hostedTrainer?(config: HostedTrainerConfig): TrainerPort;
  /** A secret from the server's environment (`ORCH_KEY_*`); never logged, never stored. */
  secret?(name: string): string | undefined;
  /** The hosted endpoints the operator configured (`ORCH_FT_<PROVIDER>_URL`); a provider without one is refused. */
  hostedEndpoints?: HostedEndpoints;
  /** `evaluate: true`: the registry's evaluation of a registered version (late-bound: the registry is built after). */
  evaluate?(name: string, version: number): Promise<unknown>;
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
  const { tenantId: _t, idempotencyKey: _k, pausedAt: _p, createdAt, startedAt, finishedAt, ...rest } = j;
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
  /** Hosted jobs' trainers (stopped on dispose; the remote jobs keep running and are resumed at the next start). */
  private readonly hosted = new Set<TrainerPort>();
  private disposing = false;

  constructor(private readonly deps: FineTuneServiceDeps) {}

  private hostedConfig() {
    return { endpoints: this.deps.hostedEndpoints ?? {}, hasKey: (name: string) => !!this.deps.secret?.(name) };
  }

  private get tenant(): string {
    return this.deps.tenantId ?? localTenantId;
  }
  private nowMs(): number {
    return this.deps.now().getTime();
  }

  /**
   * Fails what an earlier server left queued, running or paused locally, and resumes polling hosted jobs whose
   * remote job exists; call once after the store loaded. Returns how many jobs were failed.
   */
  async recover(): Promise<number> {
    const open = this.deps.store
      .read()
      .fineTuneJobs.filter((j) => !isEnded(j.state) && (!this.deps.tenantId || j.tenantId === this.tenant));
    const resumable = open.filter((j) => j.provider !== 'local' && j.remote?.remoteJobId);
    const stale = open.filter((j) => !resumable.includes(j));
    if (stale.length) {
      const now = this.nowMs();
      const ids = new Set(stale.map((j) => j.id));
      await this.deps.store.update((d) => {
        d.fineTuneJobs = d.fineTuneJobs.map((j) =>
          ids.has(j.id)
            ? transition(j, 'failed', now, {
                reason: 'server_restart',
                message: `the server stopped while the job was ${j.state}; submit it again`,
              })
            : j,
        );
      });
      this.deps.logger.warn(`fine-tune: ${stale.length} job(s) left unfinished by an earlier server were marked failed (server_restart)`);
    }
    for (const j of resumable) {
      this.deps.logger.info(`fine-tune ${j.id}: resuming ${j.provider} job ${j.remote!.remoteJobId!}`);
      this.track(j.id, this.run(j.id, { trainFile: '' }));
    }
    return stale.length;
  }

  private track(jobId: string, run: Promise<void>): Promise<void> {
    const tracked = run
      .catch((e: unknown) => this.deps.logger.error(`fine-tune ${jobId}: ${String(e)}`))
      .finally(() => this.runs.delete(jobId));
    this.runs.set(jobId, tracked);
    return tracked;
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
    const choice = checkProviderChoice(input, this.hostedConfig());
    if (choice.provider !== 'local' && !this.deps.hostedTrainer)
      throw new DomainError('bad_input', `provider: this server cannot reach hosted providers`, { field: 'provider' });
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
      provider: choice.provider,
      modelName: input.modelName,
      baseModel: input.baseModel ?? 'tiny-llama',
      dataset: { name: ds.name, id: ds.id },
      hyperparameters,
      ...(choice.remote ? { remote: choice.remote } : {}),
      ...(input.evaluate ? { evaluate: true } : {}),
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
    // Hosted jobs do not take this machine's CPU: they run at once, beside the local queue.
    if (job.provider !== 'local') this.track(id, this.run(id, files));
    else
      this.queue = this.track(
        id,
        this.queue.then(() => this.run(id, files)),
      );
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

  /** `running → paused`: only trainers that can (local); hosted providers get a field-named `bad_input`. */
  async pause(jobId: string): Promise<FineTuneJobView> {
    const j = this.job(jobId);
    if (j.provider !== 'local')
      throw new DomainError('bad_input', `jobId: ${jobId} runs on ${j.provider}, which cannot pause a job (only local jobs can)`, {
        field: 'jobId',
        provider: j.provider,
      });
    if (j.state !== 'running')
      throw new DomainError('conflict', `fine-tune job ${jobId} is ${j.state}; only a running job can pause`, { state: j.state });
    const handle = this.handles.get(jobId);
    if (!handle?.pause?.())
      throw new DomainError('conflict', `fine-tune job ${jobId}: its trainer is not running (it may be ending)`, { state: j.state });
    return this.move(jobId, 'paused');
  }

  /** `paused → running`. */
  async resume(jobId: string): Promise<FineTuneJobView> {
    const j = this.job(jobId);
    if (j.state !== 'paused')
      throw new DomainError('conflict', `fine-tune job ${jobId} is ${j.state}; only a paused job can resume`, { state: j.state });
    this.handles.get(jobId)?.resume?.();
    return this.move(jobId, 'running');
  }

  private async move(jobId: string, to: 'paused' | 'running'): Promise<FineTuneJobView> {
    const moved = transition(this.job(jobId), to, this.nowMs());
    this.live.set(jobId, moved);
    await this.write(moved);
    this.deps.publish(fineTuneView(moved));
    return fineTuneView(moved);
  }

  /**
   * Stops every running trainer (server exit): local jobs are failed by `recover` at the next start; hosted
   * jobs' polling stops (the remote jobs keep running) and resumes at the next start.
   */
  async dispose(): Promise<void> {
    this.disposing = true;
    await Promise.all([this.deps.trainer.dispose(), ...[...this.hosted].map((t) => t.dispose())]);
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

  /** The job's trainer: the local one, or a hosted one built with the key read now (an error line if it cannot be). */
  private trainerFor(job: FineTuneJob): TrainerPort | string {
    const r = job.remote;
    if (job.provider === 'local' || !r) return this.deps.trainer;
    // Only the endpoint configured now gets the key (a job stored with another endpoint fails, nothing sent).
    const endpoint = storedJobEndpoint(job.provider, r.baseURL, this.hostedConfig());
    if (typeof endpoint === 'string') return endpoint;
    const apiKey = this.deps.secret?.(endpoint.apiKeyEnv);
    if (!apiKey || !this.deps.hostedTrainer) return `no key: the server's environment variable ${endpoint.apiKeyEnv} is not set`;
    // The remote job's deadline counts from its start, across restarts.
    const elapsed = job.startedAt !== undefined ? this.nowMs() - job.startedAt : 0;
    const trainer = this.deps.hostedTrainer({
      shape: job.provider,
      baseURL: endpoint.baseURL,
      apiKey,
      remoteModel: r.remoteModel,
      ...(r.accountId ? { accountId: r.accountId } : {}),
      deadlineMs: Math.max(1000, (r.deadlineMs ?? 6 * 3600_000) - elapsed),
      ...(r.pollMs !== undefined ? { pollMs: r.pollMs } : {}),
    });
    this.hosted.add(trainer);
    return trainer;
  }

  private async run(jobId: string, files: { trainFile: string; validationFile?: string }): Promise<void> {
    const before = this.job(jobId);
    if (isEnded(before.state) || this.cancelRequested.has(jobId)) return;
    let job = before.state === 'queued' ? transition(before, before.provider === 'local' ? 'running' : 'validating', this.nowMs()) : before;
    this.live.set(jobId, job);
    if (job !== before) {
      await this.write(job);
      this.deps.publish(fineTuneView(job));
    }
    const trainer = this.trainerFor(job);
    if (typeof trainer === 'string') return this.end(jobId, 'failed', { reason: 'trainer_failed', message: trainer });
    let lastPersist = Date.now();
    let persisting = Promise.resolve();
    const persist = (snapshot: FineTuneJob) => {
      lastPersist = Date.now();
      persisting = persisting
        .then(() => this.write(snapshot))
        .catch((err: unknown) => this.deps.logger.warn(`fine-tune ${jobId}: ${String(err)}`));
      this.deps.publish(fineTuneView(snapshot));
    };
    const onEvent = (e: TrainerEvent) => {
      const current = this.live.get(jobId);
      if (!current) return;
      if (e.event === 'remote') {
        // Persisted at once: a restart resumes polling this remote job instead of creating another.
        const remote: RemoteJobInfo = { ...current.remote!, remoteJobId: e.remoteJobId, remoteState: e.remoteState };
        let next: FineTuneJob = { ...current, remote };
        if (e.state === 'running' && next.state === 'validating') next = transition(next, 'running', this.nowMs());
        job = next;
        this.live.set(jobId, job);
        return persist(job);
      }
      job = applyTrainerEvent(current, e);
      this.live.set(jobId, job);
      if (e.event === 'eval' || Date.now() - lastPersist >= (this.deps.persistEveryMs ?? 1000)) persist(job);
    };
    const handle = trainer.start(
      {
        jobId,
        ...files,
        outputDir: job.outputDir,
        baseModel: job.baseModel,
        hyperparameters: job.hyperparameters,
        ...(job.remote?.remoteJobId ? { remoteJobId: job.remote.remoteJobId } : {}),
      },
      onEvent,
    );
    this.handles.set(jobId, handle);
    if (this.cancelRequested.has(jobId)) handle.cancel();
    const outcome = await handle.outcome;
    this.handles.delete(jobId);
    if (trainer !== this.deps.trainer) this.hosted.delete(trainer);
    await persisting;
    // Server exit: nothing is recorded (local jobs are failed by recover, hosted ones resumed).
    if (this.disposing) return;
    await this.finish(jobId, outcome);
    if (outcome.kind === 'succeeded') await this.autoEvaluate(jobId);
  }

  /** `evaluate: true`: the registry evaluates the registered version; the outcome is noted on the job. */
  private async autoEvaluate(jobId: string): Promise<void> {
    const j = this.job(jobId);
    if (!j.evaluate || j.state !== 'succeeded' || j.modelVersion === undefined || !this.deps.evaluate) return;
    const note = async (evaluation: FineTuneJob['evaluation']) => {
      const noted = { ...this.job(jobId), evaluation };
      await this.write(noted);
      this.deps.publish(fineTuneView(noted));
    };
    await note({ state: 'running' });
    try {
      await this.deps.evaluate(j.modelName, j.modelVersion);
      await note({ state: 'succeeded' });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.deps.logger.warn(`fine-tune ${jobId}: evaluation failed: ${message}`);
      await note({ state: 'failed', message });
    }
  }

  private async finish(jobId: string, outcome: TrainingOutcome): Promise<void> {
    const now = this.nowMs();
    // The trainer may end just as a pause was recorded: the job is running again for its end.
    const current = this.job(jobId);
    if (current.state === 'paused') this.live.set(jobId, transition(current, 'running', now));
    const j = this.job(jobId);
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
        lineage: {
          dataset: j.dataset,
          jobId,
          baseModel: j.baseModel,
          provider: j.provider,
          hyperparameters: j.hyperparameters,
          ...(j.remote?.remoteJobId && outcome.providerModelId
            ? { remote: { baseURL: j.remote.baseURL, remoteJobId: j.remote.remoteJobId, fineTunedModel: outcome.providerModelId } }
            : {}),
        },
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
      ended = {
        ...transition(j, 'succeeded', now),
        modelVersion: added.version,
        progress: { ...j.progress, firstLoss: m.firstLoss },
        ...(j.remote && outcome.providerModelId ? { remote: { ...j.remote, fineTunedModel: outcome.providerModelId } } : {}),
      };
      const k = d.fineTuneJobs.findIndex((x) => x.id === jobId);
      if (k >= 0) d.fineTuneJobs[k] = ended;
    });
    this.live.delete(jobId);
    if (ended) this.deps.publish(fineTuneView(ended));
  }
}
