/** What `activate` returns: a small API for tests and for other extensions. */
import type * as vscode from 'vscode';
import type { ServerStatus } from '../../protocol/server';
import type { SessionView } from '../../protocol/session';
import type { TaskView } from '../../protocol/task';
import type { DashboardToHost } from '../../protocol/webview/dashboard';
import type { StatusSnapshot } from './ctx';

export interface OrchestratorApi {
  /** Ask the server for its status (`server/status`). */
  status(): Promise<ServerStatus>;
  /** The last snapshot pushed by the server (`server/didChangeStatus`) and the client state. */
  snapshot(): StatusSnapshot;
  onDidChangeStatus: vscode.Event<StatusSnapshot>;
  /** Messages from the dashboard webview. */
  onDashboardMessage: vscode.Event<DashboardToHost>;
  /** Milliseconds from `activate` entry to the server's first status. */
  activationMs: number;
  /** What the Sessions view shows. */
  tasks(): TaskView[];
  /** Sessions the Sessions view shows. */
  sessions(): SessionView[];
  /** Names the Agents view shows. */
  agents(): string[];
  /** The Agents view's rows as shown: label, description and tooltip text. */
  agentRows(): { label: string; description: string; tooltip: string }[];
  onDidUpdateTask: vscode.Event<TaskView>;
  extensionHostPid: number;
}
