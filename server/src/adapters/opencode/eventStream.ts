/**
 * The `/global/event` SSE stream of one `opencode serve` (every directory's events, wrapped as
 * `{directory, payload}`). Reconnects when the stream ends, errors, or goes silent past the heartbeat
 * deadline (the server sends `server.heartbeat` about every 10 s); after each reconnect it calls
 * `onReconnect` so callers resync from the messages API. Frames are `data: <json>` lines, no `event:`.
 */

export interface OpencodeEvent {
  id?: string;
  type: string;
  properties?: Record<string, unknown>;
}

export interface EventStreamOptions {
  url: string;
  authHeader: string;
  onEvent: (e: OpencodeEvent, directory?: string) => void;
  /** Called after a re-established connection delivered its first frame (not on the first connection). */
  onReconnect: () => void;
  /** No frame for this long means the connection is dead. Default 30 s. */
  heartbeatTimeoutMs?: number;
  /** Connecting (until the response headers) may take this long. Default 10 s. */
  connectTimeoutMs?: number;
  log?: (line: string) => void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class EventStream {
  private closed = false;
  private current?: AbortController;
  private connectedOnce = false;
  private holdUntil = 0;
  private readyResolve?: () => void;
  /** Resolves once the first connection delivered its first frame. */
  readonly ready: Promise<void>;
  reconnects = 0;

  constructor(private readonly opts: EventStreamOptions) {
    this.ready = new Promise((r) => (this.readyResolve = r));
    void this.loop();
  }

  /** Cuts the current connection; it reconnects (not before `downMs`) and resyncs. Diagnostics and tests. */
  drop(downMs = 0): void {
    this.holdUntil = Date.now() + downMs;
    this.current?.abort(new Error('dropped on request'));
  }

  close(): void {
    this.closed = true;
    this.current?.abort(new Error('closed'));
  }

  private async loop(): Promise<void> {
    let backoff = 100;
    while (!this.closed) {
      const started = Date.now();
      try {
        await this.connectOnce();
      } catch (e) {
        if (this.closed) return;
        this.opts.log?.(`opencode event stream: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (this.closed) return;
      backoff = Date.now() - started > 5000 ? 100 : Math.min(backoff * 2, 2000);
      await sleep(Math.max(backoff, this.holdUntil - Date.now()));
    }
  }

  private async connectOnce(): Promise<void> {
    const ac = new AbortController();
    this.current = ac;
    const heartbeatMs = this.opts.heartbeatTimeoutMs ?? 30000;
    let watchdog: NodeJS.Timeout | undefined;
    const arm = (ms: number) => {
      if (watchdog) clearTimeout(watchdog);
      watchdog = setTimeout(() => ac.abort(new Error(`no event for ${ms} ms`)), ms);
    };
    arm(this.opts.connectTimeoutMs ?? 10000);
    try {
      const res = await fetch(`${this.opts.url}/global/event`, {
        headers: { authorization: this.opts.authHeader, accept: 'text/event-stream' },
        signal: ac.signal,
      });
      if (!res.ok || !res.body) throw new Error(`GET /global/event → HTTP ${res.status}`);
      arm(heartbeatMs);
      const decoder = new TextDecoder();
      let buf = '';
      let first = true;
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        arm(heartbeatMs);
        buf += decoder.decode(chunk, { stream: true });
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = frame
            .split('\n')
            .filter((l) => l.startsWith('data:'))
            .map((l) => l.slice(5).trimStart())
            .join('\n');
          if (!data) continue;
          let parsed: { directory?: string; payload?: OpencodeEvent } & Partial<OpencodeEvent>;
          try {
            parsed = JSON.parse(data) as typeof parsed;
          } catch {
            this.opts.log?.(`opencode event stream: unparseable frame ${data.slice(0, 200)}`);
            continue;
          }
          if (first) {
            first = false;
            if (this.connectedOnce) {
              this.reconnects++;
              this.opts.onReconnect();
            } else {
              this.connectedOnce = true;
              this.readyResolve?.();
            }
          }
          const ev = parsed.payload ?? (parsed.type ? (parsed as OpencodeEvent) : undefined);
          if (ev) this.opts.onEvent(ev, parsed.directory);
        }
      }
      throw new Error('stream ended');
    } finally {
      if (watchdog) clearTimeout(watchdog);
      ac.abort();
    }
  }
}
