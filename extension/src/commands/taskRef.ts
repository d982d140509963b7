/** Which task a task command was called on (no VS Code API here, so it is unit-tested). */

/** What a Sessions-tree task row carries (see `TaskItem`). */
export interface TaskRowArg {
  sessionId?: string;
  taskId?: string;
  task?: { id?: string; planId?: string };
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
