/**
 * The words of a permission ask (pure, no `vscode`): the question, the buttons, what each button answers,
 * and the read-only details document (command, paths, folders, session, task, reason, diff).
 */
import type { PermissionAnswer, PermissionAsk } from '../../protocol/run';

export const allowOnce = 'Allow once';
export const deny = 'Deny';
export const details = 'Details…';

/** "Always for this session", or "… for this run" for a run without a session; absent when the ask cannot be remembered. */
export function alwaysLabel(ask: PermissionAsk): string | undefined {
  return ask.rememberScope ? `Always for this ${ask.rememberScope}` : undefined;
}

/** The answers offered, in order (the details action is added by the caller where it fits). */
export function permissionChoices(ask: PermissionAsk): string[] {
  const always = alwaysLabel(ask);
  return [allowOnce, ...(always ? [always] : []), deny];
}

/** What a picked button answers; undefined (dismissed, or the deadline passed) denies. */
export function answerFor(ask: PermissionAsk, pick: string | undefined): PermissionAnswer {
  if (pick === allowOnce) return { decision: 'allow' };
  if (pick !== undefined && pick === alwaysLabel(ask) && ask.rememberScope) return { decision: 'allow', remember: ask.rememberScope };
  return { decision: 'deny' };
}

const what = (ask: PermissionAsk) => ask.commandLine ?? (ask.patterns.length ? ask.patterns.join(', ') : '(unspecified)');

/** The one-line question of the notification. */
export function permissionQuestion(ask: PermissionAsk): string {
  return `An agent ${ask.taskId ? 'task' : 'run'} asks for "${ask.permission}": ${what(ask)}. ${ask.reason}.`;
}

/** How long the client waits before it stops offering the answers: a little under the server's deadline. */
export function clientDeadlineMs(ask: PermissionAsk, fallbackMs = 110_000): number {
  return ask.deadlineMs ? Math.max(500, ask.deadlineMs - 1000) : fallbackMs;
}

const fence = (text: string, lang = '') => {
  const ticks = '`'.repeat(Math.max(3, ...[...text.matchAll(/`+/g)].map((m) => m[0].length + 1)));
  return `${ticks}${lang}\n${text}\n${ticks}`;
};

/** The full ask as a Markdown document, for the "Details…" action. */
export function permissionDetails(ask: PermissionAsk): string {
  const lines = [`# Permission asked: ${ask.permission}`, '', `**Why the policy asks:** ${ask.reason}`, ''];
  const label = ask.permission === 'bash' ? 'Command' : 'Paths / patterns';
  lines.push(
    `## ${label}`,
    '',
    fence(ask.commandLine ?? (ask.patterns.length ? ask.patterns.join('\n') : '(none given)'), ask.permission === 'bash' ? 'sh' : ''),
    '',
  );
  if (ask.commandLine && ask.patterns.join('\n') !== ask.commandLine)
    lines.push('Commands the agent found in it:', '', fence(ask.patterns.length ? ask.patterns.join('\n') : '(none)', 'sh'), '');
  lines.push('## Where', '', `- folder of the run (the task's worktree): \`${ask.cwd}\``);
  if (ask.commandCwd) lines.push(`- the command runs in: \`${ask.commandCwd}\``);
  if (ask.filepath) lines.push(`- file: \`${ask.filepath}\``);
  lines.push(`- run: \`${ask.runId}\``);
  if (ask.sessionId) lines.push(`- session: \`${ask.sessionId}\``);
  if (ask.taskId) lines.push(`- task: \`${ask.taskId}\``);
  if (ask.diff) lines.push('', '## Proposed change', '', fence(ask.diff, 'diff'));
  lines.push('', '## Answers', '', `- **${allowOnce}**: this request only.`);
  const always = alwaysLabel(ask);
  if (always)
    lines.push(
      `- **${always}**: also the very same request (same permission, same ${label.toLowerCase()}, same folder) for the rest of this ${ask.rememberScope}; never anything the policy denies.`,
    );
  else lines.push('- This request is too broad to be remembered; it can only be allowed once.');
  lines.push(`- **${deny}**: the agent is told no.`);
  if (ask.deadlineMs) lines.push('', `No answer within ${Math.round(ask.deadlineMs / 1000)} s denies it.`);
  return lines.join('\n');
}
