/**
 * Pure rules of the team-server connection: which URLs are accepted, how long to wait before the next
 * attempt, and what to tell the user when the server refuses the handshake (401: the key; 429: too many
 * failed sign-ins from this address) or cannot be reached before the deadline. No I/O here.
 */

/** A refused WebSocket handshake: the HTTP status and the server's one-line reason. */
export interface HandshakeRefusal {
  status: number;
  message: string;
  retryAfterMs?: number;
}

export type NextStep = { retry: true; delayMs: number; warn?: string } | { retry: false; reason: string };

/** `ws://…` or `wss://…` with a host; otherwise the reason, naming what is wrong. */
export function checkServerUrl(value: string): { ok: true; url: string } | { ok: false; reason: string } {
  const text = value.trim();
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return { ok: false, reason: `"${text}" is not a URL; write it as ws://host:port or wss://host` };
  }
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:')
    return { ok: false, reason: `the team server URL must start with ws:// or wss:// (got ${u.protocol}//)` };
  if (!u.hostname) return { ok: false, reason: 'the team server URL has no host' };
  if (u.username || u.password) return { ok: false, reason: 'put the API key in the key prompt, not in the URL' };
  return { ok: true, url: text };
}

/** 0.5 s, 1 s, 2 s, … at most 10 s. */
export function backoffMs(attempt: number): number {
  return Math.min(10_000, 500 * 2 ** Math.max(0, attempt));
}

export interface AttemptFailure {
  url: string;
  /** Attempts that failed since the last successful connection (this one included), from 1. */
  attempt: number;
  /** When the first of those attempts started (epoch ms). */
  since: number;
  now: number;
  deadlineMs: number;
  refusal?: HandshakeRefusal;
  /** The network error, when the handshake never got an HTTP answer. */
  error?: string;
}

const reconnectHint = 'Run "Orchestrator: Connect to Team Server…" with a valid key, or "Orchestrator: Disconnect from Team Server".';

/** After a failed attempt: try again (when, and what to warn about once) or stop with the reason the user sees. */
export function nextStep(f: AttemptFailure): NextStep {
  const left = f.since + f.deadlineMs - f.now;
  if (f.refusal?.status === 401)
    return { retry: false, reason: `The team server at ${f.url} refused the API key: ${f.refusal.message}. ${reconnectHint}` };
  if (f.refusal?.status === 429) {
    const wait = f.refusal.retryAfterMs ?? 60_000;
    const text = `The team server at ${f.url} refused the connection: ${f.refusal.message} (retry in ${Math.ceil(wait / 1000)} s).`;
    return wait <= left ? { retry: true, delayMs: wait, warn: text } : { retry: false, reason: `${text} ${reconnectHint}` };
  }
  const why = f.refusal ? `HTTP ${f.refusal.status}: ${f.refusal.message}` : (f.error ?? 'the connection closed');
  const delay = backoffMs(f.attempt - 1);
  if (delay > left)
    return {
      retry: false,
      reason: `Could not reach the team server at ${f.url} within ${Math.round(f.deadlineMs / 1000)} s (${why}). Check that it runs, then run "Orchestrator: Restart Server".`,
    };
  return { retry: true, delayMs: delay };
}

/** The SecretStorage id of a team server's API key (one per URL). */
export const teamKeySecretId = (url: string): string => `orchestrator.teamServer.key:${url}`;
