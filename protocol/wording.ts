/**
 * Human wording for the Sessions view and the dashboard: states, waits, routing and errors as a user reads them. The
 * server's own strings (lease holders by internal task id, circuit-breaker terms, routing scores) stay
 * available verbatim in the tooltip's Details section. Pure: no `vscode` import, unit-tested.
 */
import type { RunView } from './run';
import type { SessionState, SessionView, TaskState, TaskView } from './session';

const sessionStates: Record<SessionState, string> = {
  draft: 'plan ready for review',
  running: 'running',
  paused: 'paused',
  awaiting_approval: 'waiting for you',
  completed: 'completed',
  partially_completed: 'partly completed',
  failed: 'failed',
  cancelled: 'cancelled',
  timed_out: 'ran out of time',
};

const taskStates: Record<TaskState, string> = {
  pending: 'waiting for the tasks it depends on',
  ready: 'ready to start',
  running: 'running',
  blocked: 'waiting',
  succeeded: 'done',
  failed: 'failed',
  cancelled: 'cancelled',
  skipped: 'skipped (a task it depends on failed)',
};

export const sessionStateText = (s: SessionState): string => sessionStates[s] ?? s;
export const taskStateText = (s: TaskState): string => taskStates[s] ?? s;

/** `s123:fix` → `fix` (the id the user wrote in the plan). */
const planIdOf = (taskId: string): string => taskId.slice(taskId.lastIndexOf(':') + 1);
const agentName = (id: string): string => (id === 'opencode' ? 'OpenCode' : id);

/** Why a task waits, in words: which task holds which files, or that a permission is pending. */
export function blockedText(t: Pick<TaskView, 'blocked'>): string | undefined {
  const b = t.blocked;
  if (!b) return undefined;
  if (b.on === 'permission') return 'waiting for your permission';
  const m = /^lease on (.+?) overlaps (.+)$/.exec(b.reason);
  if (b.on === 'lease' && m) {
    const holders = [...m[2].matchAll(/(\S+) \((?:read|write): ([^)]*)\)/g)].map((h) => `${planIdOf(h[1])}`);
    return holders.length ? `waiting for ${holders.join(', ')} to finish with ${m[1]}` : `waiting for another task to finish with ${m[1]}`;
  }
  return `waiting: ${b.reason}`;
}

/** Who runs the task and why, without scores. */
export function routeText(routeReason: string | undefined): string | undefined {
  if (!routeReason) return undefined;
  const m = /^([^:\s]+): (.*)$/.exec(routeReason);
  if (!m) return routeReason;
  const agent = agentName(m[1]);
  const probe = /probe task after its circuit opened \((\d+) consecutive failures/.exec(m[2]);
  if (probe) return `${agent} is being tried again after ${probe[1]} failures in a row`;
  const over = / over (\S+) [\d.]+$/.exec(m[2]);
  return over ? `run by ${agent} (preferred to ${agentName(over[1])})` : `run by ${agent}`;
}

/** An error as the user should read it; internal routing terms are translated. */
export function errorText(error: string | undefined): string | undefined {
  if (!error) return undefined;
  const rotation = /every capable agent is out of rotation \(circuit open\): (.+)$/.exec(error);
  if (rotation)
    return `no agent can take it now: ${rotation[1].split(', ').map(agentName).join(', ')} paused after repeated failures and is tried again shortly`;
  const busy = /every capable agent is at capacity/.test(error);
  if (busy) return 'every agent that can do it is busy; it starts when one is free';
  return error;
}

const tokens = (u: { inputTokens: number; outputTokens: number }) => u.inputTokens + u.outputTokens;
const count = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** One line under a session: its state in words and its progress. */
export function sessionDescription(s: SessionView): string {
  const done = s.tasks.filter((t) => t.state === 'succeeded').length;
  const running = s.tasks.filter((t) => t.state === 'running').length;
  const parts = [s.appliedAt ? `${sessionStateText(s.state)}, applied` : sessionStateText(s.state), `${done}/${s.tasks.length} done`];
  if (running) parts.push(`${running} running`);
  parts.push(`${tokens(s.usage).toLocaleString('en-US')} tokens`);
  return parts.join(' · ');
}

/**
 * One line under a task: its state in words, what its running attempt does now (the tool in progress),
 * why it waits or failed, and its tokens (so far, while it runs).
 */
export function taskDescription(t: TaskView): string {
  const why = t.state === 'blocked' ? blockedText(t) : t.state === 'failed' ? errorText(t.lastError) : undefined;
  const head = t.state === 'blocked' ? undefined : taskStateText(t.state);
  const doing = t.currentTool ? `tool: ${t.currentTool}` : undefined;
  const usage = t.result?.usage ?? t.usage;
  const warning = t.result?.warnings?.length ? `⚠ ${t.result.warnings[0]}` : undefined;
  return [head, doing, why, usage ? `${tokens(usage).toLocaleString('en-US')} tokens` : undefined, warning].filter(Boolean).join(' · ');
}

/** One line under a single run: its state, the tool in progress, its tokens and its first warning. */
export function runDescription(r: RunView): string {
  const warning = r.warnings?.length ? `⚠ ${r.warnings[0].length > 50 ? `${r.warnings[0].slice(0, 49)}…` : r.warnings[0]}` : undefined;
  return [r.state, r.currentTool, `${tokens(r.usage)} tokens`, warning].filter(Boolean).join(' · ');
}

/** The tooltip of a session, as Markdown: the current state first, then the goal and the numbers. */
export function sessionTooltip(s: SessionView): string {
  const counts = (['running', 'blocked', 'pending', 'ready', 'succeeded', 'failed', 'skipped', 'cancelled'] as const)
    .map((st) => [st, s.tasks.filter((t) => t.state === st).length] as const)
    .filter(([, n]) => n > 0)
    .map(([st, n]) => `${n} ${taskStateText(st)}`);
  const lines = [
    `**${sessionStateText(s.state)}**${s.appliedAt ? ` · applied to your working tree ${new Date(s.appliedAt).toLocaleString()}` : ''}`,
    s.approval ? `Waiting for you: ${s.approval.message}` : '',
    s.error && s.state !== 'completed' ? `Why: ${errorText(s.error)}` : '',
    `${count(s.tasks.length, 'task')}${counts.length ? `: ${counts.join(', ')}` : ''}`,
    `Tokens: ${tokens(s.usage).toLocaleString('en-US')}${s.plannerUsage ? ` (planning ${tokens(s.plannerUsage).toLocaleString('en-US')})` : ''}${s.budget.limits.tokens ? ` of ${s.budget.limits.tokens.toLocaleString('en-US')}` : ''}`,
    `Goal:\n\n${s.goal
      .split('\n')
      .map((l) => `    ${l}`)
      .join('\n')}`,
    `Details: session \`${s.id}\`${s.integrationBranch && !s.appliedAt ? ` · branch \`${s.integrationBranch}\`` : ''} · ${s.cwd}`,
  ];
  return lines.filter(Boolean).join('\n\n');
}

/** The tooltip of a task: state and reason in words; the server's raw strings under Details. */
export function taskTooltip(t: TaskView): string {
  const why = t.state === 'blocked' ? blockedText(t) : errorText(t.lastError);
  const details = [
    `task \`${t.id}\``,
    `attempt ${t.attempts} of ${t.maxAttempts}`,
    t.priority !== undefined ? `priority ${t.priority} (0 = highest)` : '',
    t.routeReason ? `routing: ${t.routeReason}` : '',
    t.blocked ? `${t.blocked.on}: ${t.blocked.reason}` : '',
    t.lastError && why !== t.lastError ? `error: ${t.lastError}` : '',
    t.branch ? `branch \`${t.branch}\`` : '',
  ].filter(Boolean);
  return [
    `**${taskStateText(t.state)}**${routeText(t.routeReason) ? ` · ${routeText(t.routeReason)}` : ''}`,
    why && t.state !== 'succeeded' ? why : '',
    t.result ? `${t.result.summary}\n\nChanged: ${t.result.changedFiles.join(', ') || 'nothing'}` : '',
    t.result?.warnings?.length ? `**Warning**: ${t.result.warnings.join('; ')}` : '',
    t.prompt,
    `Details: ${details.join(' · ')}`,
  ]
    .filter(Boolean)
    .join('\n\n');
}
