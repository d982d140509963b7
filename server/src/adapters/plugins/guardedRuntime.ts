/**
 * The wrapper every plugin runtime runs behind. A plugin is third-party code in our process, so nothing it
 * does is trusted: a throw, a rejection, a malformed answer or a call that never settles becomes a failed
 * turn (or a reported problem for `start`/`cancel`/`dispose`), never an exception in the server. Its events
 * are checked and re-keyed through our own `AgentEventLog` (monotonic `seq`, no key twice, nothing after the
 * turn ended); the turn's diff is taken from git snapshots of the worktree, not from the plugin; permission
 * asks go through the caller's policy with its deadline and are written as events by us.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AgentEventLog, addUsage, emptyUsage, type AgentEventBody, type StopReason } from '../../domain/agentEvent';
import {
  AgentError,
  type AgentEventListener,
  type AgentRuntime,
  type PromptRequest,
  type TurnError,
  type TurnResult,
  type TurnTimeouts,
} from '../../ports/agentRuntime';
import { askPolicy } from '../policyAsk';
import { diffTrees, snapshotTree } from '../acp/worktreeDiff';

/** The plugin's runtime object, shape-checked (`checkRuntimeShape`) but otherwise untrusted. */
export type PluginRuntimeObject = Record<string, unknown>;

export interface GuardOptions {
  pluginId: string;
  inner: PluginRuntimeObject;
  timeouts?: Partial<TurnTimeouts>;
  /** Deadline of `start`, `cancel`, `release` and `dispose` calls into the plugin. */
  callMs?: number;
  /** How long a cancelled turn may take to end before we end it ourselves. */
  cancelGraceMs?: number;
  /** A problem the plugin caused outside a turn's normal failure (reported in the server status). */
  report: (problem: string) => void;
  log: (line: string) => void;
}

const defaults: TurnTimeouts = { idleMs: 10 * 60_000, turnMs: 60 * 60_000, unreachableMs: 5 * 60_000, permissionMs: 115_000 };
const roles = new Set(['assistant', 'user', 'thought']);
const toolStatuses = new Set(['pending', 'in_progress', 'completed', 'failed']);
const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null;
const num = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x >= 0;
const str = (x: unknown): x is string => typeof x === 'string';
const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e)).slice(0, 500);

/** The event bodies a plugin may report (the turn's end, errors and permission events are ours to write). */
function checkEvent(raw: unknown): AgentEventBody | string {
  if (!isObj(raw)) return 'an event that is not an object';
  switch (raw.kind) {
    case 'message_chunk':
      if (!str(raw.text) || !roles.has(raw.role as string)) return 'a message_chunk without text or a known role';
      return { kind: 'message_chunk', role: raw.role as 'assistant', text: raw.text };
    case 'tool_call': {
      if (!str(raw.id) || !str(raw.title) || !str(raw.toolName) || !toolStatuses.has(raw.status as string))
        return 'a tool_call without id, title, toolName or a known status';
      const locations = Array.isArray(raw.locations) ? raw.locations.filter((l) => isObj(l) && str(l.path)) : undefined;
      return {
        kind: 'tool_call',
        id: raw.id,
        title: raw.title,
        toolName: raw.toolName,
        status: raw.status as 'completed',
        ...(locations?.length ? { locations: locations.map((l) => ({ path: (l as { path: string }).path })) } : {}),
        ...(raw.input !== undefined ? { input: raw.input } : {}),
        ...(str(raw.output) ? { output: raw.output } : {}),
      };
    }
    case 'usage':
      if (!num(raw.inputTokens) || !num(raw.outputTokens) || !num(raw.cost)) return 'a usage event without token counts and cost';
      return {
        kind: 'usage',
        inputTokens: raw.inputTokens,
        outputTokens: raw.outputTokens,
        cost: raw.cost,
        ...(num(raw.reasoningTokens) ? { reasoningTokens: raw.reasoningTokens } : {}),
        ...(num(raw.cacheReadTokens) ? { cacheReadTokens: raw.cacheReadTokens } : {}),
      };
    default:
      return `an event of kind ${JSON.stringify(raw.kind)}, which plugins may not report`;
  }
}

/** Settles within `ms`: the call's outcome, or `timeout`. A synchronous throw is a rejection. */
function settle<T>(
  call: () => T | Promise<T>,
  ms: number,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown; timeout?: true }> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ ok: false, error: new Error(`no answer within ${ms} ms`), timeout: true }), ms);
    timer.unref?.();
    Promise.resolve()
      .then(call)
      .then(
        (value) => resolve({ ok: true, value }),
        (error: unknown) => resolve({ ok: false, error }),
      )
      .finally(() => clearTimeout(timer));
  });
}

interface Turn {
  abort: AbortController;
  cancelled: boolean;
}

export class GuardedRuntime implements AgentRuntime {
  readonly id: string;
  private readonly turns = new Map<string, Turn>();
  private readonly logs = new Map<string, AgentEventLog>();
  private disposed = false;
  private readonly callMs: number;
  private readonly graceMs: number;

  constructor(private readonly o: GuardOptions) {
    this.id = o.pluginId;
    this.callMs = o.callMs ?? 30_000;
    this.graceMs = o.cancelGraceMs ?? 5_000;
  }

  /** Calls a plugin function with a deadline; a throw, rejection or timeout is reported and returned as an error. */
  private async call(name: string, args: unknown[], ms = this.callMs): Promise<{ ok: boolean; error?: unknown; timeout?: boolean }> {
    const fn = this.o.inner[name] as (...a: unknown[]) => unknown;
    const r = await settle(() => fn.apply(this.o.inner, args), ms);
    if (!r.ok) this.o.report(`${name} ${r.timeout ? `did not return within ${ms} ms` : `failed: ${errText(r.error)}`}`);
    return r;
  }

  async start(): Promise<void> {
    if (this.disposed) throw new AgentError('disposed', `plugin ${this.id} was disposed`);
    const r = await this.call('start', []);
    if (!r.ok)
      throw new AgentError('start_failed', `plugin ${this.id}: start ${r.timeout ? 'never returned' : `failed: ${errText(r.error)}`}`);
  }

  async prompt(req: PromptRequest, onEvent: AgentEventListener): Promise<TurnResult> {
    if (this.disposed) throw new AgentError('disposed', `plugin ${this.id} was disposed`);
    if (!req.prompt.trim()) throw new AgentError('bad_input', 'the prompt is empty');
    if (!path.isAbsolute(req.cwd) || !fs.existsSync(req.cwd)) throw new AgentError('bad_input', `cwd ${req.cwd} does not exist`);
    if (this.turns.has(req.runId)) throw new AgentError('busy', `run ${req.runId} already has a turn in progress`);
    const turn: Turn = { abort: new AbortController(), cancelled: false };
    this.turns.set(req.runId, turn);
    try {
      return await this.runTurn(req, onEvent, turn);
    } finally {
      this.turns.delete(req.runId);
    }
  }

  private async runTurn(req: PromptRequest, onEvent: AgentEventListener, turn: Turn): Promise<TurnResult> {
    const t = { ...defaults, ...this.o.timeouts, ...req.timeouts };
    const startedAt = Date.now();
    let log = this.logs.get(req.runId);
    if (!log) this.logs.set(req.runId, (log = new AgentEventLog()));
    const eventLog = log;
    const before = await snapshotTree(req.cwd);
    let ended = false;
    let usage = emptyUsage();
    let summary = '';
    let n = 0;
    let badEvents = 0;
    let pendingAsks = 0;
    let wake: (outcome: { kind: 'idle' | 'turn' | 'cancel' }) => void = () => undefined;
    const stopped = new Promise<{ kind: 'idle' | 'turn' | 'cancel' }>((r) => (wake = r));
    let idleTimer: NodeJS.Timeout | undefined;
    const armIdle = () => {
      clearTimeout(idleTimer);
      if (pendingAsks === 0) idleTimer = setTimeout(() => wake({ kind: 'idle' }), t.idleMs);
    };
    const turnTimer = setTimeout(() => wake({ kind: 'turn' }), t.turnMs);
    const emit = (key: string, body: AgentEventBody) => {
      const ev = eventLog.push(key, body);
      if (ev) onEvent(ev);
    };
    const fromPlugin = (raw: unknown): void => {
      if (ended) return;
      armIdle();
      const body = checkEvent(raw);
      if (typeof body === 'string') {
        if (badEvents++ === 0) this.o.report(`reported ${body}; such events are dropped`);
        return;
      }
      if (body.kind === 'usage') usage = addUsage(usage, body);
      if (body.kind === 'message_chunk' && body.role === 'assistant') summary += body.text;
      const own = isObj(raw) && str(raw.key) && raw.key.length <= 200 ? raw.key : `n${++n}`;
      emit(`plugin:${startedAt}:${own}`, body);
    };
    const permissionPolicy = async (ask: unknown): Promise<'allow' | 'deny'> => {
      if (ended || !isObj(ask) || !str(ask.permission)) return 'deny';
      const id = `perm${++n}`;
      const patterns = Array.isArray(ask.patterns) ? ask.patterns.filter(str) : [];
      emit(`plugin:${startedAt}:${id}:ask`, { kind: 'permission_request', id, permission: ask.permission, patterns });
      pendingAsks++;
      clearTimeout(idleTimer);
      try {
        const v = await askPolicy(
          req.permissionPolicy,
          {
            runId: req.runId,
            permission: ask.permission,
            patterns,
            cwd: req.cwd,
            ...(str(ask.toolKind) ? { toolKind: ask.toolKind } : {}),
            ...(str(ask.commandLine) ? { commandLine: ask.commandLine } : {}),
          },
          t.permissionMs,
          stopped,
        );
        if (!ended)
          emit(`plugin:${startedAt}:${id}:decision`, {
            kind: 'permission_decision',
            id,
            decision: v.decision,
            by: v.by,
            ...(v.note ? { note: v.note } : {}),
          });
        return v.decision;
      } finally {
        pendingAsks--;
        armIdle();
      }
    };
    const onAbort = () => {
      turn.cancelled = true;
      wake({ kind: 'cancel' });
    };
    req.signal?.addEventListener('abort', onAbort, { once: true });
    if (req.signal?.aborted) onAbort();
    turn.abort.signal.addEventListener('abort', onAbort, { once: true });
    armIdle();
    const pluginReq = {
      runId: req.runId,
      cwd: req.cwd,
      prompt: req.prompt,
      ...(req.model ? { model: req.model } : {}),
      signal: turn.abort.signal,
      timeouts: t,
      permissionPolicy,
    };
    const fn = this.o.inner.prompt as (r: unknown, e: (ev: unknown) => void) => unknown;
    const answer = Promise.resolve()
      .then(() => fn.call(this.o.inner, pluginReq, fromPlugin))
      .then(
        (value) => ({ kind: 'answer' as const, value }),
        (error: unknown) => ({ kind: 'threw' as const, error }),
      );
    let outcome = await Promise.race([answer, stopped]);
    if (outcome.kind === 'cancel') {
      // The plugin is told and gets a grace period to end the turn itself; then we end it.
      void this.call('cancel', [req.runId]);
      outcome = await Promise.race([answer, new Promise<{ kind: 'cancel' }>((r) => setTimeout(() => r({ kind: 'cancel' }), this.graceMs))]);
      if (outcome.kind !== 'cancel') outcome = { kind: 'cancel' };
    } else if (outcome.kind === 'idle' || outcome.kind === 'turn') {
      if (!turn.abort.signal.aborted) turn.abort.abort();
      void this.call('cancel', [req.runId]);
    }
    ended = true;
    clearTimeout(idleTimer);
    clearTimeout(turnTimer);
    req.signal?.removeEventListener('abort', onAbort);

    let status: TurnResult['status'] = 'succeeded';
    let stopReason: StopReason = 'end_turn';
    let error: TurnError | undefined;
    const fail = (reason: TurnError['reason'], message: string) => {
      status = 'failed';
      stopReason = 'error';
      error = { reason, message };
    };
    if (this.disposed) fail('disposed', `plugin ${this.id} was disposed during the turn`);
    else if (outcome.kind === 'cancel') {
      status = 'cancelled';
      stopReason = 'cancelled';
    } else if (outcome.kind === 'idle') {
      fail('timeout', `plugin ${this.id}: no activity for ${t.idleMs} ms; the turn was ended`);
      this.o.report(`prompt of run ${req.runId} never resolved (no activity for ${t.idleMs} ms); the turn was failed`);
    } else if (outcome.kind === 'turn') {
      fail('timeout', `plugin ${this.id}: the turn took longer than ${t.turnMs} ms; it was ended`);
      this.o.report(`prompt of run ${req.runId} ran past the turn deadline (${t.turnMs} ms); the turn was failed`);
    } else if (outcome.kind === 'threw') {
      fail('protocol', `plugin ${this.id} failed in prompt: ${errText(outcome.error)}`);
      this.o.report(`prompt threw: ${errText(outcome.error)}`);
    } else if (outcome.kind === 'answer') {
      const v = outcome.value;
      const st = isObj(v) ? v.status : undefined;
      if (st !== 'succeeded' && st !== 'failed' && st !== 'cancelled') {
        fail('protocol', `plugin ${this.id} answered prompt without a status of succeeded, failed or cancelled`);
        this.o.report('prompt answered without a valid TurnResult status');
      } else {
        status = st;
        stopReason = st === 'succeeded' ? 'end_turn' : st === 'failed' ? 'error' : 'cancelled';
        if (isObj(v) && str(v.summary) && v.summary) summary = v.summary;
        if (st === 'failed') {
          const e = isObj(v) && isObj(v.error) ? v.error : {};
          error = { reason: 'protocol', message: `plugin ${this.id}: ${str(e.message) ? e.message.slice(0, 2000) : 'the turn failed'}` };
        }
      }
    }
    if (error) emit(`plugin:${startedAt}:error`, { kind: 'error', message: error.message, reason: error.reason });
    emit(`plugin:${startedAt}:finished`, { kind: 'finished', stopReason });
    const after = before ? await snapshotTree(req.cwd) : undefined;
    const diff = before && after ? await diffTrees(req.cwd, before, after).catch(() => []) : [];
    return {
      status,
      stopReason,
      summary,
      usage,
      diff,
      ...(error ? { error } : {}),
      agentSessionId: `${this.id}:${req.runId}`,
      durationMs: Date.now() - startedAt,
      lastSeq: eventLog.lastSeq,
    };
  }

  async cancel(runId: string): Promise<void> {
    const turn = this.turns.get(runId);
    if (!turn) return;
    turn.abort.abort();
  }

  release(runId: string): void {
    this.logs.delete(runId);
    if (typeof this.o.inner.release === 'function') void this.call('release', [runId]);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (const t of this.turns.values()) t.abort.abort();
    await this.call('dispose', [], Math.min(this.callMs, 10_000));
  }
}
