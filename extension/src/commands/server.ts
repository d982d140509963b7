/** Server commands: status, restart, logs. Each export is a `(ctx) => handler` factory. */
import * as vscode from 'vscode';
import type { ServerStatus } from '../../../protocol/server';
import { serverStatus } from '../../../protocol/methodRefs';
import type { Ctx } from '../ctx';

export const showStatus = (ctx: Ctx) => async (): Promise<ServerStatus> => {
  const s = await ctx.request(serverStatus, {});
  const up = Math.round(s.uptimeMs / 1000);
  const head = vscode.l10n.t(
    'Orchestrator {0}: {1}. {2} (pid {3}, up {4} s, store {5})',
    s.version,
    s.health,
    s.message,
    s.pid,
    up,
    s.store.path,
  );
  const sandbox = !s.sandbox
    ? ''
    : s.sandbox.enabled
      ? vscode.l10n.t("Agents' shell commands are sandboxed: {0}", s.sandbox.reason)
      : vscode.l10n.t("Agents' shell commands are not sandboxed: {0}", s.sandbox.reason);
  const text = sandbox ? `${head} ${sandbox}` : head;
  if (s.health === 'ok') void vscode.window.showInformationMessage(text);
  else void vscode.window.showWarningMessage(text, vscode.l10n.t('Show Logs')).then((p) => p && ctx.log.show());
  return s;
};

export const restartServer = (ctx: Ctx) => async (): Promise<void> => {
  await ctx.restart();
};

export const showLogs = (ctx: Ctx) => (): void => {
  ctx.log.show(true);
};
