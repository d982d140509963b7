/** Registers every command of the table with its handler factory. */
import * as vscode from 'vscode';
import type { Ctx } from '../ctx';
import type { DashboardPanels } from '../webviews/dashboardPanel';
import type { MarketplacePanels } from '../webviews/marketplacePanel';
import { commandIds, type CommandId } from './ids';
import { restartServer, showLogs, showStatus } from './server';
import { GoalEditors } from './goalEditor';
import { PlanReviews } from './planReview';
import {
  applySession,
  approvePlan,
  approveSession,
  cancelSession,
  deleteSession,
  retrySession,
  reviewPlan,
  startSession,
  startSessionFromEditor,
  submitSessionGoal,
} from './sessions';
import { cancelRun, startRun } from './runs';
import { sendSelectionToAgent } from '../codeActions/agentCodeActions';
import { reviewChanges } from './review';
import { cancelTask, retryTask, setTaskPriority } from './tasks';
import { configureModelProvider, selectDefaultModel } from './models';
import { getStarted } from './walkthrough';
import { disableAgent, enableAgent } from './agents';
import { refusal } from './roleGate';
import { connectTeamServer, disconnectTeamServer } from './team';

/** `removeSession`: drops a deleted session from the Sessions view. */
export function registerCommands(
  ctx: Ctx,
  dashboard: DashboardPanels,
  marketplace: MarketplacePanels,
  removeSession: (sessionId: string) => void = () => undefined,
): vscode.Disposable[] {
  const goals = new GoalEditors();
  const plans = new PlanReviews(ctx);
  const deps = { goals, plans, removeSession };
  const table: Record<CommandId, (...args: unknown[]) => unknown> = {
    [commandIds.showStatus]: showStatus(ctx),
    [commandIds.restartServer]: restartServer(ctx),
    [commandIds.connectTeamServer]: connectTeamServer(ctx) as (...args: unknown[]) => unknown,
    [commandIds.disconnectTeamServer]: disconnectTeamServer(ctx),
    [commandIds.showLogs]: showLogs(ctx),
    [commandIds.openDashboard]: () => dashboard.open(),
    [commandIds.startRun]: startRun(ctx) as (...args: unknown[]) => unknown,
    [commandIds.cancelRun]: cancelRun(ctx) as (...args: unknown[]) => unknown,
    [commandIds.sendSelectionToAgent]: sendSelectionToAgent(ctx) as (...args: unknown[]) => unknown,
    [commandIds.startSession]: startSession(ctx, deps) as (...args: unknown[]) => unknown,
    [commandIds.startSessionFromEditor]: startSessionFromEditor(deps) as (...args: unknown[]) => unknown,
    [commandIds.submitSessionGoal]: submitSessionGoal(ctx, deps) as (...args: unknown[]) => unknown,
    [commandIds.approveSession]: approveSession(ctx) as (...args: unknown[]) => unknown,
    [commandIds.reviewPlan]: reviewPlan(ctx, deps) as (...args: unknown[]) => unknown,
    [commandIds.approvePlan]: approvePlan(deps) as (...args: unknown[]) => unknown,
    [commandIds.cancelSession]: cancelSession(ctx) as (...args: unknown[]) => unknown,
    [commandIds.applySession]: applySession(ctx) as (...args: unknown[]) => unknown,
    [commandIds.reviewChanges]: reviewChanges(ctx) as (...args: unknown[]) => unknown,
    [commandIds.retrySession]: retrySession(ctx) as (...args: unknown[]) => unknown,
    [commandIds.deleteSession]: deleteSession(ctx, deps) as (...args: unknown[]) => unknown,
    [commandIds.retryTask]: retryTask(ctx) as (...args: unknown[]) => unknown,
    [commandIds.cancelTask]: cancelTask(ctx) as (...args: unknown[]) => unknown,
    [commandIds.setTaskPriority]: setTaskPriority(ctx) as (...args: unknown[]) => unknown,
    [commandIds.configureModelProvider]: configureModelProvider(ctx) as (...args: unknown[]) => unknown,
    [commandIds.selectDefaultModel]: selectDefaultModel() as (...args: unknown[]) => unknown,
    [commandIds.getStarted]: getStarted(ctx),
    [commandIds.enableAgent]: enableAgent(ctx) as (...args: unknown[]) => unknown,
    [commandIds.disableAgent]: disableAgent(ctx) as (...args: unknown[]) => unknown,
    [commandIds.openMarketplace]: () => marketplace.open(),
  };
  return [
    goals,
    plans,
    ...Object.entries(table).map(([id, handler]) => vscode.commands.registerCommand(id, gated(ctx, id as CommandId, handler))),
  ];
}

/** `startSession` → `Start Session`: the palette title, for messages. */
const titleOf = (id: string) =>
  id
    .replace(/^orchestrator\./, '')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/^./, (c) => c.toUpperCase());

/** A viewer on a team server gets a clear refusal from a mutating command, even when invoked by id. */
function gated(ctx: Ctx, id: CommandId, handler: (...args: unknown[]) => unknown): (...args: unknown[]) => unknown {
  return (...args) => {
    const no = refusal(id, ctx.role, titleOf(id));
    if (!no) return handler(...args);
    ctx.log.warn(no);
    void vscode.window.showErrorMessage(`Orchestrator: ${no}`);
    return undefined;
  };
}
