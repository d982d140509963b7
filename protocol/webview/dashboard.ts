/**
 * Dashboard surface messages. Webview → host messages are untrusted and parsed with
 * `dashboardToHost`; host → webview messages are typed by `HostToDashboard`.
 */
import { z } from 'zod';
import type { ServerStatus } from '../server';
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
export type HostToDashboard = DashboardStatusMessage;

/** webview → host: what the webview rendered (health and pid), used by tests and the status bar. */
export const dashboardDidRender = z
  .object({
    type: z.literal('dashboard/didRender'),
    health: z.string().max(32),
    pid: z.number().int().nonnegative().nullable(),
  })
  .strict();

/** webview → host: a button asks for a command. */
export const dashboardCommand = z
  .object({
    type: z.literal('dashboard/command'),
    command: z.enum(['restartServer', 'showLogs']),
  })
  .strict();

export const dashboardToHost = z.discriminatedUnion('type', [readyMessage, dashboardDidRender, dashboardCommand]);
export type DashboardToHost = z.infer<typeof dashboardToHost>;
