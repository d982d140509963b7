/**
 * The registry of every JSON-RPC method between the extension (or a remote client) and the server.
 * Tests iterate it (malformed params to every request; README table drift).
 */
import { agentDidChange, agentList } from './agent';
import { auditList } from './audit';
import { usageReport } from './usage';
import { quotaGet, quotaSet } from './quota';
import { datasetCandidates, datasetCreate, datasetExport, datasetGet, datasetList, datasetPreview } from './dataset';
import { finetuneCancel, finetuneDidChange, finetuneGet, finetuneList, finetunePause, finetuneResume, finetuneSubmit } from './finetune';
import type { AnyNotificationDef, AnyRequestDef } from './messages';
import { marketplaceGet, marketplaceInstall, marketplaceList, marketplaceSetEnabled, marketplaceUninstall } from './marketplace';
import { modelEvaluate, modelGet, modelList, modelPromote, modelSetAlias } from './model';
import { serverDidChangeStatus, serverStatus, serverWhoami } from './server';
import {
  sessionApply,
  sessionApprove,
  sessionCancel,
  sessionDelete,
  sessionDidChange,
  sessionDiff,
  sessionFileContent,
  sessionGet,
  sessionList,
  sessionPause,
  sessionPlan,
  sessionResume,
  sessionRetry,
  sessionStart,
} from './session';
import { taskCancel, taskRetry, taskSetPriority } from './task';
import { permissionRequest, runCancel, runDidUpdate, runGet, runList, runStart, runTranscript } from './run';

/** Client → server requests. */
export const requests: readonly AnyRequestDef[] = [
  serverStatus,
  serverWhoami,
  agentList,
  marketplaceList,
  marketplaceGet,
  marketplaceInstall,
  marketplaceUninstall,
  marketplaceSetEnabled,
  runStart,
  runGet,
  runList,
  runCancel,
  runTranscript,
  sessionStart,
  sessionPlan,
  sessionApprove,
  sessionGet,
  sessionList,
  sessionPause,
  sessionResume,
  sessionCancel,
  sessionRetry,
  sessionDiff,
  sessionFileContent,
  sessionApply,
  sessionDelete,
  taskRetry,
  taskCancel,
  taskSetPriority,
  datasetCandidates,
  datasetCreate,
  datasetPreview,
  datasetList,
  datasetGet,
  datasetExport,
  finetuneSubmit,
  finetuneGet,
  finetuneList,
  finetuneCancel,
  finetunePause,
  finetuneResume,
  modelList,
  modelGet,
  modelSetAlias,
  modelEvaluate,
  modelPromote,
  auditList,
  usageReport,
  quotaGet,
  quotaSet,
] as AnyRequestDef[];
/** Server → client requests. */
export const clientRequests: readonly AnyRequestDef[] = [permissionRequest] as AnyRequestDef[];
export const notifications: readonly AnyNotificationDef[] = [
  serverDidChangeStatus,
  agentDidChange,
  runDidUpdate,
  sessionDidChange,
  finetuneDidChange,
] as AnyNotificationDef[];
