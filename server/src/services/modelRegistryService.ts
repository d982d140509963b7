/**
 * `model/*`: the model registry over the store's `models` collection. Versions are added by the fine-tune
 * service (in the same store write that ends the job); this service lists them, moves aliases (the champion
 * rule of domain/finetune/registry.ts), evaluates a version against its base (the evaluator subprocess, then
 * one store write) and promotes it (served to agents through `ModelServingPort`). Every alias move and
 * promotion is appended to the audit log (who, when, from, to, reason) after its store write.
 */
import path from 'node:path';
import type { ModelAlias, ModelView } from '../../../protocol/model';
import { promote, promotedModelId, setAlias, setEvaluation, type ModelVersion, type RegisteredModel } from '../domain/finetune/registry';
import { DomainError } from '../domain/errors';
import { localTenantId } from '../domain/storeSchema';
import type { EvaluatorPort } from '../ports/evaluator';
import type { Logger } from '../ports/logger';
import type { StorePort } from '../ports/store';

const iso = (ms: number): string => new Date(ms).toISOString();

/** A version trained by a hosted provider lives there (nothing was downloaded): it cannot be evaluated or served here. */
function hostedRefused(p: { name: string; version: number }, v: ModelVersion, what: string): void {
  if (v.lineage.provider === 'local') return;
  throw new DomainError(
    'bad_input',
    `version: ${p.name} version ${p.version} was trained by ${v.lineage.provider} (${v.lineage.remote?.fineTunedModel ?? 'remote model'}); it stays with the provider and cannot be ${what}`,
    { field: 'version', provider: v.lineage.provider },
  );
}

export function modelView(m: RegisteredModel): ModelView {
  return {
    name: m.name,
    createdAt: iso(m.createdAt),
    versions: m.versions.map((v) => ({
      version: v.version,
      createdAt: iso(v.createdAt),
      lineage: v.lineage,
      metrics: v.metrics,
      artifact: v.artifact,
      aliases: (Object.entries(m.aliases) as [ModelAlias, number][]).filter(([, n]) => n === v.version).map(([a]) => a),
      ...(v.evaluation ? { evaluation: { ...v.evaluation, at: iso(v.evaluation.at) } } : {}),
      ...(v.promotion ? { promotion: { ...v.promotion, at: iso(v.promotion.at) } } : {}),
    })),
    aliases: { ...m.aliases },
    audit: m.audit.map((e) => ({ ...e, at: iso(e.at) })),
  };
}

/** One line of `<dataDir>/audit/models.jsonl`. */
export interface ModelAuditEntry {
  at: string;
  who: string;
  action: 'setAlias' | 'promote';
  model: string;
  alias?: ModelAlias;
  from?: number;
  to: number;
  override: boolean;
  reason?: string;
  served?: string;
}

/** Where promoted versions are served (adapters/serving/localInference.ts through the composition). */
export interface ModelServingPort {
  /** The OpenAI-compatible base URL of the `finetuned` provider. */
  readonly baseURL: string;
  /** Serves the version as `model` and makes it selectable for agents. */
  add(model: string, version: ModelVersion): void;
}

export interface ModelRegistryDeps {
  store: StorePort;
  now(): Date;
  tenantId?: string;
  /** Dataset versions (for the held-out validation file of the version's lineage). */
  datasets?: { get(name: string): Promise<{ id: string; folder: string; stats: { validation: { examples: number } } } | undefined> };
  evaluator?: EvaluatorPort;
  /** `<dataDir>/finetune/eval`: one folder per evaluation. */
  evalRoot?: string;
  serving?: ModelServingPort;
  /** Appends one audit line (append-only). */
  audit?(entry: ModelAuditEntry): Promise<void>;
  /** Who acts (the local user, or the team server's tenant). */
  actor?: string;
  logger?: Logger;
}

export class ModelRegistryService {
  /** Versions being evaluated (`name@version`): a second request waits for nothing and is refused. */
  private readonly evaluating = new Set<string>();

  constructor(private readonly deps: ModelRegistryDeps) {}

  private get tenant(): string {
    return this.deps.tenantId ?? localTenantId;
  }

  list(): ModelView[] {
    return this.deps.store
      .read()
      .models.filter((m) => m.tenantId === this.tenant)
      .sort((a, b) => a.name.localeCompare(b.name))
      .map(modelView);
  }

  get(name: string): ModelView {
    return modelView(this.model(name));
  }

  /** Moves the alias in one store write; a refusal writes nothing. */
  async setAlias(p: { name: string; alias: ModelAlias; version: number; override?: { reason: string } }): Promise<ModelView> {
    const current = this.model(p.name);
    const next = setAlias(current, p.alias, p.version, this.deps.now().getTime(), p.override);
    const event = next.audit[next.audit.length - 1]!;
    await this.replace(p.name, (m) => setAlias(m, p.alias, p.version, event.at, p.override));
    await this.appendAudit({
      at: iso(event.at),
      action: 'setAlias',
      model: p.name,
      alias: p.alias,
      ...(event.previous !== undefined ? { from: event.previous } : {}),
      to: p.version,
      override: !!p.override,
      ...(p.override ? { reason: p.override.reason } : {}),
    });
    return this.get(p.name);
  }

  /**
   * Scores the version and its base on the lineage dataset's validation examples; stores the scores in one
   * write. Refusals and evaluator failures write nothing.
   */
  async evaluate(p: { name: string; version: number }): Promise<ModelView> {
    const { evaluator, datasets, evalRoot } = this.deps;
    if (!evaluator || !datasets || !evalRoot) throw new DomainError('conflict', 'model/evaluate: this server has no evaluator');
    const v = this.version(p.name, p.version);
    hostedRefused(p, v, 'evaluated here');
    const key = `${p.name}@${p.version}`;
    if (this.evaluating.has(key))
      throw new DomainError('conflict', `version: ${p.name} version ${p.version} is being evaluated already`, { field: 'version' });
    const ds = await datasets.get(v.lineage.dataset.name);
    if (!ds || ds.id !== v.lineage.dataset.id)
      throw new DomainError(
        'conflict',
        `dataset: the dataset version ${v.lineage.dataset.name} (${v.lineage.dataset.id}) this version was trained on is gone`,
        {
          field: 'dataset',
        },
      );
    if (ds.stats.validation.examples === 0)
      throw new DomainError('conflict', `dataset: ${v.lineage.dataset.name} has no held-out validation examples to evaluate on`, {
        field: 'dataset',
      });
    this.evaluating.add(key);
    try {
      const at = this.deps.now().getTime();
      const outcome = await evaluator.evaluate({
        validationFile: path.join(ds.folder, 'openai', 'validation.jsonl'),
        baseDir: v.artifact.baseDir,
        adapterDir: v.artifact.adapterDir,
        maxSeqLength: v.lineage.hyperparameters.maxSeqLength,
        workDir: path.join(evalRoot, `${p.name}-v${p.version}-${at}`),
      });
      if (outcome.kind === 'failed')
        throw new DomainError(outcome.reason === 'timeout' ? 'timeout' : 'conflict', `evaluation of ${key} failed: ${outcome.message}`, {
          reason: outcome.reason,
        });
      const evaluation = { at, dataset: v.lineage.dataset, ...outcome.result };
      await this.replace(p.name, (m) => setEvaluation(m, p.version, evaluation));
      this.deps.logger?.info(
        `evaluated ${key}: validation loss ${outcome.result.candidate.validationLoss.toFixed(4)} (base ${outcome.result.base.validationLoss.toFixed(4)})`,
      );
      return this.get(p.name);
    } finally {
      this.evaluating.delete(key);
    }
  }

  /** Marks an evaluated version promoted (one store write), serves it and makes it selectable for agents. */
  async promote(p: { name: string; version: number }): Promise<ModelView> {
    const serving = this.deps.serving;
    if (!serving) throw new DomainError('conflict', 'model/promote: this server serves no models');
    const current = this.model(p.name);
    hostedRefused(p, this.version(p.name, p.version), 'served by this server');
    const now = this.deps.now().getTime();
    promote(current, p.version, now, serving.baseURL);
    const from = current.versions.find((v) => v.version === p.version)?.promotion;
    await this.replace(p.name, (m) => promote(m, p.version, now, serving.baseURL));
    const model = promotedModelId(p.name, p.version);
    serving.add(model, this.version(p.name, p.version));
    await this.appendAudit({
      at: iso(now),
      action: 'promote',
      model: p.name,
      to: p.version,
      override: false,
      served: model,
      ...(from ? { reason: 're-promoted' } : {}),
    });
    return this.get(p.name);
  }

  private model(name: string): RegisteredModel {
    const m = this.deps.store.read().models.find((x) => x.name === name && x.tenantId === this.tenant);
    if (!m) throw new DomainError('not_found', `name: no model named ${JSON.stringify(name)}`, { field: 'name' });
    return m;
  }

  private version(name: string, version: number): ModelVersion {
    const v = this.model(name).versions.find((x) => x.version === version);
    if (!v) throw new DomainError('not_found', `version: model ${name} has no version ${version}`, { field: 'version' });
    return v;
  }

  /** Re-applies `change` on what is stored now, so two writers never lose one another's change. */
  private async replace(name: string, change: (m: RegisteredModel) => RegisteredModel): Promise<void> {
    await this.deps.store.update((d) => {
      const i = d.models.findIndex((m) => m.name === name && m.tenantId === this.tenant);
      if (i < 0) throw new DomainError('not_found', `name: no model named ${JSON.stringify(name)}`, { field: 'name' });
      d.models[i] = change(d.models[i]!);
    });
  }

  private async appendAudit(e: Omit<ModelAuditEntry, 'who'>): Promise<void> {
    if (!this.deps.audit) return;
    try {
      await this.deps.audit({ ...e, who: this.deps.actor ?? 'local' });
    } catch (err) {
      this.deps.logger?.error(`model audit log: could not append ${e.action} of ${e.model} v${e.to}: ${String(err)}`);
    }
  }
}
