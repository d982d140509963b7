/** Registers every command of the table with its handler factory. */
import * as vscode from 'vscode';
import type { Ctx } from '../ctx';
import type { DashboardPanels } from '../webviews/dashboardPanel';
import { commandIds, type CommandId } from './ids';
import { restartServer, showLogs, showStatus } from './server';
import { applySession, approveSession, cancelSession, startSession } from './sessions';
import { cancelTask, runTask } from './tasks';

export function registerCommands(ctx: Ctx, dashboard: DashboardPanels): vscode.Disposable[] {
  const table: Record<CommandId, (...args: unknown[]) => unknown> = {
    [commandIds.showStatus]: showStatus(ctx),
    [commandIds.restartServer]: restartServer(ctx),
    [commandIds.showLogs]: showLogs(ctx),
    [commandIds.openDashboard]: () => dashboard.open(),
    [commandIds.runTask]: runTask(ctx) as (...args: unknown[]) => unknown,
    [commandIds.cancelTask]: cancelTask(ctx) as (...args: unknown[]) => unknown,
    [commandIds.startSession]: startSession(ctx) as (...args: unknown[]) => unknown,
    [commandIds.approveSession]: approveSession(ctx) as (...args: unknown[]) => unknown,
    [commandIds.cancelSession]: cancelSession(ctx) as (...args: unknown[]) => unknown,
    [commandIds.applySession]: applySession(ctx) as (...args: unknown[]) => unknown,
  };
  return Object.entries(table).map(([id, handler]) => vscode.commands.registerCommand(id, handler));
}
