/**
 * Plugin adapters (issue 12): third-party `AgentRuntime` modules the user trusts. The rules here are pure:
 * the settings, the trust decision (a source is trusted only with the sha256 of its entry file, so a changed
 * file is untrusted again) and the shape check of what a module exports against the port.
 */
import { z } from 'zod';

const sha256 = z.string().regex(/^[a-f0-9]{64}$/, 'must be 64 lowercase hex characters (the sha256 of the entry file)');

/** `agents.plugins` (`orchestrator.plugins.*`): where plugins are, and which of them the user trusts. */
export const pluginSettingsSchema = z
  .object({
    /** Folders holding a plugin (its `package.json` `main`, else `index.js` / `index.mjs`). */
    paths: z.array(z.string().min(1)).optional(),
    /** npm package names, installed under `<data folder>/plugins` (`npm install --prefix <data>/plugins NAME@VERSION`). */
    packages: z.array(z.string().regex(/^(@[a-z0-9._~-]+\/)?[a-z0-9._~-]+$/, 'must be an npm package name')).optional(),
    /** The plugins the user trusts: a source (the folder as configured, or the package name) and its entry file's sha256. */
    trusted: z.array(z.object({ source: z.string().min(1), sha256 }).strict()).optional(),
  })
  .strict();
export type PluginSettings = z.infer<typeof pluginSettingsSchema>;

/** Where a plugin comes from, as the user configured it. */
export interface PluginSource {
  kind: 'path' | 'package';
  /** The folder (as configured) or the package name: what `trusted[].source` names. */
  source: string;
}

export function pluginSources(s: PluginSettings | undefined): PluginSource[] {
  return [
    ...(s?.paths ?? []).map((source) => ({ kind: 'path' as const, source })),
    ...(s?.packages ?? []).map((source) => ({ kind: 'package' as const, source })),
  ];
}

/** Whether the user trusts exactly this entry file (same source and same sha256). */
export function isTrusted(s: PluginSettings | undefined, source: string, sha: string): boolean {
  return (s?.trusted ?? []).some((t) => t.source === source && t.sha256 === sha);
}

/** Why a source is not trusted, in one sentence naming what to add. */
export function untrustedMessage(s: PluginSettings | undefined, source: string, sha: string): string {
  const known = (s?.trusted ?? []).some((t) => t.source === source);
  const add = `add {"source": ${JSON.stringify(source)}, "sha256": "${sha}"} to orchestrator.plugins.trusted to load it`;
  return known
    ? `its entry file changed since it was trusted (sha256 is now ${sha}); review it, then ${add}`
    : `it is not trusted; review it, then ${add}`;
}

/** What a plugin module exports (`plugin`, or the default export): its identity and the runtime factory. */
export interface PluginManifest {
  id: string;
  name: string;
  description: string;
  capabilities: string[];
  maxConcurrency: number;
  createRuntime: (ctx: unknown) => unknown;
}

export const pluginIdPattern = /^[a-z][a-z0-9-]*$/;
const runtimeFunctions = ['start', 'prompt', 'cancel', 'dispose'] as const;

export type ShapeCheck<T> = { ok: true; value: T } | { ok: false; message: string };

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null;

/**
 * Checks a loaded module against the plugin contract: an object `plugin` (or the default export; a CommonJS
 * `module.exports.plugin` arrives as `default.plugin`) with `id`, `name` and the function `createRuntime`.
 * The message names every missing or wrong member.
 */
export function checkPluginModule(mod: unknown): ShapeCheck<PluginManifest> {
  const candidates = isObject(mod) ? [mod.plugin, isObject(mod.default) ? mod.default.plugin : undefined, mod.default] : [];
  const p = candidates.find(isObject);
  if (!p) return { ok: false, message: 'the module exports no plugin object (export `plugin`, or a default export)' };
  const problems: string[] = [];
  if (typeof p.id !== 'string' || !pluginIdPattern.test(p.id))
    problems.push('id (a string of lowercase letters, digits and hyphens, starting with a letter)');
  if (typeof p.name !== 'string' || !p.name.trim()) problems.push('name (a non-empty string)');
  if (typeof p.createRuntime !== 'function') problems.push('createRuntime (a function)');
  if (p.description !== undefined && typeof p.description !== 'string') problems.push('description (a string)');
  const caps = p.capabilities;
  if (caps !== undefined && !(Array.isArray(caps) && caps.length > 0 && caps.every((c) => typeof c === 'string' && c)))
    problems.push('capabilities (a non-empty array of strings)');
  const max = p.maxConcurrency;
  if (max !== undefined && !(typeof max === 'number' && Number.isInteger(max) && max >= 1))
    problems.push('maxConcurrency (an integer ≥ 1)');
  if (problems.length) return { ok: false, message: `the plugin object is missing or has a wrong ${problems.join(', ')}` };
  return {
    ok: true,
    value: {
      id: p.id as string,
      name: p.name as string,
      description: (p.description as string | undefined) ?? `Plugin agent ${p.id as string}`,
      capabilities: (caps as string[] | undefined) ?? ['*'],
      maxConcurrency: (max as number | undefined) ?? 1,
      createRuntime: p.createRuntime as (ctx: unknown) => unknown,
    },
  };
}

/** Checks what `createRuntime` returned against the `AgentRuntime` port: the required functions, by name. */
export function checkRuntimeShape(rt: unknown, pluginId: string): ShapeCheck<Record<string, unknown>> {
  if (!isObject(rt)) return { ok: false, message: 'createRuntime returned no object (an AgentRuntime was expected)' };
  const missing = runtimeFunctions.filter((f) => typeof rt[f] !== 'function');
  if (rt.release !== undefined && typeof rt.release !== 'function') missing.push('release' as never);
  if (missing.length)
    return { ok: false, message: `the runtime does not implement the AgentRuntime port: missing function(s) ${missing.join(', ')}` };
  if (rt.id !== undefined && rt.id !== pluginId)
    return { ok: false, message: `the runtime's id ${JSON.stringify(rt.id)} differs from the plugin's id "${pluginId}"` };
  return { ok: true, value: rt };
}

/**
 * The plugin a fault belongs to: the first plugin whose folder appears in the error's stack (as a path or a
 * file URL). Undefined when none does (the fault is not known to be a plugin's).
 */
export function faultOwner(stack: string | undefined, plugins: readonly { id: string; root: string }[]): string | undefined {
  if (!stack) return undefined;
  for (const p of plugins) {
    const url = `file://${p.root.split('\\').join('/')}`;
    if (stack.includes(`${p.root}/`) || stack.includes(`${p.root}\\`) || stack.includes(`${url}/`)) return p.id;
  }
  return undefined;
}
