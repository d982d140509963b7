/** Answers the server's `permission/request`: the user decides; no answer before the deadline denies. */
import * as vscode from 'vscode';
import type { PermissionAsk } from '../../protocol/run';

export async function askPermission(ask: PermissionAsk, deadlineMs = 110_000): Promise<{ decision: 'allow' | 'deny' }> {
  const what = ask.patterns.length ? ask.patterns.join(', ') : '(unspecified)';
  const question = vscode.window.showWarningMessage(
    `An agent run asks for "${ask.permission}": ${what}. ${ask.reason}. Allow it?`,
    { detail: `Run ${ask.runId} in ${ask.cwd}` },
    'Allow',
    'Deny',
  );
  const timeout = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), deadlineMs));
  const pick = await Promise.race([question, timeout]);
  return { decision: pick === 'Allow' ? 'allow' : 'deny' };
}
