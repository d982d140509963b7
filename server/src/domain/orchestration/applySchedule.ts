/**
 * Applies a scheduler decision (scheduler.ts) to the sessions and tasks it was computed from: blocked
 * tasks wait on their lease, unroutable ones fail (their dependents are skipped), dispatched ones run on
 * their branch; leases, agent health and budgets take the decision's values; a budget crossing or an
 * agent that cannot start makes a running session wait for the user. Pure.
 */
import { afterTaskFinished } from './dagProgress';
import type { LeaseTable } from './lease';
import type { AgentHealth } from './routing';
import type { SchedulerDecision } from './scheduler';
import { transitionSession, type Session } from './sessionState';
import { isTaskTerminal, transitionTask, type Task } from './taskState';

export interface ApplyScheduleInput<S extends Session, T extends Task> {
  sessions: readonly S[];
  tasks: readonly T[];
  agentHealth: Readonly<Record<string, AgentHealth>>;
  decision: SchedulerDecision;
  /** The branch a dispatched task runs on. */
  branchOf(sessionId: string, planId: string): string;
  /** The question to ask when a session waits for an agent that cannot start (else the scheduler's message). */
  unavailableQuestion?: string;
  nowMs: number;
}

export interface AppliedSchedule<S extends Session, T extends Task> {
  sessions: S[];
  tasks: T[];
  leases: LeaseTable;
  agentHealth: Record<string, AgentHealth>;
  /** Sessions whose view changed (to publish). */
  touched: Set<string>;
}

export function applySchedule<S extends Session, T extends Task>(i: ApplyScheduleInput<S, T>): AppliedSchedule<S, T> {
  const { decision, nowMs } = i;
  const touched = new Set<string>();
  const byId = new Map(i.tasks.map((t) => [t.id, t] as const));
  const put = (t: T) => {
    byId.set(t.id, t);
    touched.add(t.sessionId);
  };
  for (const b of decision.blocked) {
    const t = byId.get(b.taskId);
    if (t?.state === 'ready') put(transitionTask(t, { type: 'block', on: 'lease', reason: b.reason, nowMs }));
  }
  for (const u of decision.unroutable) {
    const t = byId.get(u.taskId);
    if (t && !isTaskTerminal(t.state)) put(transitionTask(t, { type: 'fail', error: u.message, nowMs }));
  }
  for (const d of decision.dispatches) {
    const t = byId.get(d.taskId);
    if (t)
      put(
        transitionTask(t, {
          type: 'dispatch',
          agentId: d.agentId,
          routeReason: d.routeReason,
          branch: i.branchOf(d.sessionId, t.planId),
          nowMs,
        }),
      );
  }
  let tasks = i.tasks.map((t) => byId.get(t.id) ?? t);
  for (const u of decision.unroutable) {
    // Dependents of a task no agent can take are skipped, like those of any final failure.
    const changed = new Map(
      afterTaskFinished(
        tasks.filter((t) => t.sessionId === u.sessionId),
        u.taskId,
        nowMs,
        { autoRetry: false },
      ).changed.map((t) => [t.id, t] as const),
    );
    tasks = tasks.map((t) => (changed.has(t.id) ? { ...t, ...changed.get(t.id) } : t));
  }
  const sessions = i.sessions.map((x) => {
    let out: S = decision.budgets[x.id] ? { ...x, budget: decision.budgets[x.id] } : x;
    const a = decision.approvals.find((p) => p.sessionId === x.id);
    if (a && out.state === 'running') {
      out = transitionSession(out, {
        type: 'await_approval',
        approval: { kind: 'budget', message: a.crossing.message, crossing: a.crossing },
        nowMs,
      });
      touched.add(x.id);
    }
    const u = decision.unavailable.find((p) => p.sessionId === x.id);
    if (u && out.state === 'running') {
      out = transitionSession(out, {
        type: 'await_approval',
        approval: { kind: 'other', message: i.unavailableQuestion ?? u.message },
        nowMs,
      });
      touched.add(x.id);
    }
    return out;
  });
  return { sessions, tasks, leases: decision.leases, agentHealth: { ...i.agentHealth, ...decision.agents }, touched };
}
