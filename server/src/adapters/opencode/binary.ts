/**
 * Finding the real OpenCode binary. The `opencode-ai` npm package ships a placeholder `bin/opencode.exe`
 * that its postinstall replaces; the real executable lives in a platform package
 * (`opencode-linux-x64`, `opencode-linux-x64-baseline`, `opencode-darwin-arm64`, …). Resolve that package
 * directly so a skipped postinstall does not matter.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AgentError } from '../../ports/agentRuntime';

/** Smaller files are the npm placeholder script, not the Bun-compiled binary (≈185 MB). */
const minBinaryBytes = 1_000_000;

export interface ResolveBinaryOptions {
  /** An explicit path wins over every package lookup. */
  explicitPath?: string;
  /** Extra folders to resolve packages from (default: this module's and the process's cwd). */
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
    if (problem) throw new AgentError('not_installed', `The configured OpenCode binary ${opts.explicitPath} is not usable: ${problem}.`);
    return path.resolve(opts.explicitPath);
  }
  const searchPaths = [...(opts.searchPaths ?? []), __dirname, process.cwd()];
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
  throw new AgentError(
    'not_installed',
    `No usable OpenCode binary found. Install it with \`npm install opencode-ai\` (or set an explicit path). Tried: ${tried.join('; ')}.`,
  );
}
