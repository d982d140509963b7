/**
 * Serves promoted model versions to agents: one OpenAI-compatible endpoint on 127.0.0.1 (a random port, up
 * as long as the orchestrator) that OpenCode knows as the provider `finetuned`. `GET /v1/models` lists the
 * registered models; `POST /v1/chat/completions` starts the model's inference server on first use
 * (`server/python/serve_lora.py` in the training venv, 127.0.0.1, random port, start deadline) and forwards
 * the request to it. Every inference server is killed on `dispose` (and exits by itself when its parent dies).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from '../../ports/logger';
import { pythonScript } from '../training/localEvaluator';
import { defaultTrainingPython } from '../training/localTrainer';
import { killChildren } from '../killChildren';

export interface ServedModel {
  /** The model id OpenCode sends (`<name>-v<version>`). */
  id: string;
  baseDir: string;
  adapterDir: string;
  maxSeqLength: number;
}

export interface LocalInferenceOptions {
  /** `<dataDir>/serving`: one folder per model (config, request log). */
  root: string;
  logger: Logger;
  python?: string;
  /** How long an inference server may take to load its model (default 120 s). */
  startDeadlineMs?: number;
  /** Deadline of one forwarded request (default 120 s). */
  requestDeadlineMs?: number;
}

interface Backend {
  child: ChildProcess;
  port: Promise<number>;
}

const json = (res: http.ServerResponse, code: number, body: unknown) => {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

export class LocalInference {
  private readonly models = new Map<string, ServedModel>();
  private readonly backends = new Map<string, Backend>();
  private server?: http.Server;
  private readonly sockets = new Set<Socket>();
  private port = 0;

  constructor(private readonly opts: LocalInferenceOptions) {}

  /** The provider's base URL (`http://127.0.0.1:<port>/v1`); valid after `start`. */
  get baseURL(): string {
    return `http://127.0.0.1:${this.port}/v1`;
  }

  /** The model's request log (one JSON line per chat request its inference server answered). */
  requestLog(id: string): string {
    return path.join(this.opts.root, id, 'requests.jsonl');
  }

  async start(): Promise<void> {
    const server = http.createServer((req, res) => void this.handle(req, res));
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  register(m: ServedModel): void {
    this.models.set(m.id, m);
  }

  /** The registered model ids. */
  list(): string[] {
    return [...this.models.keys()].sort();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = (req.url ?? '').replace(/\/+$/, '');
    if (req.method === 'GET' && url === '/v1/models')
      return json(res, 200, {
        object: 'list',
        data: this.list().map((id) => ({ id, object: 'model', created: 0, owned_by: 'orchestrator' })),
      });
    if (req.method !== 'POST' || url !== '/v1/chat/completions')
      return json(res, 404, { error: { message: `no route ${req.method} ${url}` } });
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    let model: unknown;
    try {
      model = (JSON.parse(body.toString('utf8')) as { model?: unknown }).model;
    } catch {
      return json(res, 400, { error: { message: 'the request body is not JSON' } });
    }
    const served = typeof model === 'string' ? this.models.get(model) : undefined;
    if (!served)
      return json(res, 404, {
        error: { message: `model ${JSON.stringify(model)} is not served here; served: ${this.list().join(', ') || 'none'}` },
      });
    let port: number;
    try {
      port = await this.backend(served).port;
    } catch (e) {
      return json(res, 503, { error: { message: e instanceof Error ? e.message : String(e) } });
    }
    const upstream = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/v1/chat/completions',
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': body.length },
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.setTimeout(this.opts.requestDeadlineMs ?? 120_000, () =>
      upstream.destroy(new Error('the inference server did not answer in time')),
    );
    upstream.on('error', (e) => {
      if (!res.headersSent) json(res, 502, { error: { message: `the inference server of ${served.id} failed: ${e.message}` } });
      else res.destroy();
    });
    upstream.end(body);
  }

  /** The model's inference server, started on first use; a server that exited is started again. */
  private backend(m: ServedModel): Backend {
    const running = this.backends.get(m.id);
    if (running && running.child.exitCode === null && running.child.signalCode === null) return running;
    const python = this.opts.python ?? defaultTrainingPython();
    const script = pythonScript('serve_lora.py');
    const dir = path.join(this.opts.root, m.id);
    mkdirSync(dir, { recursive: true });
    const config = path.join(dir, 'serve-config.json');
    writeFileSync(
      config,
      `${JSON.stringify({ model: m.id, baseDir: m.baseDir, adapterDir: m.adapterDir, maxSeqLength: m.maxSeqLength, requestLog: this.requestLog(m.id) }, null, 2)}\n`,
    );
    if (!existsSync(python))
      throw new Error(`the training environment is missing (${python}); create it with \`node tools/ensureTrainingEnv.mjs\``);
    const child = spawn(python, [script, config], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PYTHONUNBUFFERED: '1', HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1' },
    });
    const stderr: string[] = [];
    createInterface({ input: child.stderr! }).on('line', (l) => {
      stderr.push(l);
      if (stderr.length > 12) stderr.shift();
    });
    const deadlineMs = this.opts.startDeadlineMs ?? 120_000;
    const port = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`the inference server of ${m.id} did not start within ${deadlineMs} ms`));
      }, deadlineMs);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        try {
          const e = JSON.parse(line) as { event?: string; port?: number };
          if (e.event === 'listening' && typeof e.port === 'number') {
            clearTimeout(timer);
            this.opts.logger.info(`serving ${m.id} at 127.0.0.1:${e.port} (pid ${child.pid})`);
            resolve(e.port);
          }
        } catch {
          // Not a JSON line: ignored.
        }
      });
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(new Error(`could not start the inference server of ${m.id}: ${e.message}`));
      });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        reject(
          new Error(
            `the inference server of ${m.id} exited (${signal ?? `code ${code}`})${stderr.length ? `: ${stderr.join(' | ')}` : ''}`,
          ),
        );
      });
    });
    port.catch(() => undefined);
    const b = { child, port };
    this.backends.set(m.id, b);
    return b;
  }

  /** The live inference servers' pids, by model (for the status and tests). */
  pids(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [id, b] of this.backends) if (b.child.exitCode === null && b.child.signalCode === null && b.child.pid) out[id] = b.child.pid;
    return out;
  }

  async dispose(): Promise<void> {
    const children = [...this.backends.values()].map((b) => b.child);
    this.backends.clear();
    await killChildren(children);
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
