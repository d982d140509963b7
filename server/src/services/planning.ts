/**
 * The two planners behind one function: the deterministic template planner, and the LLM planner that
 * asks an agent for JSON, validates it, allows one repair round, and otherwise rejects with reasons.
 * Nothing runs from an invalid plan: callers get DomainError('bad_input') listing every problem.
 */
import { addUsage, emptyUsage, type UsageTotals } from '../domain/agentEvent';
import { DomainError } from '../domain/errors';
import { parsePlanText, validatePlan, type Plan } from '../domain/orchestration/plan';
import { templatePlan } from '../domain/orchestration/templatePlanner';
import type { TextCompleter } from '../ports/planner';

export type PlannerId = 'template' | 'llm';

export function planningPrompt(goal: string): string {
  return [
    'You are the planner of a team of coding agents working in one git repository.',
    'Split the goal into tasks that can run in parallel where possible. Reply with ONE JSON object and nothing else:',
    '{"summary": string, "tasks": [{"id": "kebab-id", "title": string, "prompt": "what the agent must do", "dependsOn": ["ids"],',
    ' "expectedFiles": ["paths or globs the task will write"], "capabilities": ["code"|"tests"|"docs"], "estimate": {"tokens": number, "minutes": number}}]}',
    'Rules: ids are unique; dependsOn only names ids of this plan; no cycles; at most 50 tasks; tasks that touch the same file must depend on each other.',
    '',
    `Goal: ${goal}`,
  ].join('\n');
}

export function repairPrompt(goal: string, errors: string[], previous: string): string {
  return [
    planningPrompt(goal),
    '',
    'Your previous answer was rejected for these reasons:',
    ...errors.map((e) => `- ${e}`),
    '',
    `Previous answer:\n${previous.slice(0, 4000)}`,
    '',
    'Reply again with ONE corrected JSON object and nothing else.',
  ].join('\n');
}

/** Validate a plan the user (or a client) supplies. The error's `issues` carry each reason's path in the params (`plan.…`). */
export function checkPlan(raw: unknown): Plan {
  const r = validatePlan(raw);
  if (!r.ok)
    throw new DomainError('bad_input', `plan: ${r.errors.join('; ')}`, {
      field: 'plan',
      errors: r.errors,
      issues: r.issues.map((i) => ({ path: ['plan', ...i.path], message: i.message })),
    });
  return r.plan;
}

/** A plan and what planning it cost (zero for the template planner; every LLM round, the repair included, for the LLM planner). */
export interface PlannedGoal {
  plan: Plan;
  usage: UsageTotals;
}

export async function planGoal(
  goal: string,
  planner: PlannerId,
  completer?: TextCompleter,
  opts: { sessionId?: string; model?: string } = {},
): Promise<PlannedGoal> {
  if (planner === 'template') {
    const r = templatePlan(goal);
    if (!r.ok)
      throw new DomainError('bad_input', `plan (template planner, ${r.template}): ${r.errors.join('; ')}`, {
        field: 'goal',
        errors: r.errors,
      });
    return { plan: r.plan, usage: emptyUsage() };
  }
  if (!completer) throw new DomainError('agent_unavailable', 'the LLM planner needs a planning agent, and none is configured');
  let usage = emptyUsage();
  const ask = async (prompt: string): Promise<string> => {
    const r = await completer.complete(prompt, opts);
    if (r.usage) usage = addUsage(usage, { kind: 'usage', ...r.usage });
    return r.text;
  };
  const first = await ask(planningPrompt(goal));
  const r1 = parsePlanText(first);
  if (r1.ok) return { plan: r1.plan, usage };
  const second = await ask(repairPrompt(goal, r1.errors, first));
  const r2 = parsePlanText(second);
  if (r2.ok) return { plan: r2.plan, usage };
  throw new DomainError('bad_input', `plan (LLM planner, rejected after one repair round): ${r2.errors.join('; ')}`, {
    field: 'plan',
    errors: r2.errors,
    firstErrors: r1.errors,
  });
}
