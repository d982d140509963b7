/**
 * The team server's transport: HTTP upgrade to WebSocket (`ws`), authenticated before the upgrade (401 /
 * 429 without a WebSocket), then one vscode-jsonrpc `MessageConnection` per socket with one JSON-RPC
 * message per text frame (`frames.ts`). A frame over `maxPayload` closes that socket (1009); the server
 * keeps serving the others.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
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
} from 'vscode-jsonrpc/node';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Logger } from '../../ports/logger';
import { parseFrame } from './frames';

export type UpgradeDecision<P> =
  { ok: true; principal: P } | { ok: false; status: 401 | 429 | 503; message: string; retryAfterMs?: number };

export interface WsServerOptions<P> {
  host: string;
  port: number;
  /** Largest accepted frame in bytes. */
  maxPayload: number;
  logger: Logger;
  /** Decides an upgrade from the request (the key is in `Authorization: Bearer …`; never logged). */
  authenticate(req: IncomingMessage): Promise<UpgradeDecision<P>>;
  /**
   * A new authenticated connection, not yet listening: register handlers; it starts listening when this
   * resolves (frames that arrive meanwhile wait). A rejection closes the socket (1011).
   */
  onConnection(connection: MessageConnection, principal: P): Promise<void>;
}

export interface WsServer {
  port: number;
  close(): Promise<void>;
}

class WsReader extends AbstractMessageReader implements MessageReader {
  private callback: DataCallback | undefined;
  private readonly early: Message[] = [];

  constructor(private readonly socket: WebSocket) {
    super();
    socket.on('message', (data: RawData, isBinary: boolean) => this.frame(data, isBinary));
    socket.on('close', () => this.fireClose());
    socket.on('error', (e) => this.fireError(e));
  }

  listen(callback: DataCallback): Disposable {
    this.callback = callback;
    for (const m of this.early.splice(0)) callback(m);
    return { dispose: () => (this.callback = undefined) };
  }

  private frame(data: RawData, isBinary: boolean): void {
    if (isBinary) {
      this.socket.send(
        JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32600, message: 'Invalid request: binary frames are not supported' } }),
      );
      return;
    }
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
    const f = parseFrame(text);
    if (f.kind === 'reject') this.socket.send(JSON.stringify(f.reply));
    else if (!this.callback) this.early.push(f.message);
    else {
      try {
        this.callback(f.message);
      } catch (e) {
        // A message the JSON-RPC library chokes on must not take the server down.
        this.socket.send(
          JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32600, message: `Invalid request: ${(e as Error).message}` } }),
        );
      }
    }
  }
}

class WsWriter extends AbstractMessageWriter implements MessageWriter {
  constructor(private readonly socket: WebSocket) {
    super();
  }

  write(msg: Message): Promise<void> {
    if (this.socket.readyState !== this.socket.OPEN) return Promise.resolve();
    return new Promise((resolve) =>
      this.socket.send(JSON.stringify(msg), (e) => {
        if (e) this.fireError([e, msg, undefined]);
        resolve();
      }),
    );
  }

  end(): void {}
}

function refuse(socket: Duplex, status: number, message: string, retryAfterMs?: number): void {
  const reason = { 401: 'Unauthorized', 429: 'Too Many Requests', 503: 'Service Unavailable' }[status] ?? 'Error';
  const body = `${message}\n`;
  const retry = retryAfterMs === undefined ? '' : `Retry-After: ${Math.max(1, Math.ceil(retryAfterMs / 1000))}\r\n`;
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n${retry}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

export async function startWsServer<P>(opts: WsServerOptions<P>): Promise<WsServer> {
  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxPayload });
  const http = createServer((_req, res) => {
    res.writeHead(426, { 'Content-Type': 'text/plain; charset=utf-8', Upgrade: 'websocket' });
    res.end('This is the orchestrator team server: connect with a WebSocket and an API key (Authorization: Bearer …).\n');
  });
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    opts.authenticate(req).then(
      (d) => {
        if (!d.ok) return refuse(socket, d.status, d.message, d.retryAfterMs);
        wss.handleUpgrade(req, socket, head, (ws) => {
          const connection = createMessageConnection(new WsReader(ws), new WsWriter(ws));
          ws.on('close', () => connection.dispose());
          opts.onConnection(connection, d.principal).then(
            () => connection.listen(),
            (e: unknown) => {
              opts.logger.error(`team server: a connection could not be set up: ${(e as Error).message}`);
              ws.close(1011, 'server error');
            },
          );
        });
      },
      (e: unknown) => {
        opts.logger.error(`team server: authentication failed: ${(e as Error).message}`);
        refuse(socket, 503, 'the server could not check the key; see its log');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(opts.port, opts.host, () => resolve());
  });
  return {
    port: (http.address() as AddressInfo).port,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}
