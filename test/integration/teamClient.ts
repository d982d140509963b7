/**
 * Helpers for the team server tests: the real `dist/cli.js serve` and `admin` processes, and a small
 * JSON-RPC-over-WebSocket client (one message per text frame) built on `ws`. Every wait has a deadline.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import WebSocket from 'ws';
import { cliJs, withDeadline } from './serverProcess';

export interface RpcReply {
  id?: string | number | null;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

export interface TeamServer {
  url: string;
  child: ChildProcess;
  stderr(): string;
  alive(): boolean;
  stop(): Promise<void>;
}

export function admin(dataDir: string, ...args: string[]): unknown {
  return JSON.parse(
    execFileSync(process.execPath, [cliJs, 'admin', ...args, '--data-dir', dataDir, '--json'], { encoding: 'utf8', timeout: 30_000 }),
  );
}

/** Creates a user with one key in `tenant` (created when missing); returns the key. */
export function userWithKey(dataDir: string, tenant: string, name: string, role: string): { key: string; keyId: string } {
  try {
    admin(dataDir, 'create-tenant', tenant);
  } catch {
    // Already there.
  }
  admin(dataDir, 'create-user', '--tenant', tenant, '--name', name, '--role', role);
  const k = admin(dataDir, 'create-key', '--tenant', tenant, '--user', name) as { key: string; keyId: string };
  return { key: k.key, keyId: k.keyId };
}

export async function startTeamServer(dataDir: string, extra: string[] = []): Promise<TeamServer> {
  const child = spawn(
    process.execPath,
    [cliJs, 'serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir, '--log-level', 'debug', ...extra],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let err = '';
  let out = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const url = await withDeadline(
    new Promise<string>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening on (ws:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]);
      });
      child.once('exit', (code) => reject(new Error(`serve exited (${code}): ${err}`)));
    }),
    30_000,
    'orchestrator serve start',
  );
  return {
    url,
    child,
    stderr: () => err,
    alive: () => child.exitCode === null && child.signalCode === null,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await withDeadline(exited, 15_000, 'serve stop').catch(() => child.kill('SIGKILL'));
    },
  };
}

/** The HTTP status of a refused upgrade, or a connected client. */
export async function connect(url: string, key?: string): Promise<RpcClient | { status: number; body: string }> {
  const ws = new WebSocket(url, { headers: key === undefined ? {} : { Authorization: `Bearer ${key}` } });
  return withDeadline(
    new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new RpcClient(ws)));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      ws.once('error', reject);
    }),
    15_000,
    'WebSocket connect',
  );
}

export async function connected(url: string, key: string): Promise<RpcClient> {
  const c = await connect(url, key);
  if (!(c instanceof RpcClient)) throw new Error(`connection refused: ${c.status} ${c.body}`);
  return c;
}

export class RpcClient {
  private next = 1;
  private readonly pending = new Map<number, (r: RpcReply) => void>();
  /** Replies with no id we sent (errors to malformed frames carry id null). */
  readonly stray: RpcReply[] = [];
  readonly notifications: { method: string; params: unknown }[] = [];
  closeCode: number | undefined;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as RpcReply & { method?: string; params?: unknown };
      if (m.method && m.id !== undefined) {
        // A server → client request (permission/request): deny.
        ws.send(JSON.stringify({ jsonrpc: '2.0', id: m.id, result: { decision: 'deny' } }));
      } else if (m.method) this.notifications.push({ method: m.method, params: m.params });
      else if (typeof m.id === 'number' && this.pending.has(m.id)) {
        this.pending.get(m.id)!(m);
        this.pending.delete(m.id);
      } else this.stray.push(m);
    });
    ws.on('close', (code) => (this.closeCode = code));
  }

  request(method: string, params: unknown = {}, ms = 30_000): Promise<RpcReply> {
    const id = this.next++;
    const reply = new Promise<RpcReply>((resolve) => this.pending.set(id, resolve));
    this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    return withDeadline(reply, ms, method);
  }

  /** The result, or throws with the error. */
  async call<T = unknown>(method: string, params: unknown = {}, ms?: number): Promise<T> {
    const r = await this.request(method, params, ms);
    if (r.error) throw Object.assign(new Error(`${method}: ${r.error.code} ${r.error.message}`), { code: r.error.code });
    return r.result as T;
  }

  send(frame: string | Buffer, binary = false): void {
    this.ws.send(frame, { binary });
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise((r) => this.ws.once('close', r));
    this.ws.close();
    await withDeadline(closed, 5_000, 'WebSocket close').catch(() => this.ws.terminate());
  }
}
