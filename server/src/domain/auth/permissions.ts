/**
 * Role-based access for the team server: every client → server request of `protocol/methods.ts` has a
 * minimum role here. A method that is not in the table is refused (fail closed), so a new method stays
 * unreachable over the team server until someone decides who may call it (`permissions.test.ts` fails
 * until then).
 */
import { agentList } from '../../../../protocol/agent';
import { auditList } from '../../../../protocol/audit';
import { datasetCandidates, datasetCreate, datasetExport, datasetGet, datasetList, datasetPreview } from '../../../../protocol/dataset';
import {
  marketplaceGet,
  marketplaceInstall,
  marketplaceList,
  marketplaceSetEnabled,
  marketplaceUninstall,
} from '../../../../protocol/marketplace';
import { finetuneCancel, finetuneGet, finetuneList, finetunePause, finetuneResume, finetuneSubmit } from '../../../../protocol/finetune';
import { modelEvaluate, modelGet, modelList, modelPromote, modelSetAlias } from '../../../../protocol/model';
import { runCancel, runGet, runList, runStart, runTranscript } from '../../../../protocol/run';
import { serverStatus, serverWhoami } from '../../../../protocol/server';
import {
  sessionApply,
  sessionApprove,
  sessionCancel,
  sessionDelete,
  sessionDiff,
  sessionFileContent,
  sessionGet,
  sessionList,
  sessionPause,
  sessionPlan,
  sessionResume,
  sessionRetry,
  sessionStart,
} from '../../../../protocol/session';
import { taskCancel, taskRetry, taskSetPriority } from '../../../../protocol/task';
import { usageReport } from '../../../../protocol/usage';
import { quotaGet, quotaSet } from '../../../../protocol/quota';

/** Roles per tenant, weakest first: a viewer reads, a developer runs sessions and curates, an admin manages agents. */
export const roles = ['viewer', 'developer', 'admin'] as const;
export type Role = (typeof roles)[number];

const rank: Record<Role, number> = { viewer: 0, developer: 1, admin: 2 };

/** The minimum role of every request a client may send. */
export const minimumRole: ReadonlyMap<string, Role> = new Map<string, Role>([
  // Reading state.
  [serverStatus.method, 'viewer'],
  [serverWhoami.method, 'viewer'],
  [agentList.method, 'viewer'],
  [marketplaceList.method, 'viewer'],
  [marketplaceGet.method, 'viewer'],
  [runGet.method, 'viewer'],
  [runList.method, 'viewer'],
  [runTranscript.method, 'viewer'],
  [sessionGet.method, 'viewer'],
  [sessionList.method, 'viewer'],
  [sessionDiff.method, 'viewer'],
  [sessionFileContent.method, 'viewer'],
  [datasetList.method, 'viewer'],
  [datasetGet.method, 'viewer'],
  [datasetCandidates.method, 'viewer'],
  [datasetPreview.method, 'viewer'],
  [finetuneGet.method, 'viewer'],
  [finetuneList.method, 'viewer'],
  [modelList.method, 'viewer'],
  [modelGet.method, 'viewer'],
  // Running agents and sessions, curating datasets.
  [runStart.method, 'developer'],
  [runCancel.method, 'developer'],
  [sessionStart.method, 'developer'],
  [sessionPlan.method, 'developer'],
  [sessionApprove.method, 'developer'],
  [sessionPause.method, 'developer'],
  [sessionResume.method, 'developer'],
  [sessionCancel.method, 'developer'],
  [sessionRetry.method, 'developer'],
  [sessionApply.method, 'developer'],
  [sessionDelete.method, 'developer'],
  [taskRetry.method, 'developer'],
  [taskCancel.method, 'developer'],
  [taskSetPriority.method, 'developer'],
  [datasetCreate.method, 'developer'],
  [datasetExport.method, 'developer'],
  [finetuneSubmit.method, 'developer'],
  [finetuneCancel.method, 'developer'],
  [finetunePause.method, 'developer'],
  [finetuneResume.method, 'developer'],
  [modelEvaluate.method, 'developer'],
  // Managing agents.
  [marketplaceInstall.method, 'admin'],
  [marketplaceUninstall.method, 'admin'],
  [marketplaceSetEnabled.method, 'admin'],
  // Choosing which model version is the champion changes what every session of the tenant runs.
  [modelSetAlias.method, 'admin'],
  // Promoting makes a version a model every agent of the tenant may be given.
  [modelPromote.method, 'admin'],
  // The tenant's audit log names users, keys and what they answered.
  [auditList.method, 'admin'],
  // Usage: an admin gets every user's rows; a developer only their own (filtered by the handler, `scope: 'own'`).
  [usageReport.method, 'developer'],
  // Quotas: a developer reads the tenant's and their own user's and key's; an admin every scope of the tenant.
  [quotaGet.method, 'developer'],
  // Setting a user's or key's quotas (tenant quotas stay with the server's admin CLI).
  [quotaSet.method, 'admin'],
]);

export type Decision = { allowed: true } | { allowed: false; required?: Role; message: string };

/** May `role` call `method`? A method without a declared permission is refused. */
export function authorize(method: string, role: Role): Decision {
  const required = minimumRole.get(method);
  if (!required) return { allowed: false, message: `${method} has no declared permission on the team server; refused` };
  if (rank[role] >= rank[required]) return { allowed: true };
  return { allowed: false, required, message: `${method} needs the ${required} role; this key's user is a ${role}` };
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (roles as readonly string[]).includes(value);
}
