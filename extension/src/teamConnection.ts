/**
 * The extension's JSON-RPC link to a team server (`orchestrator serve`, docs/team-server.md): one
 * WebSocket (`ws`) with the API key in the handshake (`Authorization: Bearer …`), one JSON-RPC message per
 * text frame, no `initialize`. Handlers registered once apply to every socket; a dropped socket is
 * reconnected with backoff until a deadline (`teamReconnect.ts` decides); a 401 stops at once and a 429
 * waits for Retry-After. The key is never logged.
 */
import {
  AbstractMessageReader,
  AbstractMessageWriter,
  createMessageConnection,
  type DataCallback,
  type Disposable,
  type Message,
  type MessageConnection,
  type MessageReader,
  type MessageWriter,
} from 'vscode-languageclient/node';
import WebSocket from 'ws';
import type { RpcEndpoint } from '../../protocol/messages';
import { nextStep, type HandshakeRefusal } from './teamReconnect';

export type LinkState = 'connecting' | 'connected' | 'stopped';

export interface TeamConnectionHooks {
  log(level: 'info' | 'warn' | 'error', line: string): void;
  /** Every state change; `reason` when stopped (what the user is told). */
  onState(state: LinkState, reason?: string): void;
  /** A warning worth a notification (a 429 that will be retried). */
  onWarn(text: string): void;
}

class SocketReader extends AbstractMessageReader implements MessageReader {
  private callback: DataCallback | undefined;

  constructor(
    socket: WebSocket,
    private readonly log: TeamConnectionHooks['log'],
  ) {
    super();
    socket.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      if (isBinary) return this.log('warn', 'team server: ignored a binary frame');
      const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
      let msg: Message;
      try {
        msg = JSON.parse(text) as Message;
      } catch {
        return this.log('warn', 'team server: ignored a frame that is not JSON');
      }
      this.callback?.(msg);
    });
    socket.on('close', () => this.fireClose());
    socket.on('error', (e) => this.fireError(e));
  }

  listen(callback: DataCallback): Disposable {
    this.callback = callback;
    return { dispose: () => (this.callback = undefined) };
  }
}

class SocketWriter extends AbstractMessageWriter implements MessageWriter {
  constructor(private readonly socket: WebSocket) {
    super();
  }

  write(msg: Message): Promise<void> {
    if (this.socket.readyState !== WebSocket.OPEN) return Promise.reject(new Error('the team server connection is closed'));
    return new Promise((resolve, reject) => this.socket.send(JSON.stringify(msg), (e) => (e ? reject(e) : resolve())));
  }

  end(): void {}
}

type Attempt = { ok: true; socket: WebSocket } | { ok: false; refusal?: HandshakeRefusal; error?: string };

/** One handshake: the open socket, or the HTTP refusal (status, the server's text, Retry-After) or network error. */
function open(url: string, key: string, timeoutMs: number): Promise<Attempt> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (a: Attempt) => {
      if (!settled) {
        settled = true;
        resolve(a);
      }
    };
    const socket = new WebSocket(url, { headers: { Authorization: `Bearer ${key}` }, handshakeTimeout: timeoutMs, maxPayload: 64 << 20 });
    socket.on('open', () => done({ ok: true, socket }));
    socket.on('unexpected-response', (req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c.slice(0, 2000)));
      res.on('end', () => {
        const retry = Number(res.headers['retry-after']);
        done({
          ok: false,
          refusal: {
            status: res.statusCode ?? 0,
            message: body.trim() || res.statusMessage || `HTTP ${res.statusCode}`,
            retryAfterMs: Number.isFinite(retry) && retry > 0 ? retry * 1000 : undefined,
          },
        });
        req.destroy();
      });
    });
    socket.on('error', (e) => done({ ok: false, error: e.message }));
    socket.on('close', () => done({ ok: false, error: 'the connection closed during the handshake' }));
  });
}

export interface TeamConnectionOptions {
  url: string;
  key: string;
  /** How long to keep trying after the first failure before giving up (default 60 s). */
  deadlineMs?: number;
  /** One handshake's limit (default 10 s). */
  handshakeMs?: number;
}

export class TeamConnection implements RpcEndpoint {
  private connection: MessageConnection | undefined;
  private socket: WebSocket | undefined;
  private disposed = false;
  private readonly notificationHandlers: [string, (params: unknown) => void][] = [];
  private readonly requestHandlers: [string, (params: unknown) => unknown][] = [];
  private readonly connectedListeners: (() => void)[] = [];
  private wake: (() => void) | undefined;

  constructor(
    private readonly opts: TeamConnectionOptions,
    private readonly hooks: TeamConnectionHooks,
  ) {}

  /** Called after every successful (re)connection, when the handlers are in place. */
  onConnected(listener: () => void): void {
    this.connectedListeners.push(listener);
  }

  /** Resolves once connected; rejects with the reason the user sees when the first connection cannot be made. */
  start(): Promise<void> {
    return this.connect();
  }

  private async connect(): Promise<void> {
    const since = Date.now();
    const deadlineMs = this.opts.deadlineMs ?? 60_000;
    for (let attempt = 1; !this.disposed; attempt++) {
      this.hooks.onState('connecting');
      const a = await open(this.opts.url, this.opts.key, this.opts.handshakeMs ?? 10_000);
      if (this.disposed) {
        if (a.ok) a.socket.terminate();
        break;
      }
      if (a.ok) return this.attach(a.socket);
      const step = nextStep({ url: this.opts.url, attempt, since, now: Date.now(), deadlineMs, refusal: a.refusal, error: a.error });
      if (!step.retry) {
        this.hooks.log('error', step.reason);
        this.hooks.onState('stopped', step.reason);
        throw new Error(step.reason);
      }
      if (step.warn) {
        this.hooks.log('warn', step.warn);
        this.hooks.onWarn(step.warn);
      } else this.hooks.log('warn', `team server ${this.opts.url}: ${a.refusal?.message ?? a.error}; trying again in ${step.delayMs} ms`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, step.delayMs);
        this.wake = () => {
          clearTimeout(t);
          r();
        };
      });
    }
    throw new Error('the team server connection was closed');
  }

  private attach(socket: WebSocket): void {
    this.socket = socket;
    const c = createMessageConnection(new SocketReader(socket, this.hooks.log), new SocketWriter(socket));
    for (const [m, h] of this.notificationHandlers) c.onNotification(m, h);
    for (const [m, h] of this.requestHandlers) c.onRequest(m, h);
    socket.on('close', (code: number, reason: Buffer) => {
      c.dispose();
      if (this.connection === c) this.connection = undefined;
      if (this.disposed) return;
      this.hooks.log(
        'warn',
        `team server ${this.opts.url} closed the connection (${code}${reason.length ? ` ${reason.toString()}` : ''}); reconnecting`,
      );
      // A failed reconnection ends in `stopped` with its reason (already reported through the hooks).
      this.connect().catch(() => undefined);
    });
    c.listen();
    this.connection = c;
    this.hooks.log('info', `connected to the team server at ${this.opts.url}`);
    this.hooks.onState('connected');
    for (const l of this.connectedListeners) l();
  }

  sendRequest(method: string, params?: unknown): Promise<unknown> {
    if (!this.connection)
      return Promise.reject(new Error(`Not connected to the team server at ${this.opts.url} (reconnecting, or see the Orchestrator log).`));
    return this.connection.sendRequest(method, params);
  }

  sendNotification(method: string, params?: unknown): unknown {
    return this.connection?.sendNotification(method, params);
  }

  onNotification(method: string, handler: (params: unknown) => void): void {
    this.notificationHandlers.push([method, handler]);
    this.connection?.onNotification(method, handler);
  }

  onRequest(method: string, handler: (params: unknown) => unknown): void {
    this.requestHandlers.push([method, handler]);
    this.connection?.onRequest(method, handler);
  }

  /** Closes the socket and stops reconnecting. */
  async dispose(): Promise<void> {
    this.disposed = true;
    this.wake?.();
    const s = this.socket;
    this.connection?.dispose();
    this.connection = undefined;
    if (s && s.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((r) => {
        const t = setTimeout(() => {
          s.terminate();
          r();
        }, 2_000);
        s.once('close', () => {
          clearTimeout(t);
          r();
        });
        s.close(1000, 'client disconnect');
      });
    }
  }
}
