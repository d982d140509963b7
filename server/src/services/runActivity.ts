/**
 * Live activity of session tasks: the running attempt's tool in progress and usage so far, taken from the
 * run service and put on the session's task views, so a client sees it in `session/didChange` without
 * asking for the runs. Pure.
 */
import type { SessionView } from '../../../protocol/session';
import type { UsageTotals } from '../../../protocol/agentEvent';

export interface RunActivity {
  currentTool?: string;
  usage: UsageTotals;
}

/** `view` with each task whose latest run is still in progress carrying that run's activity. */
export function withRunActivity(view: SessionView, activity: (runId: string) => RunActivity | undefined): SessionView {
  let changed = false;
  const tasks = view.tasks.map((t) => {
    const a = t.runId && (t.state === 'running' || t.state === 'blocked') ? activity(t.runId) : undefined;
    if (!a) return t;
    changed = true;
    return { ...t, usage: a.usage, ...(a.currentTool ? { currentTool: a.currentTool } : {}) };
  });
  return changed ? { ...view, tasks } : view;
}

/** A key that changes when what `withRunActivity` shows of a run changes (tool or token count). */
export function activityKey(a: RunActivity): string {
  return `${a.currentTool ?? ''}\u0000${a.usage.inputTokens + a.usage.outputTokens + a.usage.reasoningTokens}`;
}
