/**
 * The headless CLI's config file: `--config FILE`, else `$XDG_CONFIG_HOME/industrial-orchestrator/config.json`
 * (`~/.config/industrial-orchestrator/config.json` without XDG_CONFIG_HOME). The file is optional at the
 * default path and required when `--config` names it.
 *
 * The schema is the extension's agent settings (`agentSettingsSchema`: providers with keys only as
 * `{env:NAME}`, default model, OpenCode path, timeouts) plus what only the CLI needs: extra programs for the
 * permission policy (`allow`) and limits (`maxParallel`, `budgetTokens`). Keys are read from the environment
 * by OpenCode; nothing here writes the file or a key anywhere.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { agentSettingsSchema, configuredModels, demoModelId, type AgentSettings } from './agents';
import { DomainError } from './domain/errors';

/** A program name for the command allow-list: a bare name, as the policy matches it (no path, no spaces). */
export const allowedProgramSchema = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9._+-]*$/, 'must be a program name (no path, no spaces)');

export const cliConfigSchema = agentSettingsSchema
  .extend({
    /** Programs added to the permission policy's allow-list (e.g. `["node", "npm"]` to let agents run tests). */
    allow: z.array(allowedProgramSchema).optional(),
    /** Tasks run at once (default 4). */
    maxParallel: z.number().int().min(1).max(64).optional(),
    /** Token budget of a new session (`run "GOAL"`). */
    budgetTokens: z.number().int().positive().optional(),
  })
  .strict();
export type CliConfig = z.infer<typeof cliConfigSchema>;

export interface LoadedConfig {
  config: CliConfig;
  /** The file read, when there was one. */
  file?: string;
  /** Problems worth saying that do not stop the run (a referenced key variable that is not set). */
  warnings: string[];
}

export function defaultConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  return path.join(base, 'industrial-orchestrator', 'config.json');
}

/** `providers.0.apiKey` → `providers[0].apiKey`. */
function fieldPath(p: readonly PropertyKey[]): string {
  return (
    p.reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${String(k)}` : String(k)), '') || '(top level)'
  );
}

function bad(file: string, field: string, message: string): DomainError {
  return new DomainError('bad_input', `${file}: ${field}: ${message}`, { file, field });
}

/**
 * Reads and validates the config. `explicit` is the `--config` value. Throws `DomainError('bad_input')`
 * naming the file and the field (data: `{ file, field }`).
 */
export async function loadCliConfig(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<LoadedConfig> {
  const file = path.resolve(explicit ?? defaultConfigPath(env));
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && explicit === undefined) return { config: {}, warnings: [] };
    if (code === 'ENOENT') throw bad(file, '--config', 'no such file');
    throw bad(file, '(file)', `cannot be read (${code ?? String(e)})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw bad(file, '(file)', `not valid JSON (${(e as Error).message})`);
  }
  const r = cliConfigSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const unknown = issue.code === 'unrecognized_keys' ? ` (${issue.keys.join(', ')})` : '';
    throw bad(file, fieldPath(issue.path), `${issue.message}${unknown}`);
  }
  const config = r.data;
  const models = configuredModels(config);
  if (config.model && !models.includes(config.model)) {
    throw bad(file, 'model', `${JSON.stringify(config.model)} is not a configured model; configured: ${models.join(', ')}`);
  }
  const warnings: string[] = [];
  (config.providers ?? []).forEach((p, i) => {
    const name = /^\{env:(.+)\}$/.exec(p.apiKey ?? '')?.[1];
    if (name && !env[name]) warnings.push(`${file}: providers[${i}].apiKey: the environment variable ${name} is not set`);
  });
  return { config, file, warnings };
}

/** The agent settings part of the config (what the extension's settings also carry). */
export function agentSettingsOf(config: CliConfig, overrides: { turnMs?: number } = {}): AgentSettings {
  const { allow: _allow, maxParallel: _maxParallel, budgetTokens: _budgetTokens, ...settings } = config;
  if (overrides.turnMs === undefined) return settings;
  return { ...settings, timeouts: { ...settings.timeouts, turnMs: overrides.turnMs } };
}

/** Checks `--model` against the configured models (the demo model when none is configured). */
export function checkModelChoice(config: CliConfig, model: string): string | undefined {
  const models = configuredModels(config);
  return models.includes(model) ? undefined : `--model: unknown model ${JSON.stringify(model)}; configured models: ${models.join(', ')}`;
}

/** What the CLI says when no provider is configured: at the start (stderr) and in the summary. */
export function demoNotice(configFile: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return (
    `running the scripted demo model (${demoModelId}, offline, no real LLM) because no model provider is configured. ` +
    `To use a real model, add "providers" to ${configFile ?? defaultConfigPath(env)} or pass --config FILE (see the README, "Headless").`
  );
}
