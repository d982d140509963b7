/**
 * An isolated, offline OpenCode home under the orchestrator's data dir, and the config + environment that
 * go with it (docs/opencode.md §2): own HOME/XDG dirs, no models.dev fetch, no autoupdate/share/LSP
 * downloads, and a stub that stops OpenCode's start-up `npm install` of `@opencode-ai/plugin`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { modelIdPattern } from '../../../../protocol/agent';
import type { ProviderKind } from '../../../../protocol/provider';

/** The AI SDK package OpenCode loads for each provider kind (all bundled in the OpenCode binary). */
export const providerNpm: Record<ProviderKind, string> = {
  'openai-compatible': '@ai-sdk/openai-compatible',
  anthropic: '@ai-sdk/anthropic',
  openai: '@ai-sdk/openai',
  openrouter: '@openrouter/ai-sdk-provider',
};

/** One provider: OpenAI-compatible (a hosted API, a local server, the scripted demo model) or a native kind. */
export interface ProviderConfig {
  /** Provider id used in model names: `<id>/<model>`. */
  id: string;
  name?: string;
  /** Default `openai-compatible`. */
  kind?: ProviderKind;
  /** Base URL ending in `/v1` (requests go to `{baseURL}/chat/completions`). */
  baseURL: string;
  /** Literal key, or OpenCode's `{env:NAME}` interpolation. Default `none`. */
  apiKey?: string;
  /** Model ids (with optional limits). */
  models: Record<string, { name?: string; toolCall?: boolean; context?: number; output?: number }>;
}

export interface OpencodeConfigInput {
  providers: ProviderConfig[];
  /** `provider/model` used when a prompt names none. */
  defaultModel: string;
  /** `provider/model` for titles and summaries (default: `defaultModel`). */
  smallModel?: string;
  /** Extra top-level config merged last (e.g. `{ permission: {...} }`, `{ snapshot: false }`). */
  extra?: Record<string, unknown>;
}

export interface OpencodeHome {
  root: string;
  configDir: string;
}

export function homeDirs(dataDir: string): OpencodeHome {
  const root = path.join(dataDir, 'opencode-home');
  return { root, configDir: path.join(root, 'config', 'opencode') };
}

/** Creates the home (idempotent). `version` is the OpenCode version the plugin stub claims to satisfy. */
export function prepareHome(dataDir: string, version: string): OpencodeHome {
  const home = homeDirs(dataDir);
  for (const d of ['data', 'cache', 'state', path.join('config', 'opencode', 'node_modules')]) {
    fs.mkdirSync(path.join(home.root, d), { recursive: true });
  }
  const deps = { '@opencode-ai/plugin': version };
  fs.writeFileSync(path.join(home.configDir, 'package.json'), JSON.stringify({ dependencies: deps }));
  fs.writeFileSync(
    path.join(home.configDir, 'package-lock.json'),
    JSON.stringify({ lockfileVersion: 3, packages: { '': { dependencies: deps } } }),
  );
  return home;
}

export function buildConfig(input: OpencodeConfigInput): Record<string, unknown> {
  const provider: Record<string, unknown> = {};
  for (const p of input.providers) {
    const models: Record<string, unknown> = {};
    for (const [id, m] of Object.entries(p.models)) {
      models[id] = { name: m.name ?? id, tool_call: m.toolCall ?? true, limit: { context: m.context ?? 128000, output: m.output ?? 4096 } };
    }
    provider[p.id] = {
      npm: providerNpm[p.kind ?? 'openai-compatible'],
      name: p.name ?? p.id,
      options: { baseURL: p.baseURL, apiKey: p.apiKey ?? 'none' },
      models,
    };
  }
  return {
    $schema: 'https://opencode.ai/config.json',
    autoupdate: false,
    share: 'disabled',
    model: input.defaultModel,
    small_model: input.smallModel ?? input.defaultModel,
    enabled_providers: input.providers.map((p) => p.id),
    provider,
    ...(input.extra ?? {}),
  };
}

/** Whether `model` (`provider/model`) is one of the configured models. */
export function knownModel(input: OpencodeConfigInput, model: string): boolean {
  if (!modelIdPattern.test(model)) return false;
  const { providerID, modelID } = splitModel(model);
  const p = input.providers.find((x) => x.id === providerID);
  return !!p && Object.hasOwn(p.models, modelID);
}

export function splitModel(model: string): { providerID: string; modelID: string } {
  const slash = model.indexOf('/');
  return { providerID: model.slice(0, slash), modelID: model.slice(slash + 1) };
}

/**
 * Environment for `opencode serve`: isolation, offline flags, config and the Basic-auth password. Only a few
 * variables of `base` pass through (PATH, locale, temp); `extra` adds more (e.g. a provider key referenced
 * as `{env:NAME}` in the config).
 */
export function buildEnv(
  home: OpencodeHome,
  config: Record<string, unknown>,
  password: string,
  extra: Record<string, string> = {},
  base: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  // Keep only what tools need to run (PATH for git/rg/bash, locale, temp dirs); drop the caller's secrets.
  for (const k of ['PATH', 'LANG', 'LC_ALL', 'TMPDIR', 'TEMP', 'TMP', 'SHELL', 'TERM', 'SystemRoot', 'ComSpec', 'PATHEXT']) {
    if (base[k] !== undefined) env[k] = base[k];
  }
  return {
    ...env,
    ...extra,
    HOME: home.root,
    USERPROFILE: home.root,
    XDG_CONFIG_HOME: path.join(home.root, 'config'),
    XDG_DATA_HOME: path.join(home.root, 'data'),
    XDG_CACHE_HOME: path.join(home.root, 'cache'),
    XDG_STATE_HOME: path.join(home.root, 'state'),
    OPENCODE_CONFIG_CONTENT: JSON.stringify(config),
    OPENCODE_DISABLE_AUTOUPDATE: '1',
    OPENCODE_DISABLE_MODELS_FETCH: '1',
    OPENCODE_DISABLE_LSP_DOWNLOAD: '1',
    OPENCODE_DISABLE_DEFAULT_PLUGINS: '1',
    OPENCODE_DISABLE_SHARE: '1',
    OPENCODE_DISABLE_CLAUDE_CODE: '1',
    OPENCODE_DISABLE_EXTERNAL_SKILLS: '1',
    OPENCODE_DISABLE_PROJECT_CONFIG: '1',
    OPENCODE_SERVER_USERNAME: 'opencode',
    OPENCODE_SERVER_PASSWORD: password,
    npm_config_registry: 'http://127.0.0.1:9/',
  };
}
