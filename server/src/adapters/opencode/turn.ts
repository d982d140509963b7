/**
 * One running prompt of one task on an OpenCode session: consumes the session's SSE events, normalises
 * them, answers permission requests through the caller's policy, runs the watchdogs (idle, wall clock,
 * unreachable model, cancel) and settles exactly once with a TurnResult.
 *
 * Completion: `session.idle` after the prompt, confirmed against the messages: those the stream delivered when
 * nothing was missed and the turn ended cleanly (`messageMirror.ts`), else the messages API. A final assistant
 * message (finish ≠ tool-calls, or an error) decides the outcome; idle without one means it was aborted.
 */
import type { Message, Part, PermissionRequest as OcPermissionRequest } from '@opencode-ai/sdk/v2';
import { MessageMirror } from './messageMirror';
import { addUsage, emptyUsage, type AgentEvent, type AgentEventBody, type AgentEventLog, type UsageTotals } from '../../domain/agentEvent';
import type {
  AgentErrorReason,
  AgentEventListener,
  FileChange,
  PermissionPolicy,
  TurnError,
  TurnResult,
  TurnTimeouts,
} from '../../ports/agentRuntime';
import { askPolicy } from '../policyAsk';
import { turnTrace } from '../turnTrace';
import type { OpencodeEvent } from './eventStream';
import {
  applyPart,
  applySnapshot,
  findTurnUserMessage,
  looksUnreachable,
  toFileChanges,
  turnMessages,
  turnOutcome,
  type MessageWithParts,
} from './normalize';

/** The OpenCode calls a turn needs; implemented by the adapter with deadlines. */
export interface TurnApi {
  messages(sessionId: string, directory: string): Promise<MessageWithParts[]>;
  diff(sessionId: string, directory: string, messageId: string): Promise<Parameters<typeof toFileChanges>[0]>;
  abort(sessionId: string, directory: string): Promise<void>;
  replyPermission(requestId: string, directory: string, reply: 'once' | 'reject', message?: string): Promise<void>;
  pendingPermissions(directory: string): Promise<OcPermissionRequest[]>;
}

export interface TurnInit {
  runId: string;
  sessionId: string;
  cwd: string;
  log: AgentEventLog;
  onEvent: AgentEventListener;
  timeouts: TurnTimeouts;
  policy?: PermissionPolicy;
  previousUserMessageId?: string;
  api: TurnApi;
  debug?: (line: string) => void;
}

const cancelGraceMs = 5000;
const foreignIdleRecheckMs = 1000;
const diffSettleMs = 3000;

/**
 * The end of a clean turn is read from the messages the SSE stream delivered (no messages request); off with
 * `ORCH_OPENCODE_SSE_END=0` (bench comparison).
 */
const sseEndEnabled = (): boolean => process.env.ORCH_OPENCODE_SSE_END !== '0';

/** How many distinct files the turn's `patch` parts say were changed. */
function patchedFiles(msgs: MessageWithParts[]): number {
  return new Set(msgs.flatMap((m) => m.parts).flatMap((p) => (p.type === 'patch' ? p.files : []))).size;
}

export class Turn {
  readonly result: Promise<TurnResult>;
  userMessageId?: string;
  private resolve!: (r: TurnResult) => void;
  private settled = false;
  private finishing = false;
  private cancelRequested = false;
  private failure?: TurnError;
  private sessionError?: { reason: AgentErrorReason | 'aborted'; message: string };
  private readonly startedAt = Date.now();
  private readonly roles = new Map<string, { role: 'user' | 'assistant'; parentID?: string }>();
  private readonly partKinds = new Map<string, string>();
  private readonly handledPermissions = new Set<string>();
  private pendingPermissions = 0;
  private usage: UsageTotals = emptyUsage();
  private idleTimer?: NodeJS.Timeout;
  private turnTimer?: NodeJS.Timeout;
  private unreachableTimer?: NodeJS.Timeout;
  private cancelTimer?: NodeJS.Timeout;
  private lastRetryMessage = '';
  private liveText = '';
  /** The newest assistant message update belonged to an earlier turn's loop (one that was aborted). */
  private lastAssistantForeign = false;
  /** The session's messages as the SSE stream delivered them. */
  private readonly mirror = new MessageMirror();

  constructor(private readonly init: TurnInit) {
    this.result = new Promise((r) => (this.resolve = r));
    this.turnTimer = setTimeout(
      () => this.fail('timeout', `The turn exceeded its wall-clock limit of ${init.timeouts.turnMs} ms.`),
      init.timeouts.turnMs,
    );
    this.touch();
  }

  get sessionId(): string {
    return this.init.sessionId;
  }

  get done(): boolean {
    return this.settled;
  }

  private emit(e: AgentEvent | undefined): void {
    if (!e) return;
    if (e.kind === 'usage') this.usage = addUsage(this.usage, e);
    if (e.kind === 'message_chunk' && e.role === 'assistant') this.liveText += e.text;
    try {
      this.init.onEvent(e);
    } catch (err) {
      this.init.debug?.(`onEvent listener threw: ${String(err)}`);
    }
  }

  private push(key: string, body: AgentEventBody): void {
    this.emit(this.init.log.push(key, body));
  }

  /** Restarts the idle watchdog (paused while a permission is pending). */
  private touch(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (this.settled || this.finishing || this.pendingPermissions > 0) return;
    const ms = this.init.timeouts.idleMs;
    this.idleTimer = setTimeout(() => this.fail('timeout', `No activity from the agent for ${ms} ms.`), ms);
  }

  private ownsMessage(messageID: string): 'user' | 'assistant' | undefined {
    const r = this.roles.get(messageID);
    if (!r) return undefined;
    if (r.role === 'user') return messageID === this.userMessageId ? 'user' : undefined;
    return !this.userMessageId || r.parentID === this.userMessageId ? 'assistant' : undefined;
  }

  /** An SSE event whose `sessionID` is this turn's session. */
  handleEvent(ev: OpencodeEvent): void {
    if (this.settled) return;
    const p = (ev.properties ?? {}) as Record<string, unknown>;
    turnTrace(
      this.init.runId,
      () => `sse ${ev.type}${ev.type === 'session.status' ? ' ' + String((p.status as { type?: string })?.type) : ''}`,
    );
    switch (ev.type) {
      case 'message.updated': {
        const info = p.info as { id: string; role: 'user' | 'assistant'; parentID?: string; error?: unknown };
        this.roles.set(info.id, { role: info.role, parentID: info.parentID });
        if (info.role === 'user' && !this.userMessageId && (!this.init.previousUserMessageId || info.id > this.init.previousUserMessageId))
          this.userMessageId = info.id;
        if (info.role === 'assistant') this.lastAssistantForeign = !!this.userMessageId && info.parentID !== this.userMessageId;
        this.mirror.message(p.info as Message);
        this.touch();
        break;
      }
      case 'message.part.updated': {
        const part = p.part as Part;
        this.partKinds.set(part.id, part.type);
        this.mirror.part(part);
        const role = this.ownsMessage(part.messageID);
        if (role) {
          for (const e of applyPart(this.init.log, part, role, false)) this.emit(e);
          if (role === 'assistant') this.clearUnreachable();
        }
        this.touch();
        break;
      }
      case 'message.part.delta': {
        const role = this.ownsMessage(String(p.messageID));
        const kind = this.partKinds.get(String(p.partID));
        this.mirror.delta(String(p.messageID), String(p.partID), String(p.field), String(p.delta ?? ''));
        if (role && p.field === 'text' && (kind === 'text' || kind === 'reasoning')) {
          this.emit(this.init.log.textDelta(String(p.partID), kind === 'reasoning' ? 'thought' : role, String(p.delta ?? '')));
          this.clearUnreachable();
        }
        this.touch();
        break;
      }
      case 'session.status': {
        const st = p.status as { type: string; attempt?: number; message?: string; next?: number };
        if (st.type === 'retry') this.onRetry(st.attempt ?? 0, st.message ?? '', st.next);
        else if (st.type === 'idle') this.onIdle();
        this.touch();
        break;
      }
      case 'session.idle':
        this.onIdle();
        break;
      case 'session.error': {
        const err = p.error as { name: string; data?: { message?: string } } | undefined;
        // An error before this turn's prompt was seen belongs to an earlier turn of the session (seen in CI:
        // the late MessageAbortedError of a cancelled turn made the next turn "cancelled"); so does an abort
        // this turn did not ask for (a real one still shows in the messages API at the end).
        const earlier = !this.userMessageId || (err?.name === 'MessageAbortedError' && !this.cancelRequested);
        if (err && earlier) this.init.debug?.(`${err.name} on ${this.init.sessionId} not from this turn: ignored`);
        else if (err) {
          const message = err.data?.message ?? err.name;
          this.sessionError =
            err.name === 'MessageAbortedError'
              ? { reason: 'aborted', message }
              : { reason: looksUnreachable(message) ? 'unreachable' : 'model_error', message: `${err.name}: ${message}` };
        }
        this.touch();
        break;
      }
      case 'permission.asked':
        void this.onPermission(p as unknown as OcPermissionRequest);
        break;
      default:
        if (ev.type.startsWith('message.')) this.mirror.gap = true;
        this.touch();
    }
  }

  /**
   * The session went idle. Ignored until this turn's user message was seen: an idle that comes before it
   * belongs to an earlier turn of the same session (e.g. one cancelled after the grace period).
   */
  private onIdle(): void {
    if (!this.userMessageId && !this.cancelRequested && !this.failure) {
      this.init.debug?.(`idle of ${this.init.sessionId} before this turn's prompt was seen: ignored`);
      return;
    }
    // An aborted earlier loop can finish after this prompt was accepted (OpenCode answers an abort before its
    // loop has wound down): its idle follows its own last message, not ours. Ours comes later; in case it
    // already came, the messages API is asked once more shortly.
    if (this.lastAssistantForeign && !this.cancelRequested && !this.failure) {
      this.init.debug?.(`idle of ${this.init.sessionId} after an earlier turn's message: ignored`);
      setTimeout(() => void this.finishIfComplete(), foreignIdleRecheckMs).unref();
      return;
    }
    void this.finish();
  }

  private async finishIfComplete(): Promise<void> {
    if (this.settled || this.finishing || !this.userMessageId) return;
    try {
      const mine = turnMessages(await this.init.api.messages(this.init.sessionId, this.init.cwd), this.userMessageId);
      if (turnOutcome(mine).complete) await this.finish();
    } catch (e) {
      this.init.debug?.(`rechecking the turn after an earlier turn's idle failed: ${String(e)}`);
    }
  }

  private onRetry(attempt: number, message: string, next?: number): void {
    this.lastRetryMessage = message;
    this.push(`retry:${this.userMessageId ?? 'turn'}:${attempt}:${next ?? ''}`, {
      kind: 'retry',
      attempt,
      message,
      ...(next ? { nextAt: new Date(next).toISOString() } : {}),
    });
    // The deadline counts from the start of the turn, so a caller's `unreachableMs` bounds the whole wait
    // (OpenCode itself would retry for ~68 s); it is armed by the first retry of a streak.
    if (!this.unreachableTimer) {
      const ms = this.init.timeouts.unreachableMs;
      this.unreachableTimer = setTimeout(
        () => {
          const msg = this.lastRetryMessage;
          if (looksUnreachable(msg)) this.fail('unreachable', `The model endpoint could not be reached within ${ms} ms: ${msg}`);
          else this.fail('model_error', `The model endpoint kept failing for ${ms} ms: ${msg}`);
        },
        Math.max(0, this.startedAt + ms - Date.now()),
      );
    }
  }

  private clearUnreachable(): void {
    if (this.unreachableTimer) clearTimeout(this.unreachableTimer);
    this.unreachableTimer = undefined;
  }

  private async onPermission(req: OcPermissionRequest): Promise<void> {
    if (this.handledPermissions.has(req.id) || this.settled) return;
    this.handledPermissions.add(req.id);
    this.pendingPermissions++;
    this.touch();
    this.push(`perm:${req.id}`, {
      kind: 'permission_request',
      id: req.id,
      permission: req.permission,
      patterns: req.patterns,
      ...(req.tool ? { toolCallId: req.tool.callID } : {}),
    });
    const { decision, by, note } = await askPolicy(
      this.init.policy,
      {
        runId: this.init.runId,
        permission: req.permission,
        patterns: req.patterns,
        toolCallId: req.tool?.callID,
        metadata: req.metadata,
        ...(typeof req.metadata?.command === 'string' ? { commandLine: req.metadata.command } : {}),
        cwd: this.init.cwd,
      },
      this.init.timeouts.permissionMs,
    );
    turnTrace(this.init.runId, 'permission decided');
    try {
      if (!this.settled)
        await this.init.api.replyPermission(
          req.id,
          this.init.cwd,
          decision === 'allow' ? 'once' : 'reject',
          decision === 'deny' ? `Denied by the orchestrator (${by}).` : undefined,
        );
    } catch (e) {
      this.init.debug?.(`permission reply failed: ${String(e)}`);
    }
    turnTrace(this.init.runId, 'permission replied');
    this.push(`perm:${req.id}:decision`, { kind: 'permission_decision', id: req.id, decision, by, ...(note ? { note } : {}) });
    this.pendingPermissions--;
    this.touch();
  }

  /** After the event stream reconnected: fill gaps from the messages API and pick up missed permissions or completion. */
  async resync(): Promise<void> {
    if (this.settled || this.finishing) return;
    this.mirror.gap = true;
    // Called as the stream reconnects, before its first event: deltas from now until the snapshot below is
    // applied cannot be placed (text was missed), so the log freezes their parts. If the snapshot never comes
    // (the call fails), the gap stays open and text arrives through part updates and the end-of-turn snapshot.
    const gap = this.init.log.beginGap();
    const all = await this.init.api.messages(this.init.sessionId, this.init.cwd);
    this.userMessageId ??= findTurnUserMessage(all, this.init.previousUserMessageId);
    if (!this.userMessageId || this.settled || this.finishing) return;
    const mine = turnMessages(all, this.userMessageId);
    for (const m of mine)
      this.roles.set(m.info.id, { role: m.info.role, parentID: m.info.role === 'assistant' ? m.info.parentID : undefined });
    const filled = applySnapshot(this.init.log, mine);
    this.init.log.endGap(gap);
    for (const e of filled) this.emit(e);
    this.init.debug?.(`resync of ${this.init.sessionId}: ${filled.length} event(s) filled from the messages API`);
    for (const req of await this.init.api.pendingPermissions(this.init.cwd))
      if (req.sessionID === this.init.sessionId) void this.onPermission(req);
    if (turnOutcome(mine).complete) await this.finish();
    this.touch();
  }

  /** Requests an abort; the turn settles as cancelled on idle, or after a grace period regardless. */
  async cancel(): Promise<void> {
    if (this.settled || this.cancelRequested) return;
    this.cancelRequested = true;
    this.cancelTimer = setTimeout(() => void this.finish(), cancelGraceMs);
    try {
      await this.init.api.abort(this.init.sessionId, this.init.cwd);
    } catch (e) {
      this.init.debug?.(`abort failed: ${String(e)}`);
      void this.finish();
    }
  }

  /** A watchdog fired or the prompt could not be sent: abort the session (best effort) and settle as failed. */
  fail(reason: AgentErrorReason, message: string, stderrTail?: string): void {
    if (this.settled || this.finishing) return;
    this.failure ??= { reason, message, ...(stderrTail ? { stderrTail } : {}) };
    this.init.api.abort(this.init.sessionId, this.init.cwd).catch(() => undefined);
    void this.finish();
  }

  /** The server process died (or the adapter is being disposed): settle now from what we have, no API calls. */
  settleOffline(reason: AgentErrorReason, message: string, stderrTail?: string): void {
    if (this.settled) return;
    this.failure ??= { reason, message, ...(stderrTail ? { stderrTail } : {}) };
    void this.finish(true);
  }

  /** Settles once: reconciles with the messages API (unless offline), computes diff and outcome, emits `finished`. */
  async finish(offline = false): Promise<void> {
    if (this.finishing && !offline) return;
    if (this.settled) return;
    this.finishing = true;
    for (const t of [this.idleTimer, this.turnTimer, this.unreachableTimer, this.cancelTimer]) if (t) clearTimeout(t);
    let summary = '';
    let usage = this.usage;
    let diff: FileChange[] = [];
    let complete = false;
    let msgError: { reason: AgentErrorReason | 'aborted'; message: string } | undefined;
    let reconcileError: string | undefined;
    if (!offline) {
      try {
        const seen = this.cleanEnd();
        turnTrace(this.init.runId, seen ? 'finish: messages from the stream' : 'finish: messages asked');
        const all = seen ?? (await this.init.api.messages(this.init.sessionId, this.init.cwd));
        turnTrace(this.init.runId, 'finish: messages read');
        this.userMessageId ??= findTurnUserMessage(all, this.init.previousUserMessageId);
        if (this.userMessageId) {
          const mine = turnMessages(all, this.userMessageId);
          for (const e of applySnapshot(this.init.log, mine)) this.emit(e);
          const o = turnOutcome(mine);
          summary = o.summary;
          usage = o.usage;
          complete = o.complete;
          msgError = o.error;
          diff = await this.turnDiff(this.userMessageId, patchedFiles(mine));
          turnTrace(this.init.runId, 'finish: diff read');
        }
      } catch (e) {
        reconcileError = e instanceof Error ? e.message : String(e);
        this.init.debug?.(`final reconcile failed: ${reconcileError}`);
        if (this.settled) return;
      }
    }
    if (this.settled) return;
    this.settled = true;
    const err = msgError ?? this.sessionError;
    let status: TurnResult['status'];
    let error: TurnError | undefined;
    if (this.failure) {
      status = 'failed';
      error = this.failure;
    } else if (this.cancelRequested || err?.reason === 'aborted') {
      status = 'cancelled';
    } else if (err) {
      status = 'failed';
      error = { reason: err.reason as AgentErrorReason, message: err.message };
    } else if (complete) {
      status = 'succeeded';
    } else if (reconcileError) {
      status = 'failed';
      error = { reason: 'protocol', message: `Could not read the turn's outcome from OpenCode: ${reconcileError}` };
    } else {
      status = 'cancelled';
      this.init.debug?.('session went idle without a final message: treating the turn as aborted');
    }
    if (error) this.push(`error:${this.userMessageId ?? this.startedAt}`, { kind: 'error', message: error.message, reason: error.reason });
    const stopReason = status === 'succeeded' ? 'end_turn' : status === 'cancelled' ? 'cancelled' : 'error';
    this.push(`finished:${this.userMessageId ?? this.startedAt}`, { kind: 'finished', stopReason });
    this.resolve({
      status,
      stopReason,
      summary: summary || this.fallbackSummary(),
      usage,
      diff,
      ...(error ? { error } : {}),
      agentSessionId: this.init.sessionId,
      durationMs: Date.now() - this.startedAt,
      lastSeq: this.init.log.lastSeq,
    });
  }

  /**
   * The turn's messages as the stream delivered them, when they alone can end it: nothing was missed (no
   * reconnect, no removal, every part and delta placed), nothing went wrong (no failure, cancel or session
   * error) and they hold this turn's final assistant message, without an error and with its `step-finish` part. Otherwise undefined: the
   * messages API is read, as for every other end.
   */
  private cleanEnd(): MessageWithParts[] | undefined {
    if (!sseEndEnabled() || this.mirror.gap || this.failure || this.cancelRequested || this.sessionError || !this.userMessageId)
      return undefined;
    const all = this.mirror.all();
    const mine = turnMessages(all, this.userMessageId);
    const o = turnOutcome(mine);
    // OpenCode ends every step with a `step-finish` part, published after the step's other parts: seeing the
    // last message's one is what says its parts all came over the stream.
    const last = mine.filter((m) => m.info.role === 'assistant').pop();
    return o.complete && !o.error && last?.parts.some((p) => p.type === 'step-finish') ? all : undefined;
  }

  /**
   * The per-turn diff. OpenCode computes it from its snapshots in the background, step by step; under load it
   * can lag behind `session.idle`, so while the diff names fewer files than the turn's patch parts do (a later
   * step's files not in it yet), ask again for a short, bounded while. (A file changed and then restored within
   * the turn is never in it: that turn waits out the bound.)
   */
  private async turnDiff(userMessageId: string, patched: number): Promise<FileChange[]> {
    const deadline = Date.now() + diffSettleMs;
    for (;;) {
      const diff = toFileChanges(await this.init.api.diff(this.init.sessionId, this.init.cwd, userMessageId));
      if (diff.length >= patched || Date.now() > deadline) return diff;
      this.init.debug?.(`diff of ${userMessageId} names ${diff.length} file(s) although ${patched} were patched; asking again`);
      turnTrace(this.init.runId, 'finish: diff short, asking again');
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Assistant text seen live, for when the messages API is not available (crash). */
  private fallbackSummary(): string {
    return this.liveText;
  }
}
