/** What `activate` returns: a small API for tests and for other extensions. */
import type * as vscode from 'vscode';
import type { ServerStatus } from '../../protocol/server';
import type { RunView } from '../../protocol/run';
import type { SessionView } from '../../protocol/session';
import type { DashboardToHost } from '../../protocol/webview/dashboard';
import type { OrchestratorConfig } from './config';
import type { StatusSnapshot } from './ctx';
import type { WaitingOn } from './views/activity';

/** A tree row as VS Code shows it. */
export interface TreeRow {
  label: string;
  description: string;
  children?: TreeRow[];
}

/** A task row of the Sessions view (the tree item object itself). */
export interface TaskTreeRow {
  sessionId: string;
  taskId: string;
  contextValue?: string;
  label?: string | vscode.TreeItemLabel;
  description?: string | boolean;
  tooltip?: string | vscode.MarkdownString;
}

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
  /** `activate` up to the server's start: what the extension itself costs. */
  ownActivationMs: number;
  /** Evaluating `dist/extension.js` before `activate` ran (undefined when not run from the bundle). */
  moduleLoadMs?: number;
  /** The runs the Sessions view knows (single runs are rows; a session's runs show through its tasks). */
  runs(): RunView[];
  /** The session as the server has it now (`session/get`), not the view's copy. */
  session(sessionId: string): Promise<SessionView>;
  /** Sessions the Sessions view shows. */
  sessions(): SessionView[];
  /** The Sessions view's rows as rendered: sessions with their task rows, then single runs. */
  sessionRows(): TreeRow[];
  /** What waits on the user, by kind (plans and decisions, open permission asks, refused applies). */
  waiting(): WaitingOn;
  /** The Sessions view's badge as shown (undefined: no badge). */
  sessionsBadge(): { value: number; tooltip: string } | undefined;
  /**
   * The Sessions view's row of a session's task (plan id `planId`) as the tree hands it to the task
   * commands (`sessionId`, `taskId`), with its `contextValue` (which inline actions it shows), label,
   * description and tooltip; undefined when the view has no such row.
   */
  taskRow(sessionId: string, planId: string): TaskTreeRow | undefined;
  /** Names the Agents view shows. */
  agents(): string[];
  /** The Agents view's rows as shown: agent id, label, description, tooltip text and `contextValue` (its inline actions). */
  agentRows(): { id: string; label: string; description: string; tooltip: string; contextValue: string }[];
  onDidUpdateRun: vscode.Event<RunView>;
  extensionHostPid: number;
  /** Whether SecretStorage holds an API key for the provider (the key itself is never exposed). */
  hasProviderKey(providerId: string): Promise<boolean>;
  /** The last lines written to the "Industrial Orchestrator" output channel, oldest first. */
  logLines(): string[];
  /** The `orchestrator.*` settings in force now, as the extension reads them (`readConfig`). */
  settings(): OrchestratorConfig;
  /** The settings the running server was started with (providers after screening); no keys. */
  serverSettings(): OrchestratorConfig | undefined;
  /** `local` (bundled server) or the team role of the connected key: the `orchestrator.role` context key. */
  role(): string;
  /** The status bar item's text and tooltip as shown. */
  statusBar(): { text: string; tooltip: string };
}
