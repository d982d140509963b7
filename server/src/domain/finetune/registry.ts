/**
 * The model registry's rules. Pure. Versions are numbered 1, 2, … per model and never reused or changed.
 * An alias points at one version; moving it appends an audit event. `champion` moves only to a version
 * whose validation loss is lower than the current champion's, or with an explicit override and a reason.
 */
import type { BaseModel, FineTuneProvider, LoraHyperparameters } from '../../../../protocol/finetune';
import type { EvaluationScores, ModelAlias } from '../../../../protocol/model';
import { DomainError } from '../errors';

export interface ModelVersion {
  version: number;
  createdAt: number;
  lineage: {
    dataset: { name: string; id: string };
    jobId: string;
    baseModel: BaseModel;
    provider: FineTuneProvider;
    hyperparameters: LoraHyperparameters;
    /** Hosted providers: the remote job and the provider's id of the trained model (nothing downloaded). */
    remote?: { baseURL: string; remoteJobId: string; fineTunedModel: string };
  };
  metrics: { firstLoss: number; finalLoss: number; validationLoss?: number; initialValidationLoss?: number; steps: number };
  artifact: { adapterDir: string; baseDir: string };
  evaluation?: VersionEvaluation;
  promotion?: { at: number; model: string; baseURL: string };
}

export interface VersionEvaluation {
  at: number;
  dataset: { name: string; id: string };
  examples: number;
  candidate: EvaluationScores;
  base: EvaluationScores;
  seconds: number;
}

/** The provider id promoted versions are served under (`finetuned/<name>-v<version>`). */
export const finetunedProviderId = 'finetuned';

/** The OpenCode model id of a promoted version. */
export const promotedModelId = (name: string, version: number): string => `${finetunedProviderId}/${name}-v${version}`;

/** The loss the champion rule compares: the evaluated one when the version was evaluated, else the trainer's. */
export function championScore(v: ModelVersion): number | undefined {
  return v.evaluation?.candidate.validationLoss ?? v.metrics.validationLoss;
}

export interface AliasEvent {
  alias: ModelAlias;
  version: number;
  previous?: number;
  at: number;
  override?: { reason: string };
}

/** A registered model as stored (times in epoch ms). */
export interface RegisteredModel {
  name: string;
  tenantId: string;
  createdAt: number;
  versions: ModelVersion[];
  aliases: Partial<Record<ModelAlias, number>>;
  audit: AliasEvent[];
}

export function newModel(name: string, tenantId: string, now: number): RegisteredModel {
  return { name, tenantId, createdAt: now, versions: [], aliases: {}, audit: [] };
}

/** The model with a new version numbered after every earlier one. */
export function addVersion(model: RegisteredModel, v: Omit<ModelVersion, 'version'>): { model: RegisteredModel; version: number } {
  const version = model.versions.reduce((m, x) => Math.max(m, x.version), 0) + 1;
  return { model: { ...model, versions: [...model.versions, { ...v, version }] }, version };
}

/**
 * Why `version` may not become champion, or undefined when it may: a version without a validation loss
 * cannot be compared; a current champion with a lower or equal validation loss wins.
 */
export function championRefusal(model: RegisteredModel, version: number): string | undefined {
  const candidate = model.versions.find((v) => v.version === version);
  if (!candidate) return `version ${version} does not exist`;
  const currentNo = model.aliases.champion;
  if (currentNo === undefined || currentNo === version) return undefined;
  const current = model.versions.find((v) => v.version === currentNo);
  const cur = current ? championScore(current) : undefined;
  if (cur === undefined) return undefined;
  const cand = championScore(candidate);
  if (cand === undefined)
    return `version ${version} has no validation loss to compare with champion version ${currentNo} (${cur.toFixed(4)})`;
  if (cand < cur) return undefined;
  return `version ${version}'s validation loss ${cand.toFixed(4)} does not beat champion version ${currentNo}'s ${cur.toFixed(4)}`;
}

/**
 * Points `alias` at `version`, appending the audit event. Throws not_found (no such version), bad_input
 * (an override without a reason) or conflict (the champion rule refused, without override).
 */
export function setAlias(
  model: RegisteredModel,
  alias: ModelAlias,
  version: number,
  now: number,
  override?: { reason: string },
): RegisteredModel {
  if (!model.versions.some((v) => v.version === version))
    throw new DomainError('not_found', `version: model ${model.name} has no version ${version}`, { field: 'version' });
  if (override && !override.reason.trim())
    throw new DomainError('bad_input', 'override.reason: must say why the rule is overridden', { field: 'override.reason' });
  if (alias === 'champion' && !override) {
    const refusal = championRefusal(model, version);
    if (refusal)
      throw new DomainError('conflict', `champion: ${refusal}; pass override.reason to promote it anyway`, {
        field: 'version',
        rule: 'champion_must_beat_validation_loss',
      });
  }
  const previous = model.aliases[alias];
  const event: AliasEvent = { alias, version, at: now, ...(previous !== undefined ? { previous } : {}), ...(override ? { override } : {}) };
  return { ...model, aliases: { ...model.aliases, [alias]: version }, audit: [...model.audit, event] };
}

function versionOf(model: RegisteredModel, version: number): ModelVersion {
  const v = model.versions.find((x) => x.version === version);
  if (!v) throw new DomainError('not_found', `version: model ${model.name} has no version ${version}`, { field: 'version' });
  return v;
}

function withVersion(model: RegisteredModel, version: number, change: (v: ModelVersion) => ModelVersion): RegisteredModel {
  return { ...model, versions: model.versions.map((v) => (v.version === version ? change(v) : v)) };
}

/** Stores the latest evaluation on the version (throws not_found for an unknown version). */
export function setEvaluation(model: RegisteredModel, version: number, evaluation: VersionEvaluation): RegisteredModel {
  versionOf(model, version);
  return withVersion(model, version, (v) => ({ ...v, evaluation }));
}

/**
 * Marks the version promoted (served as `finetuned/<name>-v<version>` at `baseURL`). Throws not_found (no such
 * version) or conflict (the version was never evaluated: promotion needs its scores).
 */
export function promote(model: RegisteredModel, version: number, now: number, baseURL: string): RegisteredModel {
  const v = versionOf(model, version);
  if (!v.evaluation)
    throw new DomainError(
      'conflict',
      `version: ${model.name} version ${version} has no evaluation scores; run model/evaluate before promoting it`,
      { field: 'version', rule: 'promote_needs_scores' },
    );
  return withVersion(model, version, (x) => ({ ...x, promotion: { at: now, model: promotedModelId(model.name, version), baseURL } }));
}

/** Every promoted version of the models (what the local inference server serves and OpenCode lists). */
export function promotedVersions(models: readonly RegisteredModel[]): { model: string; name: string; version: ModelVersion }[] {
  return models.flatMap((m) =>
    m.versions.filter((v) => v.promotion).map((v) => ({ model: promotedModelId(m.name, v.version), name: m.name, version: v })),
  );
}
