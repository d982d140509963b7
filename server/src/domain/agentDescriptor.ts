/**
 * Agent descriptors (issue 12): the ACP registry's entry format (`agent.schema.json`: id, name, version,
 * description, distribution npx / uvx / binary with per-platform sha256, repository, license, authors) plus
 * our extras under `_meta.orchestrator` (routing capabilities, cost hint, max concurrency, the environment the
 * agent may see, authentication, per-agent quirks). Every per-agent difference lives here, never in a code path
 * special-cased by agent name. Pure: no I/O, no node:*.
 *
 * A local custom entry (an agent the user runs from a command, or a project fixture) has no registry
 * distribution; it names `_meta.orchestrator.command` instead.
 */
import { z } from 'zod';

export const platformKeys = [
  'darwin-aarch64',
  'darwin-x86_64',
  'linux-aarch64',
  'linux-x86_64',
  'windows-aarch64',
  'windows-x86_64',
] as const;
export type PlatformKey = (typeof platformKeys)[number];

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');
const envMap = z.record(envName, z.string());
const args = z.array(z.string());

const packageDistribution = z.object({ package: z.string().min(1), args: args.optional(), env: envMap.optional() }).strict();
const binaryTarget = z
  .object({
    archive: z.string().url(),
    sha256: z
      .string()
      .regex(/^[a-fA-F0-9]{64}$/, 'must be 64 hex characters')
      .optional(),
    cmd: z.string().min(1),
    args: args.optional(),
    env: envMap.optional(),
  })
  .strict();
const binaryDistribution = z
  .partialRecord(z.enum(platformKeys), binaryTarget)
  .refine((r) => Object.keys(r).length > 0, 'must name at least one platform');
const distribution = z
  .object({ binary: binaryDistribution.optional(), npx: packageDistribution.optional(), uvx: packageDistribution.optional() })
  .strict()
  .refine((d) => !!(d.binary || d.npx || d.uvx), 'must have at least one of binary, npx, uvx');

/** Our extras: `_meta.orchestrator`. Strict, so a misspelt key is an error naming it. */
export const orchestratorMetaSchema = z
  .object({
    /** Routing capabilities (`*` = generalist). Default `["*"]`. */
    capabilities: z.array(z.string().min(1)).optional(),
    /** Relative cost (lower is cheaper), as routing's `costHint`. */
    costHint: z.number().nonnegative().optional(),
    /** How many tasks may run on this agent at once. Default 2. */
    maxConcurrency: z.number().int().positive().optional(),
    /**
     * Install an npx package from this tarball or folder (relative to the index file) instead of the npm
     * registry; its version must still be the pinned one. Honoured only in a local index file (marketplace).
     */
    packageSource: z.string().min(1).optional(),
    /** A local custom entry: the program to run (absolute path or a name on PATH) and its arguments. */
    command: z
      .object({ path: z.string().min(1), args: args.optional() })
      .strict()
      .optional(),
    /**
     * The only environment the agent gets besides a minimal base (PATH, locale, temp) and its isolated home:
     * `pass` names variables copied from our environment when set, `required` the same but missing is an
     * error, `set` fixed values (`{home}` expands to the isolated home), `home` variables set to the home.
     */
    env: z
      .object({
        pass: z.array(envName).optional(),
        required: z.array(envName).optional(),
        set: envMap.optional(),
        home: z.array(envName).optional(),
      })
      .strict()
      .optional(),
    /** `authenticate` with this method before `session/new` when the agent offers it; `env` names the keys it reads. */
    auth: z
      .object({ methodId: z.string().min(1), env: z.array(envName).optional() })
      .strict()
      .optional(),
    quirks: z
      .object({
        /** Advertise `fs/*` (default true). Some agents misuse it (see docs/acp-agents.md). */
        advertiseFs: z.boolean().optional(),
        /** Advertise `terminal/*` (default false): the agent may ask us to run commands, each judged by the policy. */
        advertiseTerminal: z.boolean().optional(),
        /**
         * An execute permission request without a command in its raw input carries the command line as its title
         * (Gemini CLI): the policy judges that line. Default false (no command line → the policy asks).
         */
        executeTitleIsCommand: z.boolean().optional(),
        /** Answer `fs/read_text_file` of a missing file with "" instead of error -32002 (Gemini CLI). */
        missingFileAsEmpty: z.boolean().optional(),
        /** Files written into the isolated home before start, relative path → text (or JSON). `{home}` expands. */
        homeFiles: z.record(z.string().min(1), z.union([z.string(), z.record(z.string(), z.unknown())])).optional(),
        /** How long a cancelled turn may take to end before we end it ourselves (ms, default 5000). */
        cancelGraceMs: z.number().int().positive().optional(),
        /** Deadline for spawn → initialize → session/new (ms, default 60000). */
        startTimeoutMs: z.number().int().positive().optional(),
        /**
         * A process whose run ended cleanly serves the next task with a new session (default true); false stops it
         * after each run (an agent that keeps state between sessions).
         */
        reuseProcess: z.boolean().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type OrchestratorMeta = z.infer<typeof orchestratorMetaSchema>;

export const agentDescriptorSchema = z
  .looseObject({
    id: z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be lowercase letters, digits and hyphens, starting with a letter'),
    name: z.string().min(1),
    version: z.string().regex(/^[0-9]+\.[0-9]+\.[0-9]+/, 'must start with a semantic version (1.2.3)'),
    description: z.string().min(1),
    repository: z.string().url().optional(),
    website: z.string().url().optional(),
    authors: z.array(z.string()).optional(),
    license: z.string().min(1).optional(),
    license_url: z.string().url().optional(),
    icon: z.string().optional(),
    distribution: distribution.optional(),
    _meta: z.looseObject({ orchestrator: orchestratorMetaSchema.optional() }).optional(),
  })
  .superRefine((d, ctx) => {
    if (!d.distribution && !d._meta?.orchestrator?.command)
      ctx.addIssue({ code: 'custom', path: ['distribution'], message: 'required (or _meta.orchestrator.command for a local agent)' });
  });
export type AgentDescriptor = z.infer<typeof agentDescriptorSchema>;

export class DescriptorError extends Error {
  constructor(
    message: string,
    /** Dotted paths of the offending fields. */
    readonly fields: string[],
  ) {
    super(message);
    this.name = 'DescriptorError';
  }
}

function issues(error: z.ZodError): { text: string; fields: string[] } {
  const fields: string[] = [];
  const text = error.issues
    .map((i) => {
      const where = i.path.map(String).join('.') || '(entry)';
      fields.push(where);
      const unknown = i.code === 'unrecognized_keys' ? ` (${i.keys.join(', ')})` : '';
      return `${where}: ${i.message}${unknown}`;
    })
    .join('; ');
  return { text, fields };
}

/** Validates one descriptor; throws `DescriptorError` naming every bad field. */
export function parseAgentDescriptor(raw: unknown, label = 'agent descriptor'): AgentDescriptor {
  const r = agentDescriptorSchema.safeParse(raw);
  if (r.success) return r.data;
  const id = raw && typeof raw === 'object' && typeof (raw as { id?: unknown }).id === 'string' ? ` "${(raw as { id: string }).id}"` : '';
  const { text, fields } = issues(r.error);
  throw new DescriptorError(`${label}${id}: ${text}`, fields);
}

export interface IndexEntryError {
  /** Position in the index's `agents` array. */
  index: number;
  id?: string;
  message: string;
  fields: string[];
}

/**
 * An index (`{ agents: [...] }`, the registry's `registry.json` shape, or a bare array): every valid entry
 * is usable, every invalid one (or a repeated id) gives an error naming its fields.
 */
export function parseAgentIndex(raw: unknown): { agents: AgentDescriptor[]; errors: IndexEntryError[] } {
  const list = Array.isArray(raw) ? raw : raw && typeof raw === 'object' ? (raw as { agents?: unknown }).agents : undefined;
  if (!Array.isArray(list)) throw new DescriptorError('agent index: agents: must be an array of agent entries', ['agents']);
  const agents: AgentDescriptor[] = [];
  const errors: IndexEntryError[] = [];
  const seen = new Set<string>();
  list.forEach((entry, index) => {
    const id =
      entry && typeof entry === 'object' && typeof (entry as { id?: unknown }).id === 'string' ? (entry as { id: string }).id : undefined;
    try {
      const d = parseAgentDescriptor(entry, `agents[${index}]`);
      if (seen.has(d.id)) {
        errors.push({ index, id, message: `agents[${index}] "${d.id}": id: repeats an earlier entry`, fields: ['id'] });
        return;
      }
      seen.add(d.id);
      agents.push(d);
    } catch (e) {
      const de = e as DescriptorError;
      errors.push({ index, ...(id ? { id } : {}), message: de.message, fields: de.fields ?? [] });
    }
  });
  return { agents, errors };
}

export const metaOf = (d: AgentDescriptor): OrchestratorMeta => d._meta?.orchestrator ?? {};

/** What routing needs to know about the agent. */
export function routingProfileOf(d: AgentDescriptor): { id: string; capabilities: string[]; maxConcurrency: number; costHint?: number } {
  const m = metaOf(d);
  return {
    id: d.id,
    capabilities: m.capabilities?.length ? [...m.capabilities] : ['*'],
    maxConcurrency: m.maxConcurrency ?? 2,
    ...(m.costHint !== undefined ? { costHint: m.costHint } : {}),
  };
}

export interface LaunchPlan {
  /** How it was resolved. */
  kind: 'command' | 'binary' | 'npx' | 'uvx';
  command: string;
  args: string[];
  /** Fixed variables from the distribution. */
  env: Record<string, string>;
}

/**
 * The program to run for a descriptor. Order: an explicit `commandPath` (e.g. a binary found by the caller),
 * the local `command`, the platform's binary (needs the folder it was installed into), npx, uvx.
 */
export function launchPlan(d: AgentDescriptor, o: { platform: PlatformKey; installDir?: string; commandPath?: string }): LaunchPlan {
  const m = metaOf(d);
  const dist = d.distribution;
  if (o.commandPath) return { kind: 'command', command: o.commandPath, args: [...(m.command?.args ?? dist?.npx?.args ?? [])], env: {} };
  if (m.command) return { kind: 'command', command: m.command.path, args: [...(m.command.args ?? [])], env: {} };
  const bin = dist?.binary?.[o.platform];
  if (bin) {
    if (!o.installDir)
      throw new DescriptorError(`agent "${d.id}": distribution.binary.${o.platform}: not installed (no install folder)`, [
        `distribution.binary.${o.platform}`,
      ]);
    const cmd = bin.cmd.replace(/^\.\//, '');
    const command = /^([A-Za-z]:)?[\\/]/.test(cmd) ? cmd : `${o.installDir.replace(/[\\/]+$/, '')}/${cmd}`;
    return { kind: 'binary', command, args: [...(bin.args ?? [])], env: { ...(bin.env ?? {}) } };
  }
  if (dist?.npx)
    return { kind: 'npx', command: 'npx', args: ['--yes', dist.npx.package, ...(dist.npx.args ?? [])], env: { ...(dist.npx.env ?? {}) } };
  if (dist?.uvx)
    return { kind: 'uvx', command: 'uvx', args: [dist.uvx.package, ...(dist.uvx.args ?? [])], env: { ...(dist.uvx.env ?? {}) } };
  const offered = Object.keys(dist?.binary ?? {}).join(', ');
  throw new DescriptorError(`agent "${d.id}": distribution: nothing runs on ${o.platform} (binary for ${offered || 'no platform'})`, [
    'distribution',
  ]);
}

/** Variables every agent gets from our environment (tools need them); nothing else passes unless named. */
export const baseEnvNames = ['PATH', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TMPDIR', 'TEMP', 'TMP', 'TERM', 'SystemRoot', 'ComSpec', 'PATHEXT'];

/**
 * The agent's whole environment: the base names, the isolated home (HOME, XDG dirs), the distribution's fixed
 * values, then `_meta.orchestrator.env`. `missing` lists required names absent from `source` (never values).
 */
export function agentEnvironment(
  d: AgentDescriptor,
  plan: LaunchPlan,
  o: { home: string; source: Readonly<Record<string, string | undefined>> },
): { env: Record<string, string>; missing: string[] } {
  const m = metaOf(d).env ?? {};
  const auth = metaOf(d).auth?.env ?? [];
  const env: Record<string, string> = {};
  for (const k of baseEnvNames) if (o.source[k] !== undefined) env[k] = o.source[k]!;
  const home = o.home;
  Object.assign(env, {
    HOME: home,
    USERPROFILE: home,
    XDG_CONFIG_HOME: `${home}/.config`,
    XDG_DATA_HOME: `${home}/.local/share`,
    XDG_CACHE_HOME: `${home}/.cache`,
    XDG_STATE_HOME: `${home}/.local/state`,
  });
  Object.assign(env, plan.env);
  for (const k of m.home ?? []) env[k] = home;
  for (const [k, v] of Object.entries(m.set ?? {})) env[k] = v.split('{home}').join(home);
  const missing: string[] = [];
  for (const k of [...(m.pass ?? []), ...(m.required ?? []), ...auth]) {
    const v = o.source[k];
    if (v !== undefined) env[k] = v;
    else if ((m.required ?? []).includes(k) || auth.includes(k)) missing.push(k);
  }
  return { env, missing: [...new Set(missing)] };
}

/** The platform key of a Node `process.platform` / `process.arch` pair, if the registry knows it. */
export function platformKeyOf(platform: string, arch: string): PlatformKey | undefined {
  const os = platform === 'win32' ? 'windows' : platform;
  const cpu = arch === 'x64' ? 'x86_64' : arch === 'arm64' ? 'aarch64' : arch;
  const key = `${os}-${cpu}`;
  return (platformKeys as readonly string[]).includes(key) ? (key as PlatformKey) : undefined;
}
