/**
 * Model commands: "Configure Model Provider…" (a quick-input flow; the key goes to SecretStorage, the entry
 * to settings) and "Select Default Model". Both accept an argument object for non-interactive use (tests,
 * other extensions); with arguments, bad input rejects with a ProviderInputError and changes nothing.
 */
import * as vscode from 'vscode';
import { readConfig, readProviders, writeDefaultModel, writeProviders } from '../config';
import type { Ctx } from '../ctx';
import { listModels } from '../modelListing';
import { storeProviderKey } from '../modelKeys';
import {
  buildProviderEntry,
  checkBaseURL,
  demoModel,
  keyEnvName,
  modelChoices,
  parseModelIds,
  presetOf,
  ProviderInputError,
  providerPresets,
  upsertProvider,
  type PresetId,
  type ProviderPreset,
} from '../modelProvider';
import { modelList } from '../../../protocol/methodRefs';
import { providerIdPattern } from '../../../protocol/constants';

export interface ConfigureProviderArgs {
  preset: PresetId;
  id?: string;
  baseURL?: string;
  /** Model ids, or `fetch` to take every id `GET {baseURL}/models` lists. */
  models: string[] | 'fetch';
  apiKey?: string;
  /** Replace a provider of the same id (otherwise refused). */
  replace?: boolean;
  /** Also make the first model the default. */
  makeDefault?: boolean;
}

export interface ConfiguredProvider {
  providerId: string;
  models: string[];
  /** The environment variable the entry references (`{env:…}`), when a key was stored. */
  keyEnv?: string;
}

interface Collected {
  preset: ProviderPreset;
  id: string;
  baseURL: string;
  models: string[];
  apiKey?: string;
  replace: boolean;
  makeDefault: boolean;
}

const title = 'Configure Model Provider';

export const configureModelProvider =
  (ctx: Ctx) =>
  async (args?: ConfigureProviderArgs): Promise<ConfiguredProvider | undefined> => {
    if (args) return apply(ctx, await fromArgs(args));
    try {
      const c = await ask();
      return c ? await apply(ctx, c) : undefined;
    } catch (e) {
      void vscode.window.showErrorMessage(`${title}: ${(e as Error).message}`);
      return undefined;
    }
  };

async function fromArgs(a: ConfigureProviderArgs): Promise<Collected> {
  const preset = presetOf(a.preset);
  const baseURL = checkBaseURL(a.baseURL?.trim() || preset.baseURL || '');
  let models = a.models;
  if (models === 'fetch') {
    const r = await listModels(baseURL, preset.kind, a.apiKey);
    if (!r.ok) throw new ProviderInputError('models', `could not list the models: ${r.reason}`);
    models = r.models;
  }
  return { preset, id: a.id ?? preset.id, baseURL, models, apiKey: a.apiKey, replace: !!a.replace, makeDefault: !!a.makeDefault };
}

/** The interactive flow; undefined when the user cancels at any step. */
async function ask(): Promise<Collected | undefined> {
  const pick = await vscode.window.showQuickPick(
    providerPresets.map((p) => ({ label: p.label, detail: p.detail, preset: p })),
    { title, placeHolder: vscode.l10n.t('Which provider should OpenCode use?'), ignoreFocusOut: true },
  );
  if (!pick) return undefined;
  const preset = pick.preset;
  const existing = new Set(readProviders().map((p) => (p as { id?: unknown })?.id));
  const id = await vscode.window.showInputBox({
    title,
    prompt: vscode.l10n.t('Provider id: models are named <id>/<model>'),
    value: preset.id,
    ignoreFocusOut: true,
    validateInput: (v) =>
      !providerIdPattern.test(v.trim())
        ? 'Letters, digits, - or _ only'
        : v.trim() === 'demo'
          ? '"demo" is reserved for the scripted demo model'
          : undefined,
  });
  if (!id) return undefined;
  let replace = false;
  if (existing.has(id.trim())) {
    const r = await vscode.window.showWarningMessage(
      vscode.l10n.t('A provider "{0}" is already configured. Replace it?', id.trim()),
      { modal: true },
      'Replace',
    );
    if (r !== 'Replace') return undefined;
    replace = true;
  }
  const baseURL = await vscode.window.showInputBox({
    title,
    prompt: vscode.l10n.t('Base URL (requests go to {baseURL}/chat/completions)'),
    value: preset.baseURL ?? 'http://127.0.0.1:8080/v1',
    ignoreFocusOut: true,
    validateInput: (v) => {
      try {
        checkBaseURL(v);
        return undefined;
      } catch (e) {
        return (e as Error).message;
      }
    },
  });
  if (!baseURL) return undefined;
  let apiKey: string | undefined;
  if (preset.key !== 'none') {
    apiKey = await vscode.window.showInputBox({
      title,
      prompt:
        preset.key === 'optional'
          ? vscode.l10n.t(
              "API key for {0} (leave empty if the server needs none). Stored in VS Code's secret storage, never in settings.",
              preset.label,
            )
          : vscode.l10n.t("API key for {0}. Stored in VS Code's secret storage, never in settings.", preset.label),
      password: true,
      ignoreFocusOut: true,
      validateInput: (v) => (preset.key === 'required' && !v.trim() ? vscode.l10n.t('An API key is required') : undefined),
    });
    if (apiKey === undefined) return undefined;
    apiKey = apiKey.trim() || undefined;
  }
  const url = checkBaseURL(baseURL);
  const models = await askModels(url, preset, apiKey);
  if (!models) return undefined;
  return { preset, id: id.trim(), baseURL: url, models, apiKey, replace, makeDefault: false };
}

async function askModels(baseURL: string, preset: ProviderPreset, apiKey: string | undefined): Promise<string[] | undefined> {
  const listed = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Asking {0}/models which models it serves…', baseURL) },
    () => listModels(baseURL, preset.kind, apiKey),
  );
  if (listed.ok) {
    const picked = await vscode.window.showQuickPick(
      listed.models.map((m) => ({ label: m })),
      { title, placeHolder: vscode.l10n.t('Models to offer (pick one or more)'), canPickMany: true, ignoreFocusOut: true },
    );
    if (!picked) return undefined;
    if (picked.length) return picked.map((p) => p.label);
  }
  const typed = await vscode.window.showInputBox({
    title,
    prompt: listed.ok
      ? vscode.l10n.t('Model ids, separated by commas')
      : vscode.l10n.t('Model ids, separated by commas (the model list was not available: {0})', listed.reason),
    placeHolder: vscode.l10n.t('e.g. gpt-4.1, gpt-4.1-mini'),
    ignoreFocusOut: true,
    validateInput: (v) => (parseModelIds(v).length ? undefined : vscode.l10n.t('Enter at least one model id')),
  });
  return typed === undefined ? undefined : parseModelIds(typed);
}

async function apply(ctx: Ctx, c: Collected): Promise<ConfiguredProvider> {
  const entry = buildProviderEntry({ preset: c.preset.preset, id: c.id, baseURL: c.baseURL, models: c.models, withKey: !!c.apiKey });
  const before = readProviders();
  const next = upsertProvider(before, entry, c.replace);
  // The key first: the settings change restarts the server, which reads it from SecretStorage.
  await storeProviderKey(ctx.extension.secrets, entry.id, c.apiKey);
  const first = `${entry.id}/${c.models[0]}`;
  const settingsChange = JSON.stringify(before) !== JSON.stringify(next) || (c.makeDefault && readConfig().agents.model !== first);
  await writeProviders(next);
  if (c.makeDefault) await writeDefaultModel(first);
  ctx.log.info(`model provider "${entry.id}" configured (${c.models.length} model(s)${c.apiKey ? ', key in secret storage' : ''})`);
  // Same settings, new key: no settings change restarts the server, so restart it here.
  if (!settingsChange) await ctx.restart();
  const result: ConfiguredProvider = { providerId: entry.id, models: c.models, keyEnv: c.apiKey ? keyEnvName(entry.id) : undefined };
  if (!c.makeDefault)
    void vscode.window
      .showInformationMessage(
        vscode.l10n.t('Provider "{0}" configured with {1}.', entry.id, c.models.join(', ')),
        vscode.l10n.t('Select Default Model'),
      )
      .then((p) => p && vscode.commands.executeCommand('orchestrator.selectDefaultModel'));
  return result;
}

export interface SelectModelArgs {
  /** `provider/model`, one of the configured models or the demo model. */
  model: string;
}

export const selectDefaultModel =
  (ctx: Ctx) =>
  async (args?: SelectModelArgs): Promise<string | undefined> => {
    // Promoted fine-tuned versions come from the server; without it, the configured models are still offered.
    const registered = await ctx.request(modelList, {}).catch(() => []);
    const choices = modelChoices(readProviders(), registered);
    const current = readConfig().agents.model;
    let model = args?.model;
    if (model === undefined) {
      const pick = await vscode.window.showQuickPick(
        choices.map((c) => ({
          label: c.label,
          description: c.id === current ? `${c.description} (current)` : c.description,
          id: c.id,
        })),
        {
          title: vscode.l10n.t('Select Default Model'),
          placeHolder: vscode.l10n.t('Default model for agent runs ({0} is the offline demo)', demoModel.id),
        },
      );
      if (!pick) return undefined;
      model = pick.id;
    } else if (!choices.some((c) => c.id === model)) {
      throw new ProviderInputError('models', `model "${model}" is not configured; configured: ${choices.map((c) => c.id).join(', ')}`);
    }
    await writeDefaultModel(model);
    return model;
  };
