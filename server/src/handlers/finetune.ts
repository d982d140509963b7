/** `finetune/*` and `model/*` handlers: thin wrappers over FineTuneService and ModelRegistryService. */
import type { RpcEndpoint } from '../../../protocol/messages';
import { finetuneCancel, finetuneGet, finetuneList, finetunePause, finetuneResume, finetuneSubmit } from '../../../protocol/finetune';
import { modelEvaluate, modelGet, modelList, modelPromote, modelSetAlias } from '../../../protocol/model';
import type { Logger } from '../ports/logger';
import type { FineTuneService } from '../services/fineTuneService';
import type { ModelRegistryService } from '../services/modelRegistryService';
import { onRequest } from './register';

export function registerFineTuneHandlers(
  connection: RpcEndpoint,
  fineTunes: FineTuneService,
  models: ModelRegistryService,
  logger: Logger,
): void {
  onRequest(connection, finetuneSubmit, logger, (p) => fineTunes.submit(p));
  onRequest(connection, finetuneGet, logger, (p) => fineTunes.get(p.jobId));
  onRequest(connection, finetuneList, logger, () => fineTunes.list());
  onRequest(connection, finetuneCancel, logger, (p) => fineTunes.cancel(p.jobId));
  onRequest(connection, finetunePause, logger, (p) => fineTunes.pause(p.jobId));
  onRequest(connection, finetuneResume, logger, (p) => fineTunes.resume(p.jobId));
  onRequest(connection, modelList, logger, () => models.list());
  onRequest(connection, modelGet, logger, (p) => models.get(p.name));
  onRequest(connection, modelSetAlias, logger, (p) => models.setAlias(p));
  onRequest(connection, modelEvaluate, logger, (p) => models.evaluate(p));
  onRequest(connection, modelPromote, logger, (p) => models.promote(p));
}
