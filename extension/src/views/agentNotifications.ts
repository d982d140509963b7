/**
 * Notifications that need the user: an agent that cannot start (with Open Setting / Show Logs), and the
 * server restart that applies changed settings.
 */
import * as vscode from 'vscode';
import { pickAlerts } from '../agentAvailability';
import { onDidChangeConfig, openSetting as openSettingAt, readConfig } from '../config';
import type { Ctx } from '../ctx';

export function createAgentNotifications(ctx: Ctx): vscode.Disposable {
  let announced = new Set<string>();
  return ctx.onDidChangeStatus((s) => {
    if (!s.status) return;
    const picked = pickAlerts(announced, s.status.agents ?? []);
    announced = picked.announced;
    for (const alert of picked.alerts) {
      ctx.log.error(alert.text);
      const [openSetting, showLogs] = [vscode.l10n.t('Open Setting'), vscode.l10n.t('Show Logs')];
      const actions = alert.setting ? [openSetting, showLogs] : [showLogs];
      void vscode.window.showErrorMessage(alert.text, ...actions).then((pick) => {
        if (pick === openSetting) void openSettingAt(alert.setting ?? 'orchestrator');
        if (pick === showLogs) ctx.log.show();
      });
    }
  });
}

/**
 * Settings apply without a restart by hand: a change to `orchestrator.*` restarts the server with the
 * new settings (changes within `debounceMs` are applied together; restarts never overlap) and says so.
 */
export function restartOnSettingsChange(ctx: Ctx, debounceMs = 400, restartDeadlineMs = 60_000): vscode.Disposable {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const sub = onDidChangeConfig(() => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      running = running.then(async () => {
        // Connect to Team Server… restarts by itself with the URL it wrote: nothing left to apply.
        if (ctx.runsWith(readConfig())) return;
        ctx.log.info('orchestrator settings changed; restarting the server');
        let timer: NodeJS.Timeout | undefined;
        try {
          // Bounded: a server that does not come back is said, and later changes are not queued behind it.
          const late = new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`it did not answer within ${restartDeadlineMs / 1000} s`)), restartDeadlineMs);
          });
          await Promise.race([ctx.restart(), late]);
          ctx.log.info('orchestrator server restarted with the changed settings');
          void vscode.window.showInformationMessage(vscode.l10n.t('Orchestrator settings changed; server restarted.'));
        } catch (e) {
          void vscode.window
            .showErrorMessage(
              vscode.l10n.t('Orchestrator settings changed, but the server did not restart: {0}', (e as Error).message),
              vscode.l10n.t('Show Logs'),
            )
            .then((p) => p && ctx.log.show());
        } finally {
          clearTimeout(timer);
        }
      });
    }, debounceMs);
  });
  return new vscode.Disposable(() => {
    if (timer) clearTimeout(timer);
    sub.dispose();
  });
}
