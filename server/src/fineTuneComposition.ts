/**
 * Builds the fine-tune service (local trainer subprocesses), the model registry (evaluator subprocesses,
 * audit log) and the serving of promoted versions on top of the base services, and fails jobs an earlier
 * server left unfinished. Used by the stdio server (main.ts), the team server and `createRunServices`.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FineTuneJobView } from '../../protocol/finetune';
import { DatasetFolders } from './adapters/fs/datasetFolders';
import { LocalInference } from './adapters/serving/localInference';
import { HostedTrainer } from './adapters/training/hostedTrainer';
import { LocalEvaluator } from './adapters/training/localEvaluator';
import { LocalTrainer } from './adapters/training/localTrainer';
import type { ProviderConfig } from './adapters/opencode/home';
import type { Services } from './compose';
import { hostedEndpointsFrom } from './domain/finetune/providerSpec';
import { finetunedProviderId, promotedVersions, type ModelVersion } from './domain/finetune/registry';
import type { Logger } from './ports/logger';
import { FineTuneService } from './services/fineTuneService';
import { ModelRegistryService, type ModelAuditEntry, type ModelServingPort } from './services/modelRegistryService';

export interface FineTuneServices {
  fineTunes: FineTuneService;
  models: ModelRegistryService;
  /** Stops trainers and evaluators. */
  dispose(): Promise<void>;
}

/** Promoted versions served to agents: the inference endpoint and the `finetuned` provider entry OpenCode gets. */
export interface ModelServing extends ModelServingPort {
  inference: LocalInference;
  /** The provider entry (undefined while nothing is promoted). */
  provider(): ProviderConfig | undefined;
  /** Called after a version was added (the agents reconfigure OpenCode). */
  onDidChange(listener: () => void): void;
  dispose(): Promise<void>;
}

/** Starts the inference endpoint (no model is loaded until a request needs it) with every promoted version. */
export async function startModelServing(base: Services, logger: Logger): Promise<ModelServing> {
  const inference = new LocalInference({ root: path.join(base.dataDir, 'serving'), logger });
  await inference.start();
  const listeners: (() => void)[] = [];
  const register = (model: string, v: ModelVersion) =>
    inference.register({
      id: model.slice(finetunedProviderId.length + 1),
      baseDir: v.artifact.baseDir,
      adapterDir: v.artifact.adapterDir,
      maxSeqLength: v.lineage.hyperparameters.maxSeqLength,
    });
  // A corrupt store is reported by server/status and stays read-only; the server still starts, without them.
  if (base.store.status().state === 'corrupt') logger.warn('the store is corrupt: promoted fine-tuned models are not served');
  else for (const p of promotedVersions(base.store.read().models)) register(p.model, p.version);
  return {
    inference,
    baseURL: inference.baseURL,
    provider: () => {
      const ids = inference.list();
      if (!ids.length) return undefined;
      return {
        id: finetunedProviderId,
        name: 'Fine-tuned (local)',
        baseURL: inference.baseURL,
        // The tiny local model has a short context; OpenCode must not ask for more than it can take.
        models: Object.fromEntries(
          ids.map((id) => [id, { name: `${id} (fine-tuned, local)`, toolCall: true, context: 8192, output: 256 }]),
        ),
      };
    },
    add: (model, v) => {
      register(model, v);
      for (const l of listeners) l();
    },
    onDidChange: (l) => listeners.push(l),
    dispose: () => inference.dispose(),
  };
}

export async function createFineTuneServices(
  base: Services,
  opts: { logger: Logger; publish(view: FineTuneJobView): void; serving?: ModelServing; actor?: string },
): Promise<FineTuneServices> {
  const now = () => new Date();
  const trainer = new LocalTrainer({ deadlineMs: Number(process.env.ORCH_TRAIN_DEADLINE_MS) || undefined });
  const evaluator = new LocalEvaluator({ deadlineMs: Number(process.env.ORCH_EVAL_DEADLINE_MS) || undefined });
  const late: { models?: ModelRegistryService } = {};
  const fineTunes = new FineTuneService({
    store: base.store,
    tenantId: base.tenantId,
    datasets: base.datasets,
    folders: new DatasetFolders(path.join(base.dataDir, 'datasets')),
    trainer,
    hostedTrainer: (c) => new HostedTrainer({ ...c, logger: opts.logger }),
    // Hosted providers' keys: only ORCH_KEY_* variables (the extension fills them from SecretStorage).
    secret: (name) => (name.startsWith('ORCH_KEY_') ? process.env[name] || undefined : undefined),
    // Hosted providers' endpoints: the operator binds each key to its URL; requests cannot choose another.
    hostedEndpoints: hostedEndpointsFrom(process.env),
    evaluate: async (name, version) => {
      if (!late.models) throw new Error('the model registry is not ready');
      return late.models.evaluate({ name, version });
    },
    outputRoot: path.join(base.dataDir, 'finetune'),
    now,
    newId: () => `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`,
    publish: opts.publish,
    logger: opts.logger,
  });
  const auditFile = path.join(base.dataDir, 'audit', 'models.jsonl');
  const audit = async (entry: ModelAuditEntry) => {
    await fs.mkdir(path.dirname(auditFile), { recursive: true, mode: 0o700 });
    const fh = await fs.open(auditFile, 'a', 0o600);
    try {
      await fh.appendFile(`${JSON.stringify(entry)}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
  };
  const models = new ModelRegistryService({
    store: base.store,
    tenantId: base.tenantId,
    now,
    datasets: base.datasets,
    evaluator,
    evalRoot: path.join(base.dataDir, 'finetune', 'eval'),
    serving: opts.serving,
    audit,
    actor: opts.actor ?? `local:${os.userInfo().username}`,
    logger: opts.logger,
  });
  late.models = models;
  if (base.store.status().state === 'ok')
    await fineTunes.recover().catch((e: unknown) => opts.logger.warn(`fine-tune recovery skipped: ${String(e)}`));
  return {
    fineTunes,
    models,
    dispose: async () => {
      await Promise.all([fineTunes.dispose(), evaluator.dispose()]);
    },
  };
}
