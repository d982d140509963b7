/**
 * Model provider set-up without hand-written JSON: the presets the "Configure Model Provider…" command
 * offers, and the pure rules that turn what the user entered into an `orchestrator.opencode.providers`
 * entry. No I/O and no `vscode` here. The API key itself never appears in an entry: the entry names an
 * environment variable (`{env:ORCH_KEY_<ID>}`) that the extension fills from SecretStorage when it starts
 * the server.
 */
import { describeIssues } from '../../protocol/messages';
import type { ModelView } from '../../protocol/model';
import { providerIdPattern } from '../../protocol/constants';
import type { ProviderKind, ProviderSetting } from '../../protocol/provider';
import { schemas } from './schemas';

export type PresetId = 'openai-compatible' | 'anthropic' | 'openai' | 'openrouter' | 'ollama' | 'lmstudio';

export interface ProviderPreset {
  preset: PresetId;
  label: string;
  detail: string;
  kind: ProviderKind;
  /** Provider id written to settings (models are then `<id>/<model>`). */
  id: string;
  name: string;
  /** Fixed default; undefined: the user must enter one. */
  baseURL?: string;
  /** Whether a key is asked for: `required`, `optional` (may be left empty) or `none` (local servers). */
  key: 'required' | 'optional' | 'none';
}

/** How OpenCode configures each (opencode.ai/docs/providers): native SDKs bundled in the binary, or OpenAI-compatible. */
export const providerPresets: readonly ProviderPreset[] = [
  {
    preset: 'openai-compatible',
    label: 'OpenAI-compatible (base URL)',
    detail: 'Any server answering POST {baseURL}/chat/completions (vLLM, a gateway, a hosted API)',
    kind: 'openai-compatible',
    id: 'custom',
    name: 'OpenAI-compatible',
    key: 'optional',
  },
  {
    preset: 'anthropic',
    label: 'Anthropic',
    detail: 'Claude models through OpenCode’s Anthropic provider',
    kind: 'anthropic',
    id: 'anthropic',
    name: 'Anthropic',
    baseURL: 'https://api.anthropic.com/v1',
    key: 'required',
  },
  {
    preset: 'openai',
    label: 'OpenAI',
    detail: 'OpenAI models through OpenCode’s OpenAI provider',
    kind: 'openai',
    id: 'openai',
    name: 'OpenAI',
    baseURL: 'https://api.openai.com/v1',
    key: 'required',
  },
  {
    preset: 'openrouter',
    label: 'OpenRouter',
    detail: 'Many vendors’ models through one OpenRouter key',
    kind: 'openrouter',
    id: 'openrouter',
    name: 'OpenRouter',
    baseURL: 'https://openrouter.ai/api/v1',
    key: 'required',
  },
  {
    preset: 'ollama',
    label: 'Ollama (local)',
    detail: 'A local Ollama server (OpenAI-compatible endpoint), no key',
    kind: 'openai-compatible',
    id: 'ollama',
    name: 'Ollama (local)',
    baseURL: 'http://localhost:11434/v1',
    key: 'none',
  },
  {
    preset: 'lmstudio',
    label: 'LM Studio (local)',
    detail: 'A local LM Studio server (OpenAI-compatible endpoint), no key',
    kind: 'openai-compatible',
    id: 'lmstudio',
    name: 'LM Studio (local)',
    baseURL: 'http://localhost:1234/v1',
    key: 'none',
  },
];

/** The scripted demo model (offline, no key): always offered, clearly labelled. */
export const demoModel = { id: 'demo/scripted', label: 'Demo (scripted, no real LLM)' } as const;

export type ProviderField = 'preset' | 'id' | 'baseURL' | 'models' | 'apiKey';

/** Bad input for a provider entry; `field` names what is wrong. */
export class ProviderInputError extends Error {
  constructor(
    readonly field: ProviderField,
    message: string,
  ) {
    super(message);
    this.name = 'ProviderInputError';
  }
}

export function presetOf(preset: string): ProviderPreset {
  const p = providerPresets.find((x) => x.preset === preset);
  if (!p) throw new ProviderInputError('preset', `unknown provider "${preset}"; known: ${providerPresets.map((x) => x.preset).join(', ')}`);
  return p;
}

/** The environment variable that carries a provider's key to the server: `ORCH_KEY_<ID>` (upper case, `-` → `_`). */
export function keyEnvName(providerId: string): string {
  return `ORCH_KEY_${providerId.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/** Model ids from what the user typed: separated by commas, spaces or new lines; empties dropped. */
export function parseModelIds(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** A checked base URL (http or https, no query or fragment) without a trailing slash, or a ProviderInputError. */
export function checkBaseURL(raw: string): string {
  const text = raw.trim();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ProviderInputError('baseURL', `base URL "${text}" is not a URL (expected e.g. http://127.0.0.1:8080/v1)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ProviderInputError('baseURL', `base URL "${text}" must start with http:// or https://`);
  if (url.search || url.hash) throw new ProviderInputError('baseURL', `base URL "${text}" must not carry a query or fragment`);
  if (url.username || url.password)
    throw new ProviderInputError('baseURL', 'base URL must not carry credentials; enter the API key when asked');
  return text.replace(/\/+$/, '');
}

export interface ProviderInput {
  preset: PresetId;
  /** Default: the preset's id. */
  id?: string;
  /** Default: the preset's base URL (required for `openai-compatible`). */
  baseURL?: string;
  models: string[];
  /** Whether a key is stored for this provider (then the entry references it). */
  withKey: boolean;
}

/** Builds and validates one settings entry; every problem is a ProviderInputError naming the field. */
export function buildProviderEntry(input: ProviderInput): ProviderSetting {
  const preset = presetOf(input.preset);
  const id = (input.id ?? preset.id).trim();
  if (!providerIdPattern.test(id))
    throw new ProviderInputError('id', `provider id "${id}" must be letters, digits, - or _ (it prefixes model names: ${id}/<model>)`);
  if (id === 'demo') throw new ProviderInputError('id', 'provider id "demo" is reserved for the scripted demo model');
  const rawURL = input.baseURL?.trim() || preset.baseURL;
  if (!rawURL) throw new ProviderInputError('baseURL', `${preset.label} needs a base URL (e.g. http://127.0.0.1:8080/v1)`);
  const baseURL = checkBaseURL(rawURL);
  if (!input.models.length) throw new ProviderInputError('models', 'enter at least one model id');
  const seen = new Set<string>();
  for (const m of input.models) {
    if (!m || /\s/.test(m)) throw new ProviderInputError('models', `model id "${m}" must be non-empty and contain no spaces`);
    if (seen.has(m)) throw new ProviderInputError('models', `model id "${m}" is listed twice`);
    seen.add(m);
  }
  if (input.withKey && preset.key === 'none') throw new ProviderInputError('apiKey', `${preset.label} takes no API key`);
  if (!input.withKey && preset.key === 'required') throw new ProviderInputError('apiKey', `${preset.label} needs an API key`);
  const entry = {
    id,
    name: preset.name,
    ...(preset.kind === 'openai-compatible' ? {} : { kind: preset.kind }),
    baseURL,
    ...(input.withKey ? { apiKey: `{env:${keyEnvName(id)}}` } : {}),
    models: Object.fromEntries(input.models.map((m) => [m, {}])),
  };
  const r = schemas().providerSchema.safeParse(entry);
  if (!r.success) throw new ProviderInputError('id', `provider entry: ${describeIssues(r.error)}`);
  return r.data;
}

function idOf(p: unknown): string | undefined {
  return p && typeof p === 'object' && typeof (p as { id?: unknown }).id === 'string' ? (p as { id: string }).id : undefined;
}

/**
 * The providers setting with `entry` added, or replacing the entry of the same id when `replace` is true.
 * Refuses a duplicate id without `replace`, and an id whose key variable another provider already uses.
 */
export function upsertProvider(existing: readonly unknown[], entry: ProviderSetting, replace: boolean): unknown[] {
  const same = existing.findIndex((p) => idOf(p) === entry.id);
  if (same >= 0 && !replace)
    throw new ProviderInputError('id', `a provider with id "${entry.id}" is already configured; choose another id or replace it`);
  const clash = existing.find((p) => idOf(p) !== entry.id && idOf(p) !== undefined && keyEnvName(idOf(p)!) === keyEnvName(entry.id));
  if (clash)
    throw new ProviderInputError(
      'id',
      `provider id "${entry.id}" would share the key variable ${keyEnvName(entry.id)} with "${idOf(clash)}"`,
    );
  return same >= 0 ? existing.map((p, i) => (i === same ? entry : p)) : [...existing, entry];
}

/** A provider entry the extension does not hand to the server, and why (names the provider). */
export interface RefusedProvider {
  providerId: string;
  reason: string;
}

/** `NAME` of an `{env:NAME}` reference, or undefined. */
function envReferenceOf(p: unknown): string | undefined {
  const apiKey = p && typeof p === 'object' ? (p as { apiKey?: unknown }).apiKey : undefined;
  return typeof apiKey === 'string' ? /^\{env:([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(apiKey)?.[1] : undefined;
}

/**
 * Which provider entries may reach the server. Keys from SecretStorage travel as `ORCH_KEY_<ID>`, so an entry
 * may reference only its own id's variable: one naming another provider's key (`evil` with
 * `{env:ORCH_KEY_OPENAI}`) would send that key to its own base URL, and two ids sharing a variable
 * (`my-gw`, `my_gw`) would read each other's key. Such entries are refused, each with a reason naming it.
 * Other `{env:NAME}` references and malformed entries pass (the server validates them).
 */
export function screenProviders(providers: readonly unknown[]): { accepted: unknown[]; refused: RefusedProvider[] } {
  const owners = new Map<string, string[]>();
  for (const p of providers) {
    const id = idOf(p);
    if (id) owners.set(keyEnvName(id), [...(owners.get(keyEnvName(id)) ?? []), id]);
  }
  const accepted: unknown[] = [];
  const refused: RefusedProvider[] = [];
  for (const p of providers) {
    const id = idOf(p);
    const env = envReferenceOf(p);
    if (!id || !env?.startsWith('ORCH_KEY_')) {
      accepted.push(p);
      continue;
    }
    const own = keyEnvName(id);
    const sharing = (owners.get(own) ?? []).filter((o) => o !== id);
    if (env !== own) {
      const owner = owners.get(env)?.find((o) => o !== id);
      refused.push({
        providerId: id,
        reason:
          `provider "${id}" was refused: its apiKey references ${env}` +
          `${owner ? `, the key of provider "${owner}"` : ''}; a provider may only use its own key {env:${own}}`,
      });
    } else if (sharing.length) {
      refused.push({
        providerId: id,
        reason: `provider "${id}" was refused: its key variable ${own} is also the one of provider "${sharing[0]}"; rename one of them`,
      });
    } else accepted.push(p);
  }
  return { accepted, refused };
}

/** Providers whose key the extension hands over: `apiKey` is `{env:ORCH_KEY_<ID>}` for their own id. */
export function keyedProviders(providers: readonly unknown[]): { providerId: string; envName: string }[] {
  const out: { providerId: string; envName: string }[] = [];
  for (const p of providers) {
    const id = idOf(p);
    if (!id) continue;
    const envName = keyEnvName(id);
    if ((p as { apiKey?: unknown }).apiKey === `{env:${envName}}`) out.push({ providerId: id, envName });
  }
  return out;
}

export interface ModelChoice {
  id: string;
  label: string;
  description: string;
}

/**
 * What "Select Default Model" offers: every configured `provider/model`, the fine-tuned versions the server
 * promoted (`model/list`: `promotion.model`, served locally), then the labelled demo model.
 */
export function modelChoices(providers: readonly unknown[], registered: readonly ModelView[] = []): ModelChoice[] {
  const out: ModelChoice[] = [];
  for (const p of providers) {
    const r = schemas().providerSchema.safeParse(p);
    if (!r.success) continue;
    for (const m of Object.keys(r.data.models))
      out.push({ id: `${r.data.id}/${m}`, label: `${r.data.id}/${m}`, description: r.data.models[m].name ?? r.data.name ?? r.data.id });
  }
  for (const m of registered)
    for (const v of m.versions)
      if (v.promotion && !out.some((c) => c.id === v.promotion!.model))
        out.push({ id: v.promotion.model, label: v.promotion.model, description: `${m.name} version ${v.version} (fine-tuned, local)` });
  if (!out.some((c) => c.id === demoModel.id)) out.push({ id: demoModel.id, label: demoModel.id, description: demoModel.label });
  return out;
}

/** Model ids of an OpenAI-style `GET /models` answer (`{ data: [{ id }] }`, as OpenAI, Anthropic, OpenRouter, Ollama answer). */
export function modelsFromListing(body: unknown): string[] {
  const data = body && typeof body === 'object' ? (body as { data?: unknown }).data : undefined;
  if (!Array.isArray(data)) return [];
  const ids = data.map((d: unknown) => (d && typeof d === 'object' ? (d as { id?: unknown }).id : undefined));
  return [...new Set(ids.filter((x): x is string => typeof x === 'string' && x.length > 0 && !/\s/.test(x)))];
}
