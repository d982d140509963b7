/** Activation: wires the context, commands, views and webviews. Nothing else. */
import * as vscode from 'vscode';
import { serverStatus } from '../../protocol/server';
import { agentList } from '../../protocol/agent';
import { sessionList } from '../../protocol/session';
import { taskList } from '../../protocol/task';
import type { OrchestratorApi } from './api';
import { registerCommands } from './commands/registry';
import { Ctx } from './ctx';
import { agentItems, registerTrees } from './views/trees';
import { createAgentNotifications, restartOnSettingsChange } from './views/agentNotifications';
import { createStatusItem } from './views/statusItem';
import { DashboardPanels } from './webviews/dashboardPanel';

let ctx: Ctx | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<OrchestratorApi> {
  const t0 = Date.now();
  ctx = new Ctx(context);
  const dashboard = new DashboardPanels(ctx);
  const trees = registerTrees();
  context.subscriptions.push(
    ctx,
    dashboard,
    createStatusItem(ctx),
    createAgentNotifications(ctx),
    restartOnSettingsChange(ctx),
    ...trees.disposables,
    ...registerCommands(ctx, dashboard, (id) => trees.sessions.removeSession(id)),
  );
  let activationMs = 0;
  try {
    await ctx.start();
    activationMs = Date.now() - t0;
  } catch (e) {
    const message = `Industrial Orchestrator could not start its server: ${(e as Error).message}`;
    ctx.log.error(message);
    void vscode.window.showErrorMessage(message, 'Show Logs').then((p) => p && ctx?.log.show());
  }
  const c = ctx;
  const refreshAgents = () =>
    void c.request(agentList, {}).then(
      (a) => trees.agents.set(agentItems(a)),
      () => undefined,
    );
  context.subscriptions.push(
    c.onDidUpdateTask((t) => trees.sessions.upsert(t)),
    c.onDidChangeSession((v) => {
      trees.sessions.upsertSession(v);
      refreshAgents();
    }),
    // After every (re)start, load the task list the server kept.
    c.onDidChangeStatus((s) => {
      if (s.clientState === 'running' && s.status) {
        void Promise.all([c.request(taskList, {}), c.request(sessionList, {})]).then(
          ([l, ss]) => trees.sessions.replaceAll(l, ss),
          () => undefined,
        );
        refreshAgents();
      }
    }),
  );
  return {
    status: () => c.request(serverStatus, {}),
    snapshot: () => c.status,
    onDidChangeStatus: c.onDidChangeStatus,
    onDashboardMessage: dashboard.onDidReceive,
    activationMs,
    tasks: () => trees.sessions.all(),
    sessions: () => trees.sessions.allSessions(),
    agents: () => trees.agents.getChildren().map((i) => String(i.label)),
    agentRows: () =>
      trees.agents.getChildren().map((i) => ({
        label: String(i.label),
        description: String(i.description ?? ''),
        tooltip: typeof i.tooltip === 'string' ? i.tooltip : (i.tooltip?.value ?? ''),
      })),
    onDidUpdateTask: c.onDidUpdateTask,
    extensionHostPid: process.pid,
  };
}

export async function deactivate(): Promise<void> {
  await ctx?.stop();
}
