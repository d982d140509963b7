/**
 * A scripted hosted fine-tuning server on 127.0.0.1 (test stand-in, like scriptedModel): speaks the subset of
 * the OpenAI (`/v1/files`, `/v1/fine_tuning/jobs…`), Together (`/v1/files`, `/v1/fine-tunes…`) and Fireworks
 * (`/v1/accounts/{a}/datasets…`, `/v1/accounts/{a}/supervisedFineTuningJobs…`) shapes the hosted trainer uses.
 * Each job runs `runningPolls` polls, then ends as `outcome` says; every request is recorded.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface FineTuneRecordedRequest {
  method: string;
  path: string;
  authorization?: string;
  contentType?: string;
  body: string;
}

export interface ScriptedFineTuneOptions {
  /** Requests without `Authorization: Bearer <apiKey>` get 401. */
  apiKey: string;
  /** How each job ends (default `succeed`); `hang` never ends. */
  outcome?: 'succeed' | 'fail' | 'hang';
  /** Polls a job answers `running` before it ends (default 2). */
  runningPolls?: number;
  /** The remote failure message (`fail`). */
  failMessage?: string;
}

export interface ScriptedFineTune {
  /** e.g. `http://127.0.0.1:4321/v1` */
  url: string;
  requests: FineTuneRecordedRequest[];
  close(): Promise<void>;
}

interface Job {
  shape: 'openai' | 'together' | 'fireworks';
  id: string;
  polls: number;
  cancelled: boolean;
  model: string;
  suffix?: string;
}

export async function startScriptedFineTune(opts: ScriptedFineTuneOptions): Promise<ScriptedFineTune> {
  const requests: FineTuneRecordedRequest[] = [];
  const jobs = new Map<string, Job>();
  let seq = 0;
  const runningPolls = opts.runningPolls ?? 2;
  const outcome = opts.outcome ?? 'succeed';
  const failMessage = opts.failMessage ?? 'training data has too few examples';

  const stateOf = (j: Job): 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' => {
    if (j.cancelled) return 'cancelled';
    if (j.polls === 0) return 'queued';
    if (j.polls <= runningPolls || outcome === 'hang') return 'running';
    return outcome === 'succeed' ? 'succeeded' : 'failed';
  };
  const names = {
    openai: { queued: 'validating_files', running: 'running', succeeded: 'succeeded', failed: 'failed', cancelled: 'cancelled' },
    together: { queued: 'pending', running: 'running', succeeded: 'completed', failed: 'error', cancelled: 'cancelled' },
    fireworks: {
      queued: 'JOB_STATE_CREATING',
      running: 'JOB_STATE_RUNNING',
      succeeded: 'JOB_STATE_COMPLETED',
      failed: 'JOB_STATE_FAILED',
      cancelled: 'JOB_STATE_CANCELLED',
    },
  } as const;
  const resultModel = (j: Job) => `ft:${j.model}:${j.suffix ?? 'custom'}:${j.id}`;
  const view = (j: Job, poll: boolean): Record<string, unknown> => {
    if (poll && !j.cancelled) j.polls += 1;
    const s = stateOf(j);
    const status = names[j.shape][s];
    if (j.shape === 'openai')
      return {
        object: 'fine_tuning.job',
        id: j.id,
        model: j.model,
        status,
        fine_tuned_model: s === 'succeeded' ? resultModel(j) : null,
        error: s === 'failed' ? { code: 'invalid_training_file', message: failMessage, param: 'training_file' } : null,
      };
    if (j.shape === 'together')
      return {
        id: j.id,
        model: j.model,
        status,
        output_name: s === 'succeeded' ? resultModel(j) : undefined,
        events: s === 'failed' ? [{ type: 'job_error', level: 'error', message: failMessage }] : [],
      };
    return {
      name: `accounts/acct/supervisedFineTuningJobs/${j.id}`,
      baseModel: j.model,
      state: status,
      outputModel: s === 'succeeded' ? `accounts/acct/models/${j.suffix ?? j.id}` : undefined,
      status: s === 'failed' ? { code: 'INVALID_ARGUMENT', message: failMessage } : { code: 'OK', message: '' },
    };
  };
  const events = (j: Job) => {
    const out: Record<string, unknown>[] = [{ id: `${j.id}-e0`, level: 'info', message: 'Validating training file', created_at: 1 }];
    for (let step = 1; step <= Math.min(j.polls, runningPolls); step += 1)
      out.push({
        id: `${j.id}-e${step}`,
        level: 'info',
        type: 'metrics',
        message: `Step ${step}: training loss=${(2 / step).toFixed(3)}`,
        data: { step, train_loss: 2 / step },
        created_at: 1 + step,
      });
    if (stateOf(j) === 'failed') out.push({ id: `${j.id}-eX`, level: 'error', message: failMessage, created_at: 99 });
    return out;
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = (req.url ?? '/').split('?')[0]!;
      const method = req.method ?? 'GET';
      requests.push({ method, path, authorization: req.headers.authorization, contentType: req.headers['content-type'], body });
      const send = (code: number, o: unknown) => {
        res.writeHead(code, { 'content-type': 'application/json' });
        res.end(JSON.stringify(o));
      };
      if (req.headers.authorization !== `Bearer ${opts.apiKey}`) return send(401, { error: { message: 'invalid api key' } });
      const json = (): Record<string, unknown> => {
        try {
          return JSON.parse(body) as Record<string, unknown>;
        } catch {
          return {};
        }
      };
      const newJob = (shape: Job['shape'], model: unknown, suffix: unknown): Job => {
        seq += 1;
        const j: Job = {
          shape,
          id: `job${seq}`,
          polls: 0,
          cancelled: false,
          model: String(model ?? ''),
          suffix: suffix ? String(suffix) : undefined,
        };
        jobs.set(`${shape}:${j.id}`, j);
        return j;
      };
      let m: RegExpExecArray | null;
      // files (OpenAI and Together)
      if (method === 'POST' && path === '/v1/files') {
        if (!/multipart\/form-data/.test(String(req.headers['content-type'])) || !/name="purpose"[\s\S]*fine-tune/.test(body))
          return send(400, { error: { message: 'expected multipart with purpose=fine-tune' } });
        seq += 1;
        return send(200, { id: `file-${seq}`, object: 'file', bytes: body.length, purpose: 'fine-tune' });
      }
      if (method === 'POST' && path === '/v1/fine_tuning/jobs') {
        const b = json();
        if (!b.model || !b.training_file) return send(400, { error: { message: 'model and training_file are required' } });
        return send(200, view(newJob('openai', b.model, b.suffix), false));
      }
      if ((m = /^\/v1\/fine_tuning\/jobs\/([^/]+)(\/events|\/cancel)?$/.exec(path))) {
        const j = jobs.get(`openai:${m[1]}`);
        if (!j) return send(404, { error: { message: `no job ${m[1]}` } });
        if (m[2] === '/events' && method === 'GET') return send(200, { object: 'list', data: events(j).reverse(), has_more: false });
        if (m[2] === '/cancel' && method === 'POST') {
          j.cancelled = true;
          return send(200, view(j, false));
        }
        if (!m[2] && method === 'GET') return send(200, view(j, true));
      }
      if (method === 'POST' && path === '/v1/fine-tunes') {
        const b = json();
        if (!b.model || !b.training_file) return send(400, { message: 'model and training_file are required' });
        return send(200, view(newJob('together', b.model, b.suffix), false));
      }
      if ((m = /^\/v1\/fine-tunes\/([^/]+)(\/events|\/cancel)?$/.exec(path))) {
        const j = jobs.get(`together:${m[1]}`);
        if (!j) return send(404, { message: `no job ${m[1]}` });
        if (m[2] === '/events' && method === 'GET') return send(200, { data: events(j) });
        if (m[2] === '/cancel' && method === 'POST') {
          j.cancelled = true;
          return send(200, view(j, false));
        }
        if (!m[2] && method === 'GET') return send(200, view(j, true));
      }
      if (method === 'POST' && /^\/v1\/accounts\/[^/]+\/datasets$/.test(path)) {
        const b = json();
        return b.datasetId
          ? send(200, { name: `accounts/acct/datasets/${String(b.datasetId)}`, state: 'UPLOADING' })
          : send(400, { message: 'datasetId required' });
      }
      if (method === 'POST' && /^\/v1\/accounts\/[^/]+\/datasets\/[^/]+:upload$/.test(path))
        return /multipart\/form-data/.test(String(req.headers['content-type']))
          ? send(200, { id: 'ds', object: 'file' })
          : send(400, { message: 'multipart expected' });
      if (method === 'POST' && /^\/v1\/accounts\/[^/]+\/supervisedFineTuningJobs$/.test(path)) {
        const b = json();
        if (!b.baseModel || !b.dataset) return send(400, { message: 'baseModel and dataset are required' });
        return send(200, view(newJob('fireworks', b.baseModel, b.outputModel), false));
      }
      if ((m = /^\/v1\/accounts\/[^/]+\/supervisedFineTuningJobs\/([^/:]+)$/.exec(path))) {
        const j = jobs.get(`fireworks:${m[1]}`);
        if (!j) return send(404, { message: `no job ${m[1]}` });
        if (method === 'DELETE') {
          j.cancelled = true;
          return send(200, {});
        }
        if (method === 'GET') return send(200, view(j, true));
      }
      send(404, { error: { message: `no route ${method} ${path}` } });
    });
  });
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
