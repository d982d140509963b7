/**
 * Builds the fine-tune service (local trainer subprocesses) and the model registry on top of the base
 * services, and fails jobs an earlier server left unfinished. Used by the stdio server (main.ts).
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { FineTuneJobView } from '../../protocol/finetune';
import { DatasetFolders } from './adapters/fs/datasetFolders';
import { LocalTrainer } from './adapters/training/localTrainer';
import type { Services } from './compose';
import type { Logger } from './ports/logger';
import { FineTuneService } from './services/fineTuneService';
import { ModelRegistryService } from './services/modelRegistryService';

export interface FineTuneServices {
  fineTunes: FineTuneService;
  models: ModelRegistryService;
}

export async function createFineTuneServices(
  base: Services,
  opts: { logger: Logger; publish(view: FineTuneJobView): void },
): Promise<FineTuneServices> {
  const now = () => new Date();
  const fineTunes = new FineTuneService({
    store: base.store,
    datasets: base.datasets,
    folders: new DatasetFolders(path.join(base.dataDir, 'datasets')),
    trainer: new LocalTrainer({
      deadlineMs: Number(process.env.ORCH_TRAIN_DEADLINE_MS) || undefined,
    }),
    outputRoot: path.join(base.dataDir, 'finetune'),
    now,
    newId: () => `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`,
    publish: opts.publish,
    logger: opts.logger,
  });
  if (base.store.status().state === 'ok')
    await fineTunes.recover().catch((e: unknown) => opts.logger.warn(`fine-tune recovery skipped: ${String(e)}`));
  return { fineTunes, models: new ModelRegistryService({ store: base.store, now }) };
}
