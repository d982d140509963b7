/** Which task a task command was called on (no VS Code API here, so it is unit-tested). */

/** What a Sessions-tree task row carries (see `TaskItem`). */
export interface TaskRowArg {
  sessionId?: string;
  taskId?: string;
  task?: { id?: string; planId?: string; priority?: number };
}

export interface TaskRef {
  sessionId: string;
  taskId: string;
  /** How the user knows the task: its plan id, else its id. */
  label: string;
}

/** The task a command was called on: a tree row, or a session id and a task id; undefined when neither. */
export function taskRefOf(item?: TaskRowArg | string, taskId?: unknown): TaskRef | undefined {
  if (typeof item === 'string') return typeof taskId === 'string' && taskId ? { sessionId: item, taskId, label: taskId } : undefined;
  const sessionId = item?.sessionId;
  const id = item?.taskId ?? item?.task?.id;
  if (!sessionId || !id) return undefined;
  return { sessionId, taskId: id, label: item?.task?.planId ?? id };
}

/** The scheduling priorities a task can take, highest first (`task/setPriority`: 0 = highest … 4 = lowest). */
export const taskPriorities = [0, 1, 2, 3, 4] as const;

/** A priority passed by automation: an integer 0–4; anything else (a tree selection array, a string) is none. */
export function priorityArg(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 4 ? v : undefined;
}
