/**
 * Dashboard surface messages. Webview → host messages are untrusted and parsed with
 * `dashboardToHost`; host → webview messages are typed by `HostToDashboard`.
 *
 * Data flows as complete snapshots: `dashboard/status` (server health) and `dashboard/sessions` (the
 * session list plus the selected session's full view, numbered by `seq`; the webview drops a snapshot
 * older than the last one it drew, and since each is complete a lost message never leaves it wrong).
 */
import { z } from 'zod';
import type { AgentEvent } from '../agentEvent';
import type { RunView } from '../run';
import type { ServerStatus } from '../server';
import type { SessionState, SessionView } from '../session';
import { readyMessage } from './host';

/** Lifecycle of the language client as the extension sees it. */
export type ClientState = 'starting' | 'running' | 'stopped';

/** host → webview: the full status snapshot. */
export interface DashboardStatusMessage {
  type: 'dashboard/status';
  clientState: ClientState;
  status: ServerStatus | null;
  /** Set when the client gave up restarting the server. */
  stoppedReason?: string;
}

/** One row of the dashboard's session list. */
export interface SessionSummary {
  id: string;
  goal: string;
  state: SessionState;
  tasks: number;
  done: number;
  running: number;
  createdAt: string;
  appliedAt?: string;
}

/** host → webview: every session (newest first) and the selected one in full. Sent throttled after any change. */
export interface DashboardSessionsMessage {
  type: 'dashboard/sessions';
  /** Increases with every snapshot the host sends; the webview ignores one not newer than what it drew. */
  seq: number;
  sessions: SessionSummary[];
  /** The selected session (the webview's choice, else the newest); null when there is none. */
  selected: SessionView | null;
  /** The user may only read (a viewer on a team server): no session or task action is drawn. */
  readOnly?: boolean;
}

/** host → webview: the answer to `dashboard/transcript`: the run and its events after `afterSeq`. */
export interface DashboardTranscriptMessage {
  type: 'dashboard/transcript';
  runId: string;
  afterSeq: number;
  run: RunView | null;
  events: AgentEvent[];
  /** Why the run or its transcript could not be read. */
  error?: string;
}

/** host → webview: how a `dashboard/command` ended; an error is shown in place. */
export interface DashboardCommandResultMessage {
  type: 'dashboard/commandResult';
  command: DashboardCommand['command'];
  ok: boolean;
  error?: string;
}

export type HostToDashboard =
  DashboardStatusMessage | DashboardSessionsMessage | DashboardTranscriptMessage | DashboardCommandResultMessage;

const id = z.string().regex(/^[A-Za-z0-9_.:-]{1,160}$/, 'must be an id');

/** webview → host: what the webview rendered, used by tests and the status bar. */
export const dashboardDidRender = z
  .object({
    type: z.literal('dashboard/didRender'),
    health: z.string().max(32),
    pid: z.number().int().nonnegative().nullable(),
    /** The sessions snapshot drawn (absent before the first one). */
    seq: z.number().int().nonnegative().optional(),
    sessionId: id.nullable().optional(),
    /** The task ids of the graph's nodes as they are in the DOM. */
    taskNodes: z.array(id).max(5000).optional(),
  })
  .strict();

const serverCommand = z.object({ type: z.literal('dashboard/command'), command: z.enum(['restartServer', 'showLogs']) }).strict();
const sessionCommand = z
  .object({
    type: z.literal('dashboard/command'),
    command: z.enum(['approveSession', 'cancelSession', 'retrySession', 'applySession']),
    sessionId: id,
  })
  .strict();
const taskCommand = z
  .object({
    type: z.literal('dashboard/command'),
    command: z.enum(['retryTask', 'cancelTask', 'setTaskPriority']),
    sessionId: id,
    taskId: id,
  })
  .strict();

/** webview → host: a button asks for a command; the host maps it to a VS Code command. */
export const dashboardCommand = z.union([serverCommand, sessionCommand, taskCommand]);
export type DashboardCommand = z.infer<typeof dashboardCommand>;

/** webview → host: the user chose a session (null: follow the newest). */
export const dashboardSelect = z.object({ type: z.literal('dashboard/select'), sessionId: id.nullable() }).strict();

/** webview → host: send the run's view and its transcript events after `afterSeq` (answered by `dashboard/transcript`). */
export const dashboardTranscript = z
  .object({
    type: z.literal('dashboard/transcript'),
    runId: z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/, 'must be a run id'),
    afterSeq: z.number().int().min(0),
  })
  .strict();

export const dashboardToHost = z.union([readyMessage, dashboardDidRender, dashboardCommand, dashboardSelect, dashboardTranscript]);
export type DashboardToHost = z.infer<typeof dashboardToHost>;
