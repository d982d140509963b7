/**
 * What installing a marketplace entry does and then runs (the consent the user gives is for exactly this), and
 * the token that proves the plan shown is the plan installed. Pure.
 *
 * - npx: `npm install --prefix <dir> <name>@<pinned>` (or the local-index `packageSource`), then the package's
 *   `bin` from `<dir>/node_modules/.bin` with the distribution's arguments. Pinned = the exact version in the
 *   package spec, else the entry's version; the installed package must have it.
 * - binary: the platform's archive downloaded into `<dir>`, its sha256 checked (required: an unverifiable
 *   binary is not installed), unpacked (tar.gz/tgz/tar.bz2/zip, or a raw binary), then `cmd`.
 * - uvx: `uvx <package>` (uv fetches it on first run); needs uv on PATH.
 * - command: the local entry's program as it is; nothing is installed.
 */
import type { DistributionKind, MarketplacePlan } from '../../../../protocol/marketplace';
import { baseEnvNames, metaOf, type AgentDescriptor, type PlatformKey } from '../agentDescriptor';
import { chosenDistribution } from './catalog';

export type ArchiveKind = 'tar' | 'zip' | 'raw';

export interface InstallPlan extends MarketplacePlan {
  id: string;
  kind: DistributionKind;
  npm?: { name: string; version: string; /** What `npm install` is given. */ spec: string };
  binary?: { url: string; sha256?: string; cmd: string; archive: ArchiveKind; fileName: string };
  uvx?: { package: string };
}

/** `name@version` of an npm package spec (`@scope/name@1.2.3`, `name`, `name@latest`). */
export function parsePackageSpec(spec: string): { name: string; version?: string } {
  const at = spec.lastIndexOf('@');
  if (at <= 0) return { name: spec };
  return { name: spec.slice(0, at), version: spec.slice(at + 1) };
}

const exactVersion = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;

export function archiveKindOf(url: string): ArchiveKind {
  const path = url.split(/[?#]/)[0].toLowerCase();
  if (/\.(tar\.gz|tgz|tar\.bz2|tbz2|tar\.xz|tar)$/.test(path)) return 'tar';
  if (path.endsWith('.zip')) return 'zip';
  return 'raw';
}

const isAbsolute = (p: string) => /^([A-Za-z]:)?[\\/]/.test(p);

/** The env names an agent of this descriptor gets (values are never part of a plan). */
export function envNamesOf(d: AgentDescriptor, distributionEnv: Record<string, string> | undefined): MarketplacePlan['env'] {
  const m = metaOf(d).env ?? {};
  const home = ['HOME', 'USERPROFILE', 'XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_CACHE_HOME', 'XDG_STATE_HOME'];
  const uniq = (xs: string[]) => [...new Set(xs)].sort();
  return {
    set: uniq([...home, ...Object.keys(distributionEnv ?? {}), ...(m.home ?? []), ...Object.keys(m.set ?? {})]),
    passed: uniq([...baseEnvNames, ...(m.pass ?? [])]),
    required: uniq([...(m.required ?? []), ...(metaOf(d).auth?.env ?? [])]),
  };
}

/**
 * The plan for an entry on this platform. `installRoot`: the managed folder for all agents; `indexDir`: the
 * folder of the local index file the entry came from (a relative `packageSource` is relative to it).
 */
export function installPlan(
  d: AgentDescriptor,
  o: { platform: PlatformKey; installRoot: string; indexDir?: string },
): InstallPlan | { unavailable: string } {
  const chosen = chosenDistribution(d, o.platform);
  if ('unavailable' in chosen) return chosen;
  const dir = `${o.installRoot.replace(/[\\/]+$/, '')}/${d.id}/${d.version}`;
  const base = { id: d.id, version: d.version };
  const meta = metaOf(d);
  if (chosen.kind === 'command') {
    const c = meta.command!;
    return { ...base, kind: 'command', steps: [], command: c.path, args: [...(c.args ?? [])], env: envNamesOf(d, undefined) };
  }
  if (chosen.kind === 'binary') {
    const b = d.distribution!.binary![o.platform]!;
    const fileName = decodeURIComponent(b.archive.split(/[?#]/)[0].split('/').pop() || 'download');
    const cmd = b.cmd.replace(/^\.\//, '');
    return {
      ...base,
      kind: 'binary',
      installDir: dir,
      steps: [`download ${b.archive} (sha256 ${b.sha256 ?? 'not given: refused'})`, `unpack into ${dir}`],
      command: isAbsolute(cmd) ? cmd : `${dir}/${cmd}`,
      args: [...(b.args ?? [])],
      env: envNamesOf(d, b.env),
      binary: { url: b.archive, ...(b.sha256 ? { sha256: b.sha256.toLowerCase() } : {}), cmd, archive: archiveKindOf(b.archive), fileName },
    };
  }
  if (chosen.kind === 'npx') {
    const npx = d.distribution!.npx!;
    const p = parsePackageSpec(npx.package);
    const version = p.version && exactVersion.test(p.version) ? p.version : d.version;
    const source = meta.packageSource;
    const spec = source
      ? isAbsolute(source) || !o.indexDir
        ? source
        : `${o.indexDir.replace(/[\\/]+$/, '')}/${source}`
      : `${p.name}@${version}`;
    return {
      ...base,
      version,
      kind: 'npx',
      installDir: dir,
      steps: [`npm install --prefix ${dir} ${spec}`, `check that ${p.name} is version ${version}`],
      command: `${dir}/node_modules/.bin/<bin of ${p.name}>`,
      args: [...(npx.args ?? [])],
      env: envNamesOf(d, npx.env),
      npm: { name: p.name, version, spec },
    };
  }
  const uvx = d.distribution!.uvx!;
  return {
    ...base,
    kind: 'uvx',
    steps: ['check that uv (uvx) is installed; uvx fetches the package on first run'],
    command: 'uvx',
    args: [uvx.package, ...(uvx.args ?? [])],
    env: envNamesOf(d, uvx.env),
    uvx: { package: uvx.package },
  };
}

/** FNV-1a over the text, twice with different offsets: 64 bits of hex. Not a secret, a "you saw this" echo. */
function fnv(text: string, offset: number): string {
  let h = offset >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** The token `marketplace/get` shows with a plan and `marketplace/install` must echo. */
export function consentToken(plan: InstallPlan): string {
  const text = JSON.stringify([plan.id, plan.version, plan.kind, plan.steps, plan.command, plan.args, plan.env, plan.installDir ?? '']);
  return `${fnv(text, 0x811c9dc5)}${fnv(text, 0x050c5d1f)}`;
}

/**
 * The descriptor an installed agent runs with. An npx agent runs its package's bin (not `npx`), so the npx
 * distribution's fixed environment joins `_meta.orchestrator.env.set`; a binary's is applied by `launchPlan`.
 */
export function runnableDescriptor(d: AgentDescriptor, plan: InstallPlan, _platform: PlatformKey): AgentDescriptor {
  const distEnv = plan.kind === 'npx' ? d.distribution?.npx?.env : undefined;
  if (!distEnv || !Object.keys(distEnv).length) return d;
  const meta = metaOf(d);
  return {
    ...d,
    _meta: { ...d._meta, orchestrator: { ...meta, env: { ...meta.env, set: { ...distEnv, ...(meta.env?.set ?? {}) } } } },
  };
}
