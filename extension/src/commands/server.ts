/** Server commands: status, restart, logs. Each export is a `(ctx) => handler` factory. */
import * as vscode from 'vscode';
import { serverStatus, type ServerStatus } from '../../../protocol/server';
import type { Ctx } from '../ctx';

export const showStatus = (ctx: Ctx) => async (): Promise<ServerStatus> => {
  const s = await ctx.request(serverStatus, {});
  const up = Math.round(s.uptimeMs / 1000);
  const text = `Orchestrator ${s.version}: ${s.health}. ${s.message} (pid ${s.pid}, up ${up} s, store ${s.store.path})${s.sandbox ? ` Agents' shell commands ${s.sandbox.enabled ? 'are' : 'are not'} sandboxed: ${s.sandbox.reason}` : ''}`;
  if (s.health === 'ok') void vscode.window.showInformationMessage(text);
  else void vscode.window.showWarningMessage(text, 'Show Logs').then((p) => p && ctx.log.show());
  return s;
};

export const restartServer = (ctx: Ctx) => async (): Promise<void> => {
  await ctx.restart();
};

export const showLogs = (ctx: Ctx) => (): void => {
  ctx.log.show(true);
};
