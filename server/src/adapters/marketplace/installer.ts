/**
 * Installs marketplace agents into the managed folder (`<data>/marketplace/agents/<id>/<version>`): npm packages
 * at their pinned version (`npm install --prefix`, 180 s deadline), binaries downloaded (120 s deadline) with
 * their sha256 checked before anything is unpacked, and the uv check for uvx entries. Whatever fails, the folder
 * is removed and a typed `DomainError` says what happened; nothing half-installed stays behind.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { DomainError } from '../../domain/errors';
import type { InstallPlan } from '../../domain/marketplace/installPlan';
import type { AgentInstallerPort } from '../../ports/marketplace';

const npmDeadlineMs = 180_000;
const downloadDeadlineMs = 120_000;
const unpackDeadlineMs = 60_000;

/**
 * npm (and the install scripts of the package it installs) get only what installing needs: never the provider
 * keys (`ORCH_KEY_*`) or anything else of the server's environment.
 */
function installEnv(): NodeJS.ProcessEnv {
  const keep =
    /^(PATH|HOME|USERPROFILE|LANG|LC_ALL|LC_CTYPE|TMPDIR|TEMP|TMP|SystemRoot|ComSpec|PATHEXT|APPDATA|NODE_EXTRA_CA_CERTS|(HTTPS?|NO)_PROXY|(https?|no)_proxy|npm_config_[a-z_]+|NPM_CONFIG_[A-Z_]+)$/;
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => keep.test(k)));
}

function run(cmd: string, args: string[], timeout: number, cwd?: string): Promise<{ ok: boolean; timedOut: boolean; output: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout, cwd, env: installEnv(), maxBuffer: 4 * 1024 * 1024, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const timedOut = !!err && (err as { killed?: boolean }).killed === true;
      resolve({ ok: !err, timedOut, output: `${stderr}\n${stdout}`.trim().split('\n').slice(-8).join('\n') });
    });
  });
}

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(
    () => true,
    () => false,
  );
}

/** The package's bin name: a string `bin` is named after the package; of several, the one named like it, else the first. */
function binName(pkgName: string, bin: unknown): string | undefined {
  const base = pkgName.split('/').pop()!;
  if (typeof bin === 'string') return base;
  if (!bin || typeof bin !== 'object') return undefined;
  const names = Object.keys(bin);
  return names.includes(base) ? base : names[0];
}

export class AgentInstaller implements AgentInstallerPort {
  async hasUv(): Promise<boolean> {
    const r = await run('uv', ['--version'], 10_000);
    return r.ok;
  }

  /** Removes the version's folder, and the agent's folder above it once empty. */
  async remove(dir: string): Promise<void> {
    await fs.rm(dir, { recursive: true, force: true });
    await fs.rmdir(path.dirname(dir)).catch(() => undefined);
  }

  async install(plan: InstallPlan): Promise<{ commandPath?: string }> {
    const dir = plan.installDir;
    if (!dir) return {};
    await fs.rm(dir, { recursive: true, force: true });
    await fs.mkdir(dir, { recursive: true });
    try {
      if (plan.npm) return { commandPath: await this.installNpm(plan, dir) };
      if (plan.binary) await this.installBinary(plan, dir);
      return {};
    } catch (e) {
      await this.remove(dir).catch(() => undefined);
      throw e;
    }
  }

  private async installNpm(plan: InstallPlan, dir: string): Promise<string> {
    const npm = plan.npm!;
    const r = await run('npm', ['install', '--prefix', dir, '--no-audit', '--no-fund', '--loglevel=error', npm.spec], npmDeadlineMs, dir);
    if (r.timedOut)
      throw new DomainError('timeout', `${plan.id}: npm install ${npm.spec} took longer than ${npmDeadlineMs} ms; nothing was installed`);
    if (!r.ok)
      throw new DomainError('agent_unavailable', `${plan.id}: npm install ${npm.spec} failed; nothing was installed:\n${r.output}`);
    const pkgFile = path.join(dir, 'node_modules', ...npm.name.split('/'), 'package.json');
    let pkg: { name?: string; version?: string; bin?: unknown };
    try {
      pkg = JSON.parse(await fs.readFile(pkgFile, 'utf8')) as typeof pkg;
    } catch {
      throw new DomainError('agent_unavailable', `${plan.id}: npm installed no package named ${npm.name}; nothing was installed`);
    }
    if (pkg.version !== npm.version)
      throw new DomainError(
        'agent_unavailable',
        `${plan.id}: the installed ${npm.name} is version ${pkg.version ?? '(none)'}, the index pins ${npm.version}; nothing was installed`,
      );
    const bin = binName(npm.name, pkg.bin);
    const commandPath = bin ? path.join(dir, 'node_modules', '.bin', bin) : undefined;
    if (!commandPath || !(await exists(commandPath)))
      throw new DomainError(
        'agent_unavailable',
        `${plan.id}: ${npm.name} ${npm.version} has no program (package.json "bin"); nothing was installed`,
      );
    return commandPath;
  }

  private async installBinary(plan: InstallPlan, dir: string): Promise<void> {
    const b = plan.binary!;
    if (!b.sha256)
      throw new DomainError(
        'agent_unavailable',
        `${plan.id}: the index gives no sha256 for ${b.url}; an unverifiable binary is not installed`,
      );
    const file = path.join(dir, b.fileName);
    const hash = createHash('sha256');
    try {
      const res = await fetch(b.url, { signal: AbortSignal.timeout(downloadDeadlineMs), redirect: 'follow' });
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      const hasher = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          hash.update(chunk);
          cb(null, chunk);
        },
      });
      await pipeline(Readable.fromWeb(res.body as WebReadableStream), hasher, createWriteStream(file));
    } catch (e) {
      const why = (e as Error).name === 'TimeoutError' ? `no complete download within ${downloadDeadlineMs} ms` : (e as Error).message;
      throw new DomainError('agent_unavailable', `${plan.id}: downloading ${b.url} failed (${why}); nothing was installed`);
    }
    const got = hash.digest('hex');
    if (got !== b.sha256)
      throw new DomainError(
        'agent_unavailable',
        `${plan.id}: sha256 mismatch for ${b.url}: expected ${b.sha256}, got ${got}; the download was removed and nothing was installed`,
        { expected: b.sha256, actual: got },
      );
    const target = path.resolve(dir, b.cmd);
    if (!target.startsWith(path.resolve(dir) + path.sep))
      throw new DomainError('agent_unavailable', `${plan.id}: cmd ${b.cmd} leads outside the install folder; nothing was installed`);
    if (b.archive === 'raw') {
      if (path.resolve(file) !== path.resolve(target)) await fs.rename(file, target);
    } else {
      const r =
        b.archive === 'zip'
          ? await run('unzip', ['-q', '-o', file, '-d', dir], unpackDeadlineMs)
          : await run('tar', ['-xf', file, '-C', dir], unpackDeadlineMs);
      if (!r.ok)
        throw new DomainError('agent_unavailable', `${plan.id}: unpacking ${b.fileName} failed; nothing was installed:\n${r.output}`);
      await fs.rm(file, { force: true });
    }
    if (!(await exists(target)))
      throw new DomainError('agent_unavailable', `${plan.id}: ${b.fileName} holds no ${b.cmd}; nothing was installed`);
    await fs.chmod(target, 0o755);
  }
}
