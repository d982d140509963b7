/**
 * Connect to Team Server… / Disconnect from Team Server. The URL goes to `orchestrator.server.url` (user
 * settings: a machine setting), the API key only to SecretStorage (one per URL); neither command logs the
 * key. Automation (tests) may pass `{ url, apiKey }` instead of answering the prompts.
 */
import * as vscode from 'vscode';
import { readConfig, writeServerUrl } from '../config';
import type { Ctx, TeamInfo } from '../ctx';
import { checkServerUrl, teamKeySecretId } from '../teamReconnect';

/** Until the extension host reads `url` back from the settings it just wrote (at most 10 s). */
async function settled(url: string): Promise<void> {
  const end = Date.now() + 10_000;
  while (readConfig().serverUrl !== url && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
}

export interface ConnectArgs {
  url?: string;
  apiKey?: string;
}

export const connectTeamServer =
  (ctx: Ctx) =>
  async (args?: ConnectArgs): Promise<TeamInfo | undefined> => {
    const title = vscode.l10n.t('Connect to Team Server');
    const urlText =
      args?.url ??
      (await vscode.window.showInputBox({
        title,
        prompt: vscode.l10n.t('The team server URL (orchestrator serve), e.g. ws://127.0.0.1:7420 or wss://orchestrator.example.com'),
        value: readConfig().serverUrl || 'ws://127.0.0.1:7420',
        ignoreFocusOut: true,
        validateInput: (v) => {
          const c = checkServerUrl(v);
          return c.ok ? undefined : c.reason;
        },
      }));
    if (urlText === undefined) return undefined;
    const checked = checkServerUrl(urlText);
    if (!checked.ok) {
      void vscode.window.showErrorMessage(vscode.l10n.t('Orchestrator: {0}.', checked.reason));
      return undefined;
    }
    const url = checked.url;
    const key =
      args?.apiKey ??
      (await vscode.window.showInputBox({
        title,
        prompt: vscode.l10n.t('The API key for {0} (from "orchestrator admin create-key"); kept in the secret storage only', url),
        password: true,
        ignoreFocusOut: true,
        validateInput: (v) => (v.trim() ? undefined : vscode.l10n.t('Paste the API key')),
      }));
    if (!key?.trim()) return undefined;
    await ctx.extension.secrets.store(teamKeySecretId(url), key.trim());
    await writeServerUrl(url);
    await settled(url);
    ctx.log.info(`connecting to the team server at ${url}`);
    await ctx.restart();
    const team = ctx.status.team;
    if (team)
      void vscode.window.showInformationMessage(
        vscode.l10n.t(
          'Connected to the team server at {0}: tenant {1}, signed in as {2} ({3}).',
          url,
          team.who.tenantId,
          team.who.userName,
          team.who.role,
        ),
      );
    return team;
  };

export const disconnectTeamServer = (ctx: Ctx) => async (): Promise<void> => {
  const url = readConfig().serverUrl;
  if (!url) {
    void vscode.window.showInformationMessage(vscode.l10n.t('Orchestrator is not connected to a team server; it uses its bundled server.'));
    return;
  }
  await ctx.extension.secrets.delete(teamKeySecretId(url));
  await writeServerUrl('');
  await settled('');
  ctx.log.info(`disconnected from the team server at ${url}; starting the bundled server`);
  await ctx.restart();
};
