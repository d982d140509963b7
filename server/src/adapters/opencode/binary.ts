/**
 * Finding the real OpenCode binary. The `opencode-ai` npm package ships a placeholder `bin/opencode.exe`
 * that its postinstall replaces; the real executable lives in a platform package
 * (`opencode-linux-x64`, `opencode-linux-x64-baseline`, `opencode-darwin-arm64`, …). Resolve that package
 * directly so a skipped postinstall does not matter.
 *
 * Order: an explicit path (`orchestrator.opencode.path`) wins when set, and an unusable one is an error
 * (never silently replaced by another binary); else the platform package next to this module, which in
 * the installed extension is the copy the platform `.vsix` carries in `dist/node_modules/` (see
 * tools/vsix.mjs) and in a checkout is the repository's `node_modules/`.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AgentError } from '../../ports/agentRuntime';

/** Smaller files are the npm placeholder script, not the Bun-compiled binary (≈185 MB). */
const minBinaryBytes = 1_000_000;

export interface ResolveBinaryOptions {
  /** An explicit path wins over every package lookup. */
  explicitPath?: string;
  /** Folders to resolve packages from (default: this module's folder). */
  searchPaths?: string[];
  platform?: NodeJS.Platform;
  arch?: string;
}

export function platformPackageNames(platform: NodeJS.Platform = process.platform, arch: string = process.arch): string[] {
  const os = platform === 'win32' ? 'windows' : platform;
  const base = `opencode-${os}-${arch}`;
  return [base, `${base}-baseline`, `${base}-musl`, `${base}-baseline-musl`];
}

function usable(file: string): string | undefined {
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) return 'not a file';
    if (st.size < minBinaryBytes) return `only ${st.size} bytes (an npm placeholder, not the real binary)`;
    if (process.platform !== 'win32') fs.accessSync(file, fs.constants.X_OK);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

function resolvePackageDir(name: string, searchPaths: string[]): string | undefined {
  try {
    return path.dirname(require.resolve(`${name}/package.json`, { paths: searchPaths }));
  } catch {
    return undefined;
  }
}

/** The absolute path of a usable OpenCode binary, or `AgentError('not_installed')` listing what was tried. */
export function resolveOpencodeBinary(opts: ResolveBinaryOptions = {}): string {
  if (opts.explicitPath) {
    const problem = usable(opts.explicitPath);
    if (problem)
      throw new AgentError(
        'not_installed',
        `The OpenCode binary set in orchestrator.opencode.path (${opts.explicitPath}) is not usable: ${problem}. Fix or clear the setting.`,
      );
    return path.resolve(opts.explicitPath);
  }
  // Not the process's cwd: that is the user's folder, whose node_modules are none of our business.
  const searchPaths = opts.searchPaths ?? [__dirname];
  const exe = (opts.platform ?? process.platform) === 'win32' ? 'opencode.exe' : 'opencode';
  const tried: string[] = [];
  for (const name of platformPackageNames(opts.platform, opts.arch)) {
    const dir = resolvePackageDir(name, searchPaths);
    if (!dir) {
      tried.push(`${name}: not installed`);
      continue;
    }
    const file = path.join(dir, 'bin', exe);
    const problem = usable(file);
    if (!problem) return file;
    tried.push(`${file}: ${problem}`);
  }
  const wrapperDir = resolvePackageDir('opencode-ai', searchPaths);
  if (wrapperDir) {
    const file = path.join(wrapperDir, 'bin', 'opencode.exe');
    const problem = usable(file);
    if (!problem) return file;
    tried.push(`${file}: ${problem}`);
  }
  const target = `${opts.platform ?? process.platform}-${opts.arch ?? process.arch}`;
  throw new AgentError(
    'not_installed',
    `No OpenCode binary for ${target} was found in this installation of the extension. Install the ${target} build of Industrial Orchestrator ` +
      `(its .vsix carries OpenCode), or set orchestrator.opencode.path to an opencode binary. Tried: ${tried.join('; ')}.`,
  );
}

/**
 * The cheap start-up probe: resolve the binary and ask it for `--version` within `timeoutMs`.
 * `not_installed` / `start_failed` are fatal (the user must act); `inconclusive` means the deadline passed
 * (a loaded machine), which proves nothing either way.
 */
export type ProbeResult =
  | { ok: true; binary: string; version: string }
  | { ok: false; reason: 'not_installed' | 'start_failed'; message: string }
  | { ok: false; reason: 'inconclusive'; message: string };

export function probeOpencode(
  opts: ResolveBinaryOptions & {
    timeoutMs?: number;
    /** Kills the probe (the server is shutting down); the result is then `inconclusive`. */
    signal?: AbortSignal;
  },
): Promise<ProbeResult> {
  let binary: string;
  try {
    binary = resolveOpencodeBinary(opts);
  } catch (e) {
    return Promise.resolve({ ok: false, reason: 'not_installed', message: (e as Error).message });
  }
  const timeoutMs = opts.timeoutMs ?? 30_000;
  // A throwaway HOME outside the data folder (OpenCode writes caches and logs there): a read-only look at
  // the data folder must leave it byte-identical, and nothing of the probe outlives it.
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-opencode-probe-'));
  const cleanUp = () => fs.rmSync(home, { recursive: true, force: true });
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_DATA_HOME: path.join(home, '.local', 'share'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    XDG_STATE_HOME: path.join(home, '.local', 'state'),
  };
  return new Promise((resolve) => {
    const opts2 = { timeout: timeoutMs, killSignal: 'SIGKILL' as const, cwd: home, env, signal: opts.signal };
    execFile(binary, ['--version'], opts2, (err, stdout, stderr) => {
      cleanUp();
      if (!err) return resolve({ ok: true, binary, version: stdout.trim() });
      const e = err as NodeJS.ErrnoException & { killed?: boolean; signal?: string };
      if (opts.signal?.aborted) return resolve({ ok: false, reason: 'inconclusive', message: 'the probe was stopped' });
      if (e.killed && e.signal === 'SIGKILL')
        return resolve({ ok: false, reason: 'inconclusive', message: `${binary} --version gave no answer within ${timeoutMs} ms` });
      const detail = (stderr || e.message).trim().split('\n').slice(-3).join(' ');
      resolve({
        ok: false,
        reason: 'start_failed',
        message: `The OpenCode binary ${binary} does not run (${binary} --version: ${detail}). Set orchestrator.opencode.path to a working opencode binary, or reinstall the platform build of the extension.`,
      });
    });
  });
}
