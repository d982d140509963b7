/**
 * The AgentRuntime port: what the orchestrator needs from any coding agent (OpenCode over HTTP+SSE today,
 * ACP agents over stdio later). Adapters normalise their agent's activity into `AgentEvent`s.
 *
 * Contract:
 * - `prompt` rejects with `AgentError('bad_input' | 'busy' | 'disposed')` when the request is refused; then
 *   nothing was started. Once a turn has started, `prompt` always resolves with a `TurnResult` (failures
 *   included, with partial output, usage and diff), never rejects and never hangs: every wait has a deadline.
 * - `onEvent` is called synchronously in `seq` order; it never sees the same `key` twice for a run.
 * - Cancelling (via `cancel(runId)` or the request's `signal`) resolves the turn as `cancelled`.
 *
 * One turn is one run (`protocol/run.ts`); requests name it by `runId`.
 */
import type { RunState } from '../../../protocol/run';
import type { AgentEvent, PermissionDecision, StopReason, UsageTotals } from '../domain/agentEvent';
import type { McpAttachment } from './agentTools';

export type AgentErrorReason =
  /** The request is invalid (missing cwd, empty prompt, unknown model, …); nothing was started. */
  | 'bad_input'
  /** The run already has a turn in progress. */
  | 'busy'
  /** The agent program could not be found or is not executable. */
  | 'not_installed'
  /** The agent process did not become ready before its start deadline, or exited while starting. */
  | 'start_failed'
  /** The agent process exited (or was killed) during the turn. */
  | 'crashed'
  /** The model endpoint could not be reached before our deadline. */
  | 'unreachable'
  /** The model endpoint answered with an error (HTTP 4xx/5xx, malformed stream) the agent gave up on. */
  | 'model_error'
  /** A turn deadline passed: no activity for too long, or the run's wall-clock limit. */
  | 'timeout'
  /** The agent answered something we did not understand, or an API call to it failed. */
  | 'protocol'
  /** The runtime was disposed. */
  | 'disposed'
  /** The orchestrator could not record the turn (its transcript or the store hit ENOSPC, EIO, …). */
  | 'write_failed';

export class AgentError extends Error {
  constructor(
    readonly reason: AgentErrorReason,
    message: string,
    /** Last lines of the agent process's stderr, when the failure involves the process. */
    readonly stderrTail?: string,
  ) {
    super(message);
    this.name = 'AgentError';
  }

  static is(e: unknown, reason?: AgentErrorReason): e is AgentError {
    return e instanceof AgentError && (reason === undefined || e.reason === reason);
  }
}

/** A permission the agent asks for before acting (edit a file, run a command, fetch a URL, …). */
export interface PermissionRequest {
  runId: string;
  /** Agent-specific permission name, e.g. OpenCode's `edit`, `bash`, `webfetch`, `external_directory`. */
  permission: string;
  /** What exactly: file paths, command lines, URLs. */
  patterns: string[];
  /** The agent's own tool kind when it has one (ACP's `read`, `edit`, `delete`, `move`, `execute`, `other`, …). */
  toolKind?: string;
  /**
   * For commands: the whole command line as the agent will run it. OpenCode's `patterns` are only the commands
   * it found in the line (no `cd x &&`, separators or repeats); "always" answers are keyed on this line.
   */
  commandLine?: string;
  toolCallId?: string;
  /** Extra detail the agent sent (command text, diff, …). */
  metadata?: Record<string, unknown>;
  cwd: string;
}

/**
 * Supplied by the caller; answers one permission request. The adapter applies a deadline and denies when it
 * passes, when the policy throws, or when there is no policy.
 */
export type PermissionPolicy = (req: PermissionRequest) => Promise<PermissionDecision | PolicyAnswer>;

/** A decision with who made it, in words, for the transcript's `permission_decision.note`. */
export interface PolicyAnswer {
  decision: PermissionDecision;
  note?: string;
}

/** The decision and note of a policy's answer, whichever form it took. */
export const policyAnswer = (a: PermissionDecision | PolicyAnswer): PolicyAnswer => (typeof a === 'string' ? { decision: a } : a);

export interface TurnTimeouts {
  /** No agent activity (events) for this long fails the turn with `timeout`. Paused while a permission is pending. */
  idleMs: number;
  /** Wall-clock limit of the whole turn. */
  turnMs: number;
  /** The model endpoint keeps failing to connect for this long: fail with `unreachable`. */
  unreachableMs: number;
  /** How long the permission policy may take before the request is denied. */
  permissionMs: number;
}

export interface PromptRequest {
  /** The orchestrator's run id; an adapter keeps one agent session per run. */
  runId: string;
  /** Absolute path of the working directory (the run's worktree). Must exist. */
  cwd: string;
  prompt: string;
  /** `provider/model`; the adapter's default when omitted. */
  model?: string;
  signal?: AbortSignal;
  permissionPolicy?: PermissionPolicy;
  timeouts?: Partial<TurnTimeouts>;
  /**
   * Our MCP server for this run (task context, progress, leases, budget), to attach to the agent's session.
   * Its headers carry the run's bearer token: never log them. Adapters attach it when the agent can use it.
   */
  mcp?: McpAttachment;
}

export interface FileChange {
  /** Path relative to `cwd`. */
  path: string;
  status: 'added' | 'modified' | 'deleted';
  additions: number;
  deletions: number;
  /** Unified diff of this file for the turn. */
  patch?: string;
}

export interface TurnError {
  reason: AgentErrorReason;
  message: string;
  stderrTail?: string;
}

export interface TurnResult {
  status: Extract<RunState, 'succeeded' | 'failed' | 'cancelled'>;
  stopReason: StopReason;
  /** The agent's final text for the turn (may be partial when cancelled or failed). */
  summary: string;
  usage: UsageTotals;
  /** Files the turn changed. */
  diff: FileChange[];
  error?: TurnError;
  /** The agent's own session id, for logs and resuming. */
  agentSessionId?: string;
  durationMs: number;
  /** `seq` of the last event of this turn. */
  lastSeq: number;
  /** Set by the run service, not by adapters: why a succeeded turn is not a plain success (writes denied, nothing changed). */
  warnings?: string[];
}

export type AgentEventListener = (event: AgentEvent) => void;

export interface AgentRuntime {
  /** Adapter id, e.g. `opencode`. */
  readonly id: string;
  /** Pre-warm: start the agent process now instead of on the first prompt. Rejects with `AgentError`. */
  start(): Promise<void>;
  /** Runs one turn, run `req.runId`; see the contract above. */
  prompt(req: PromptRequest, onEvent: AgentEventListener): Promise<TurnResult>;
  /** Cancels the turn of a run (no-op when none). Resolves once the cancel was sent. */
  cancel(runId: string): Promise<void>;
  /**
   * The caller is done with a run: no further turn of it will come. The adapter drops what it kept
   * between the run's turns (agent session, event log), after its running turn if one runs. Optional
   * (an adapter that keeps nothing per run need not implement it); a no-op for an unknown run.
   */
  release?(runId: string): void;
  /**
   * Optional: open the agent's per-folder state for `cwd` now, off the critical path, so a later first turn
   * there does not pay for it (OpenCode: its project instance, file watcher, snapshot repository). Best effort:
   * a no-op when the agent is not running; never changes a file; every call has a deadline.
   */
  warmFolder?(cwd: string): Promise<void>;
  /** Stops everything: running turns end as failed (`disposed`), processes are killed. Idempotent. */
  dispose(): Promise<void>;
}
