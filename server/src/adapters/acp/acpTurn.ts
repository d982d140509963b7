/**
 * One `session/prompt` of one task on an ACP agent: normalises its `session/update`s, answers its permission
 * requests through the caller's policy (with a deadline), reports refused `fs/*` calls, runs the idle and
 * wall-clock watchdogs and the cancel grace, and settles exactly once with a TurnResult.
 *
 * Outcomes: `end_turn` → succeeded; `cancelled` (or anything after our cancel) → cancelled; `max_tokens` and
 * `refusal` → failed (`model_error`); `max_turn_requests` → failed (`timeout`); a rejected prompt → failed
 * (`protocol`); the process exiting → failed (`crashed`, with its stderr tail). A cancel the agent ignores,
 * and a watchdog, end the turn anyway and `abandon` the agent process (it is killed: it cannot be trusted to
 * stop touching the worktree).
 */
import { addUsage, emptyUsage, type AgentEvent, type AgentEventBody, type AgentEventLog, type UsageTotals } from '../../domain/agentEvent';
import type {
  AgentErrorReason,
  AgentEventListener,
  FileChange,
  PermissionPolicy,
  PermissionRequest,
  TurnError,
  TurnResult,
  TurnTimeouts,
} from '../../ports/agentRuntime';
import { askPolicy } from '../policyAsk';
import { UpdateNormalizer, type NormalizeLimits } from './normalize';
import { chooseOption, toPermissionRequest, type PermissionOptionLike, type PermissionQuirks } from './permissions';

export interface AcpTurnInit {
  taskId: string;
  cwd: string;
  agentSessionId: string;
  log: AgentEventLog;
  onEvent: AgentEventListener;
  timeouts: TurnTimeouts;
  policy?: PermissionPolicy;
  /** Unique per turn of the task; part of every key this turn makes. */
  turnTag: string;
  cancelGraceMs: number;
  limits?: NormalizeLimits;
  /** Session cost reported before this turn (usage_update is cumulative). */
  costBefore?: number;
  /** How this agent's permission requests are read (its descriptor's quirks). */
  permissionQuirks?: PermissionQuirks;
  sendCancel(): Promise<void>;
  /** The agent process cannot be trusted any more (cancel ignored, watchdog): kill it. */
  abandon(why: string): void;
  /** The turn's file changes, computed when it ends. */
  diff(): Promise<FileChange[]>;
  debug?: (line: string) => void;
}

export type PermissionAnswer = { outcome: { outcome: 'cancelled' } | { outcome: 'selected'; optionId: string } };

const maxMalformedReports = 20;

export class AcpTurn {
  readonly result: Promise<TurnResult>;
  readonly normalizer: UpdateNormalizer;
  private resolve!: (r: TurnResult) => void;
  private settled = false;
  private finishing = false;
  private cancelRequested = false;
  private readonly startedAt = Date.now();
  private usage: UsageTotals = emptyUsage();
  private text = '';
  private pending = new Set<() => void>();
  private idleTimer?: NodeJS.Timeout;
  private readonly turnTimer: NodeJS.Timeout;
  private cancelTimer?: NodeJS.Timeout;
  private malformed = 0;
  private refusals = 0;

  constructor(private readonly init: AcpTurnInit) {
    this.normalizer = new UpdateNormalizer(init.log, init.turnTag, init.limits);
    this.normalizer.lastCost = init.costBefore;
    this.result = new Promise((r) => (this.resolve = r));
    this.turnTimer = setTimeout(
      () => this.fail('timeout', `The turn exceeded its wall-clock limit of ${init.timeouts.turnMs} ms.`),
      init.timeouts.turnMs,
    );
    this.touch();
  }

  get done(): boolean {
    return this.settled || this.finishing;
  }

  private emit(e: AgentEvent | undefined): void {
    if (!e) return;
    if (e.kind === 'usage') this.usage = addUsage(this.usage, e);
    if (e.kind === 'message_chunk' && e.role === 'assistant') this.text += e.text;
    try {
      this.init.onEvent(e);
    } catch (err) {
      this.init.debug?.(`onEvent listener threw: ${String(err)}`);
    }
  }

  private push(key: string, body: AgentEventBody): void {
    this.emit(this.init.log.push(key, body));
  }

  /** Restarts the idle watchdog; paused while a permission is pending. */
  private touch(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (this.done || this.pending.size > 0) return;
    const ms = this.init.timeouts.idleMs;
    this.idleTimer = setTimeout(() => this.fail('timeout', `No activity from the agent for ${ms} ms.`), ms);
  }

  onUpdate(update: unknown): void {
    if (this.done) return;
    const r = this.normalizer.apply(update);
    if ('malformed' in r) {
      this.malformed++;
      this.init.debug?.(`malformed session/update ignored: ${r.malformed}`);
      if (this.malformed <= maxMalformedReports)
        this.push(`malformed:${this.init.turnTag}:${this.malformed}`, {
          kind: 'error',
          reason: 'protocol',
          message: `The agent sent a malformed session/update (ignored): ${r.malformed}`,
        });
    } else for (const e of r.events) this.emit(e);
    this.touch();
  }

  /** `session/request_permission`: judged by the policy; answered `cancelled` once the turn is cancelled or over. */
  async onPermission(params: { toolCall?: unknown; options?: unknown }, requestId: string): Promise<PermissionAnswer> {
    const options = (Array.isArray(params.options) ? params.options : []).filter(
      (o): o is PermissionOptionLike => !!o && typeof o === 'object' && typeof o.optionId === 'string' && typeof o.kind === 'string',
    );
    const tool = this.normalizer.noteToolCall(params.toolCall);
    if (this.done || this.cancelRequested || !tool) {
      if (!tool) this.init.debug?.('permission request without a toolCall.toolCallId: answered cancelled');
      return { outcome: { outcome: 'cancelled' } };
    }
    const req = toPermissionRequest(this.init.taskId, this.init.cwd, tool, this.init.permissionQuirks);
    const { decision, cancelled } = await this.decide(req, `${this.init.turnTag}:${requestId}`);
    const optionId = chooseOption(options, decision);
    if (cancelled || this.done || !optionId) return { outcome: { outcome: 'cancelled' } };
    return { outcome: { outcome: 'selected', optionId } };
  }

  /** A command the agent wants us to run (`terminal/create`): judged as `bash` with its command line. */
  async judgeCommand(line: string, requestId: string): Promise<boolean> {
    if (this.done || this.cancelRequested) return false;
    const req: PermissionRequest = {
      runId: this.init.taskId,
      permission: 'bash',
      patterns: [line],
      toolKind: 'execute',
      commandLine: line,
      cwd: this.init.cwd,
    };
    const { decision, cancelled } = await this.decide(req, `${this.init.turnTag}:${requestId}`);
    return decision === 'allow' && !cancelled && !this.done;
  }

  private async decide(req: PermissionRequest, id: string): Promise<{ decision: 'allow' | 'deny'; cancelled: boolean }> {
    let cancelled = false;
    const onCancel = () => (cancelled = true);
    let wake!: () => void;
    const woken = new Promise<void>((r) => (wake = r));
    const entry = () => {
      onCancel();
      wake();
    };
    this.pending.add(entry);
    this.touch();
    this.push(`perm:${id}`, {
      kind: 'permission_request',
      id,
      permission: req.permission,
      patterns: req.patterns,
      ...(req.toolCallId ? { toolCallId: req.toolCallId } : {}),
    });
    const verdict = await askPolicy(this.init.policy, req, this.init.timeouts.permissionMs, woken);
    let decision = verdict.decision;
    const { by, note } = verdict;
    this.pending.delete(entry);
    if (cancelled || this.done) decision = 'deny';
    this.push(`perm:${id}:decision`, { kind: 'permission_decision', id, decision, by, ...(note ? { note } : {}) });
    this.touch();
    return { decision, cancelled };
  }

  /** An `fs/*` call we refused: reported as a denied permission, so the task's outcome shows it. */
  reportRefusal(op: 'read' | 'write', path: string, reason: string): void {
    const id = `${this.init.turnTag}:fs${++this.refusals}`;
    this.init.debug?.(`fs/${op}_text_file refused: ${reason}`);
    this.push(`perm:${id}`, { kind: 'permission_request', id, permission: op === 'write' ? 'edit' : 'read', patterns: [path] });
    this.push(`perm:${id}:decision`, { kind: 'permission_decision', id, decision: 'deny', by: 'policy' });
    this.touch();
  }

  /** Any other sign of life (an fs call answered). */
  activity(): void {
    this.touch();
  }

  promptReturned(response: { stopReason?: unknown; usage?: unknown }): void {
    if (this.done) return;
    const u = response.usage as
      { inputTokens?: unknown; outputTokens?: unknown; thoughtTokens?: unknown; cachedReadTokens?: unknown } | undefined;
    const cost = (this.normalizer.lastCost ?? 0) - (this.init.costBefore ?? 0);
    if ((u && typeof u === 'object') || cost > 0) {
      const n = (x: unknown) => (typeof x === 'number' && x >= 0 ? x : 0);
      this.push(`usage:${this.init.turnTag}`, {
        kind: 'usage',
        inputTokens: n(u?.inputTokens),
        outputTokens: n(u?.outputTokens),
        reasoningTokens: n(u?.thoughtTokens),
        cacheReadTokens: n(u?.cachedReadTokens),
        cost: Math.max(0, cost),
      });
    }
    const stop = response.stopReason;
    if (this.cancelRequested || stop === 'cancelled') return void this.finish('cancelled');
    if (stop === 'end_turn') return void this.finish('succeeded');
    const failures: Record<string, [AgentErrorReason, string]> = {
      max_tokens: ['model_error', 'The model reached its output token limit (stop reason max_tokens).'],
      refusal: ['model_error', 'The agent refused to continue (stop reason refusal).'],
      max_turn_requests: ['timeout', 'The agent reached its limit of model requests for one turn (stop reason max_turn_requests).'],
    };
    const [reason, message] = failures[String(stop)] ?? [
      'protocol',
      `The agent ended the turn with an unknown stop reason ${JSON.stringify(stop)}.`,
    ];
    void this.finish('failed', { reason, message });
  }

  promptFailed(message: string): void {
    if (this.done) return;
    if (this.cancelRequested) return void this.finish('cancelled');
    void this.finish('failed', { reason: 'protocol', message: `session/prompt failed: ${message}` });
  }

  processExited(code: number | null, signal: string | null, stderrTail: string): void {
    if (this.settled) return;
    const message = `The agent process exited during the turn (code ${code}, signal ${signal}).`;
    void this.finish('failed', { reason: 'crashed', message, ...(stderrTail ? { stderrTail } : {}) });
  }

  /** Sends `session/cancel`, answers pending permissions `cancelled`, and ends the turn after the grace period regardless. */
  async cancel(): Promise<void> {
    if (this.done || this.cancelRequested) return;
    this.cancelRequested = true;
    for (const p of [...this.pending]) p();
    this.cancelTimer = setTimeout(() => {
      this.init.abandon(`it ignored session/cancel for ${this.init.cancelGraceMs} ms`);
      void this.finish('cancelled');
    }, this.init.cancelGraceMs);
    try {
      await this.init.sendCancel();
    } catch (e) {
      this.init.debug?.(`session/cancel could not be sent: ${String(e)}`);
    }
  }

  /** A watchdog fired or the adapter is going away: end now, failed, and stop the agent. */
  fail(reason: AgentErrorReason, message: string, stderrTail?: string): void {
    if (this.done) return;
    for (const p of [...this.pending]) p();
    this.init.sendCancel().catch(() => undefined);
    this.init.abandon(message);
    void this.finish('failed', { reason, message, ...(stderrTail ? { stderrTail } : {}) });
  }

  private async finish(status: TurnResult['status'], error?: TurnError): Promise<void> {
    if (this.finishing) return;
    this.finishing = true;
    for (const t of [this.idleTimer, this.turnTimer, this.cancelTimer]) if (t) clearTimeout(t);
    for (const p of [...this.pending]) p();
    // The answer is complete: its end is published now, while the diff is computed. The result (and so the
    // run's final state, its store record and everything that acts on a finished run) waits for the diff.
    // (`ORCH_ACP_EARLY_FINISH=0`: the end is published after the diff, for the bench's same-run comparison.)
    const stopReason = status === 'succeeded' ? 'end_turn' : status === 'cancelled' ? 'cancelled' : 'error';
    const publishEnd = () => {
      if (error) this.push(`error:${this.init.turnTag}`, { kind: 'error', message: error.message, reason: error.reason });
      this.push(`finished:${this.init.turnTag}`, { kind: 'finished', stopReason });
    };
    const early = process.env.ORCH_ACP_EARLY_FINISH !== '0';
    if (early) publishEnd();
    let diff: FileChange[] = [];
    try {
      diff = await this.init.diff();
    } catch (e) {
      this.init.debug?.(`turn diff failed: ${String(e)}`);
    }
    if (this.settled) return;
    this.settled = true;
    if (!early) publishEnd();
    this.resolve({
      status,
      stopReason,
      summary: this.text,
      usage: this.usage,
      diff,
      ...(error && status === 'failed' ? { error } : {}),
      agentSessionId: this.init.agentSessionId,
      durationMs: Date.now() - this.startedAt,
      lastSeq: this.init.log.lastSeq,
    });
  }
}
