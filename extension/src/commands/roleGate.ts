/**
 * What a viewer on a team server may not do from the extension: the commands that start, change or
 * delete work. Their menu items and palette entries carry `orchestrator.role != viewer` (package.json;
 * `roleGate.test.ts` checks every one), and the commands refuse when invoked anyway. Pure.
 */
import { commandIds, type CommandId } from './ids';

/** The context key the extension sets: `local` (bundled server), or the team role of the connected key. */
export const roleContextKey = 'orchestrator.role';
export const hiddenForViewers = `${roleContextKey} != viewer`;

export const mutatingCommands: ReadonlySet<CommandId> = new Set<CommandId>([
  commandIds.startRun,
  commandIds.cancelRun,
  commandIds.sendSelectionToAgent,
  commandIds.startSession,
  commandIds.startSessionFromEditor,
  commandIds.submitSessionGoal,
  commandIds.approveSession,
  commandIds.reviewPlan,
  commandIds.approvePlan,
  commandIds.cancelSession,
  commandIds.applySession,
  commandIds.retrySession,
  commandIds.deleteSession,
  commandIds.retryTask,
  commandIds.cancelTask,
  commandIds.setTaskPriority,
]);

/** Why `role` may not run `command` (undefined: it may). `title` is the command's palette title. */
export function refusal(command: CommandId, role: string | undefined, title: string): string | undefined {
  if (role !== 'viewer' || !mutatingCommands.has(command)) return undefined;
  return `"${title}" is not available: your key on this team server has the viewer role, which can only read. Ask an admin for a developer key.`;
}
