/**
 * Hosted fine-tune providers behind the trainer port: `openai-compatible` (files API + /fine_tuning/jobs),
 * `together` (/files + /fine-tunes) and `fireworks` (/accounts/{a}/datasets + supervisedFineTuningJobs).
 * Uploads the dataset's OpenAI chat JSONL, creates the job, polls it with backoff until a wall-clock deadline,
 * maps the provider's states onto ours, streams its events (loss lines become `step` events), cancels remotely
 * and settles with the provider's model id. The API key is sent only as `Authorization: Bearer`; every message
 * that leaves this module is redacted of it. The key comes from the `{env:NAME}` secret reference (resolveApiKey).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { TrainerMetrics } from '../../domain/finetune/job';
import { mapHostedState, redact, type HostedShape } from '../../domain/finetune/hostedStates';
import type { Logger } from '../../ports/logger';
import type { TrainerPort, TrainingHandle, TrainingOutcome, TrainingSpec } from '../../ports/trainer';

export interface HostedTrainerOptions {
  shape: HostedShape;
  /** The provider's API root including `/v1`, e.g. `https://api.together.xyz/v1`. */
  baseURL: string;
  /** The key itself (resolve `{env:NAME}` with resolveApiKey first). */
  apiKey: string;
  /** Fireworks account id (required for `fireworks`). */
  accountId?: string;
  /** The provider's id of the base model (default: the spec's baseModel). */
  remoteModel?: string;
  /** Wall-clock limit of one job, upload to end (default 6 h). */
  deadlineMs?: number;
  /** First poll interval (default 5 s), doubled after each unchanged poll up to maxPollMs (default 60 s). */
  pollMs?: number;
  maxPollMs?: number;
  /** One HTTP request's limit (default 30 s, never past the deadline). */
  requestTimeoutMs?: number;
  /** Provider event lines (already redacted). */
  onMessage?(jobId: string, level: string, message: string): void;
  logger?: Logger;
}

/** `{env:NAME}` → the variable's value; a literal is returned as is; a missing variable is a clear error. */
export function resolveApiKey(ref: string, env: NodeJS.ProcessEnv = process.env): string {
  const name = /^\{env:(.+)\}$/.exec(ref)?.[1];
  if (!name) return ref;
  const v = env[name];
  if (!v) throw new Error(`apiKey: the environment variable ${name} is not set`);
  return v;
}

class HostedError extends Error {
  constructor(
    message: string,
    readonly reason: 'trainer_failed' | 'timeout',
  ) {
    super(message);
  }
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });

type Json = Record<string, unknown>;
interface Remote {
  id: string;
  state: string;
  message?: string;
  model?: string;
}

export class HostedTrainer implements TrainerPort {
  /** Running jobs' stop functions (server exit stops polling; the remote job is left alone). */
  private readonly live = new Set<() => void>();
  constructor(private readonly opts: HostedTrainerOptions) {
    if (opts.shape === 'fireworks' && !opts.accountId) throw new Error('hosted trainer fireworks: accountId is required');
  }

  start(spec: TrainingSpec, onEvent: Parameters<TrainerPort['start']>[1]): TrainingHandle {
    const o = this.opts;
    const stop = new AbortController();
    let disposed = false;
    const halt = () => {
      disposed = true;
      stop.abort();
    };
    this.live.add(halt);
    const deadlineMs = o.deadlineMs ?? 6 * 3600_000;
    const deadlineAt = Date.now() + deadlineMs;
    const base = o.baseURL.replace(/\/+$/, '');
    const acct = `/accounts/${o.accountId ?? ''}`;
    let cancelRequested = false;
    let remoteId: string | undefined;
    const losses: [number, number][] = [];
    const seenEvents = new Set<string>();

    /** `pastDeadline`: the cancel sent when the deadline passed gets its own short limit. */
    const request = async (method: string, p: string, body?: Json | FormData, pastDeadline = false): Promise<Json> => {
      const left = pastDeadline ? Math.min(o.requestTimeoutMs ?? 30_000, 5000) : deadlineAt - Date.now();
      if (left <= 0) throw new HostedError(`the ${o.shape} job did not finish within ${deadlineMs} ms`, 'timeout');
      const url = `${base}${p}`;
      let res: Response;
      try {
        res = await fetch(url, {
          method,
          headers: {
            authorization: `Bearer ${o.apiKey}`,
            ...(body && !(body instanceof FormData) ? { 'content-type': 'application/json' } : {}),
          },
          body: body instanceof FormData ? body : body ? JSON.stringify(body) : undefined,
          signal: AbortSignal.timeout(Math.max(1, Math.min(left, o.requestTimeoutMs ?? 30_000))),
        });
      } catch (e) {
        const cause = (e as { cause?: { code?: string; message?: string } }).cause;
        const why = cause?.code ?? cause?.message ?? (e as Error).message;
        if ((e as Error).name === 'TimeoutError' && !pastDeadline && Date.now() >= deadlineAt)
          throw new HostedError(`the ${o.shape} job did not finish within ${deadlineMs} ms (${method} ${url} timed out)`, 'timeout');
        throw new HostedError(`could not reach the ${o.shape} fine-tuning API at ${url} (${why})`, 'trainer_failed');
      }
      const text = await res.text();
      let json: Json = {};
      try {
        json = text ? (JSON.parse(text) as Json) : {};
      } catch {
        /* not JSON: the status line is the message */
      }
      if (!res.ok) {
        const err = json.error as Json | string | undefined;
        const msg = (typeof err === 'object' && err ? err.message : err) ?? json.message ?? text.slice(0, 300);
        throw new HostedError(`${o.shape}: ${method} ${p} answered ${res.status}: ${String(msg)}`, 'trainer_failed');
      }
      return json;
    };

    const upload = async (file: string, purposeName: string): Promise<string> => {
      const data = await fs.readFile(file);
      const form = new FormData();
      form.append('purpose', 'fine-tune');
      form.append('file', new Blob([data], { type: 'application/jsonl' }), purposeName);
      if (o.shape === 'together') form.append('file_name', purposeName);
      return String((await request('POST', '/files', form)).id);
    };

    const fwDataset = async (file: string, kind: string): Promise<string> => {
      const datasetId = `${spec.jobId}-${kind}`.toLowerCase().replace(/[^a-z0-9-]/g, '-');
      await request('POST', `${acct}/datasets`, { datasetId, dataset: { userUploaded: {}, format: 'CHAT' } });
      const form = new FormData();
      form.append('file', new Blob([await fs.readFile(file)], { type: 'application/jsonl' }), `${kind}.jsonl`);
      await request('POST', `${acct}/datasets/${datasetId}:upload`, form);
      return `accounts/${o.accountId}/datasets/${datasetId}`;
    };

    const hp = spec.hyperparameters;
    const model = o.remoteModel ?? spec.baseModel;
    const suffix = spec.jobId.replace(/[^A-Za-z0-9-]/g, '-').slice(0, 40);

    const create = async (): Promise<Remote> => {
      if (o.shape === 'openai-compatible') {
        const training_file = await upload(spec.trainFile, 'train.jsonl');
        const validation_file = spec.validationFile ? await upload(spec.validationFile, 'validation.jsonl') : undefined;
        return readRemote(await request('POST', '/fine_tuning/jobs', { model, training_file, validation_file, suffix, seed: hp.seed }));
      }
      if (o.shape === 'together') {
        const training_file = await upload(spec.trainFile, 'train.jsonl');
        const validation_file = spec.validationFile ? await upload(spec.validationFile, 'validation.jsonl') : undefined;
        return readRemote(
          await request('POST', '/fine-tunes', {
            model,
            training_file,
            ...(validation_file ? { validation_file, n_evals: 1 } : {}),
            suffix,
            learning_rate: hp.learningRate,
            batch_size: hp.batchSize,
            training_type: {
              type: 'Lora',
              lora_r: hp.rank,
              lora_alpha: hp.alpha,
              lora_dropout: hp.dropout,
              lora_trainable_modules: hp.targetModules.join(','),
            },
          }),
        );
      }
      const dataset = await fwDataset(spec.trainFile, 'train');
      const evaluationDataset = spec.validationFile ? await fwDataset(spec.validationFile, 'validation') : undefined;
      return readRemote(
        await request('POST', `${acct}/supervisedFineTuningJobs`, {
          dataset,
          ...(evaluationDataset ? { evaluationDataset } : {}),
          baseModel: model,
          outputModel: suffix,
          learningRate: hp.learningRate,
          loraRank: hp.rank,
          maxContextLength: hp.maxSeqLength,
        }),
      );
    };

    const readRemote = (j: Json): Remote => {
      if (o.shape === 'openai-compatible')
        return {
          id: String(j.id),
          state: String(j.status),
          message: ((j.error as Json | null)?.message as string | undefined) ?? undefined,
          model: (j.fine_tuned_model as string | null) ?? undefined,
        };
      if (o.shape === 'together') {
        const errs = ((j.events as Json[] | undefined) ?? []).filter((e) => e.level === 'error' || /error/.test(String(e.type)));
        return {
          id: String(j.id),
          state: String(j.status),
          message: (errs.at(-1)?.message as string | undefined) ?? (j.message as string | undefined),
          model: (j.output_name as string | undefined) ?? undefined,
        };
      }
      const status = j.status as Json | undefined;
      return {
        id:
          String(j.name ?? '')
            .split('/')
            .pop() ?? '',
        state: String(j.state),
        message: status?.code && status.code !== 'OK' ? String(status.message) : undefined,
        model: (j.outputModel as string | undefined) ?? undefined,
      };
    };

    const jobPath = (id: string) =>
      o.shape === 'openai-compatible'
        ? `/fine_tuning/jobs/${id}`
        : o.shape === 'together'
          ? `/fine-tunes/${id}`
          : `${acct}/supervisedFineTuningJobs/${id}`;

    const pullEvents = async (id: string): Promise<void> => {
      if (o.shape === 'fireworks') return; // no events listing in the subset we use
      const list = ((await request('GET', `${jobPath(id)}/events`)).data as Json[] | undefined) ?? [];
      const ordered = [...list].sort((a, b) => Number(a.created_at ?? 0) - Number(b.created_at ?? 0));
      for (const e of ordered) {
        const key = String(e.id ?? `${String(e.created_at)}:${String(e.message)}`);
        if (seenEvents.has(key)) continue;
        seenEvents.add(key);
        const msg = redact(String(e.message ?? ''), o.apiKey);
        o.onMessage?.(spec.jobId, String(e.level ?? 'info'), msg);
        const d = e.data as Json | undefined;
        if (d && typeof d.step === 'number' && typeof d.train_loss === 'number') {
          losses.push([d.step, d.train_loss]);
          onEvent({ event: 'step', step: d.step, loss: d.train_loss });
        }
      }
    };

    const cancelRemote = async (pastDeadline = false): Promise<void> => {
      if (!remoteId) return;
      if (o.shape === 'fireworks') await request('DELETE', jobPath(remoteId), undefined, pastDeadline);
      else await request('POST', `${jobPath(remoteId)}/cancel`, undefined, pastDeadline);
    };

    let reported: string | undefined;
    /** Tells the job where the remote job is (the service persists the id at once: a restart resumes polling it). */
    const report = (r: Remote) => {
      if (r.state === reported) return;
      reported = r.state;
      onEvent({ event: 'remote', remoteJobId: r.id, state: mapHostedState(o.shape, r.state), remoteState: r.state });
    };

    const run = async (): Promise<TrainingOutcome> => {
      const created = spec.remoteJobId ? readRemote(await request('GET', jobPath(spec.remoteJobId))) : await create();
      remoteId = created.id;
      if (!remoteId) throw new HostedError(`${o.shape} answered without a job id`, 'trainer_failed');
      o.logger?.info(`fine-tune ${spec.jobId}: ${o.shape} job ${remoteId} ${spec.remoteJobId ? 'resumed' : 'created'}`);
      report(created);
      let interval = o.pollMs ?? 5000;
      let last = created.state;
      for (;;) {
        if (disposed) throw new HostedError(`the server stopped while polling ${o.shape} job ${remoteId}`, 'trainer_failed');
        if (cancelRequested) {
          await cancelRemote();
          return { kind: 'cancelled' };
        }
        const left = deadlineAt - Date.now();
        if (left <= 0) {
          throw new HostedError(
            `the ${o.shape} job ${remoteId} did not finish within ${deadlineMs} ms (last state ${last}); it was cancelled`,
            'timeout',
          );
        }
        await sleep(Math.min(interval, left), stop.signal);
        if (cancelRequested) continue;
        const r = readRemote(await request('GET', jobPath(remoteId)));
        report({ ...r, id: remoteId });
        await pullEvents(remoteId).catch((e: unknown) =>
          o.logger?.debug(redact(`fine-tune ${spec.jobId}: events: ${String(e)}`, o.apiKey)),
        );
        const ours = mapHostedState(o.shape, r.state);
        if (ours === 'succeeded') {
          if (!r.model) throw new HostedError(`${o.shape} job ${remoteId} succeeded without naming the trained model`, 'trainer_failed');
          const metrics: TrainerMetrics = {
            steps: losses.at(-1)?.[0] ?? 0,
            firstLoss: losses[0]?.[1] ?? 0,
            finalLoss: losses.at(-1)?.[1] ?? 0,
          };
          await fs.mkdir(spec.outputDir, { recursive: true });
          await fs.writeFile(
            path.join(spec.outputDir, 'remote-model.json'),
            `${JSON.stringify({ provider: o.shape, remoteJobId: remoteId, model: r.model }, null, 2)}\n`,
          );
          return { kind: 'succeeded', metrics, adapterDir: spec.outputDir, baseDir: spec.outputDir, providerModelId: r.model };
        }
        if (ours === 'failed')
          throw new HostedError(`${o.shape} job ${remoteId} failed: ${r.message ?? `state ${r.state}`}`, 'trainer_failed');
        if (ours === 'cancelled') return { kind: 'cancelled' };
        interval = r.state === last ? Math.min(interval * 2, o.maxPollMs ?? 60_000) : (o.pollMs ?? 5000);
        last = r.state;
      }
    };

    const outcome: Promise<TrainingOutcome> = run()
      .catch(async (e: unknown): Promise<TrainingOutcome> => {
        // Past the deadline the remote job is cancelled too, so it does not run (and bill) unwatched.
        if (e instanceof HostedError && e.reason === 'timeout') await cancelRemote(true).catch(() => undefined);
        const reason = e instanceof HostedError ? e.reason : 'trainer_failed';
        const message = redact(e instanceof Error ? e.message : String(e), o.apiKey);
        o.logger?.warn(`fine-tune ${spec.jobId}: ${message}`);
        return cancelRequested ? { kind: 'cancelled' } : { kind: 'failed', reason, message };
      })
      .finally(() => this.live.delete(halt));
    return {
      outcome,
      cancel: () => {
        cancelRequested = true;
        stop.abort();
      },
    };
  }

  async dispose(): Promise<void> {
    for (const halt of this.live) halt();
  }
}
