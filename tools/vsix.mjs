// Packages the already-built extension into a platform-specific .vsix with @vscode/vsce (bundled, so
// --no-dependencies) that carries the target's OpenCode binary:
//   node tools/vsix.mjs [--target linux-x64] [--out FILE] [--production]
// The binary's npm package (e.g. opencode-linux-x64) is copied to dist/node_modules/<package>/, so the
// server (dist/server.js) resolves it next to itself inside the installed extension; the rest of
// node_modules stays out (.vscodeignore). Another platform's .vsix needs that platform's package
// installed first (`npm install --no-save --force opencode-darwin-arm64@<version>`).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The VS Code target of this machine (`linux-x64`, `darwin-arm64`, `win32-x64`, `alpine-x64`, …). */
export function currentTarget() {
  const musl = process.platform === 'linux' && !process.report?.getReport?.().header?.glibcVersionRuntime;
  return `${musl ? 'alpine' : process.platform}-${process.arch}`;
}

/** The npm package that holds OpenCode's binary for a VS Code target. */
export function opencodePackageFor(target) {
  const m = /^(linux|alpine|darwin|win32)-(x64|arm64)$/.exec(target);
  if (!m)
    throw new Error(
      `unsupported target ${JSON.stringify(target)}: use linux-x64, linux-arm64, alpine-x64, alpine-arm64, darwin-x64, darwin-arm64, win32-x64 or win32-arm64`,
    );
  const os = { linux: 'linux', alpine: 'linux', darwin: 'darwin', win32: 'windows' }[m[1]];
  return `opencode-${os}-${m[2]}${m[1] === 'alpine' ? '-musl' : ''}`;
}

/** Where `npm run package` writes the current platform's .vsix. */
export const defaultVsixPath = (target = currentTarget()) => path.join(repoRoot, 'dist-vsix', `industrial-orchestrator-${target}.vsix`);

/** Copies (or hard-links) the target's OpenCode package into dist/node_modules/, replacing any other target's. */
export function stageOpencode(target) {
  const name = opencodePackageFor(target);
  const from = path.join(repoRoot, 'node_modules', name);
  const exe = target.startsWith('win32') ? 'opencode.exe' : 'opencode';
  const bin = path.join(from, 'bin', exe);
  if (!fs.existsSync(bin)) {
    throw new Error(
      `${bin} is missing: the ${target} build needs the npm package ${name} (npm install --no-save --force ${name}@<the @opencode-ai/sdk version>)`,
    );
  }
  const staged = path.join(repoRoot, 'dist', 'node_modules');
  fs.rmSync(staged, { recursive: true, force: true });
  const to = path.join(staged, name);
  fs.mkdirSync(path.join(to, 'bin'), { recursive: true });
  fs.copyFileSync(path.join(from, 'package.json'), path.join(to, 'package.json'));
  try {
    fs.linkSync(bin, path.join(to, 'bin', exe));
  } catch {
    fs.copyFileSync(bin, path.join(to, 'bin', exe));
  }
  fs.chmodSync(path.join(to, 'bin', exe), 0o755);
  return path.relative(repoRoot, path.join(to, 'bin', exe));
}

/** The bundles a packaged extension runs (the language client and team connection load lazily: a stale dist/ without them would start, then fail). */
const bundles = ['extension.js', 'extensionClient.js', 'extensionTeam.js', 'extensionSchemas.js', 'server.js', 'cli.js'];
const missingBundles = () => bundles.filter((b) => !fs.existsSync(path.join(repoRoot, 'dist', b)));

export function packageVsix(out = defaultVsixPath(), { target = currentTarget() } = {}) {
  const missing = missingBundles();
  if (missing.length) throw new Error(`dist/${missing.join(', dist/')} missing: build first (npm run build)`);
  stageOpencode(target);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const vsce = path.join(repoRoot, 'node_modules', '@vscode', 'vsce', 'vsce');
  execFileSync(process.execPath, [vsce, 'package', '--no-dependencies', '--target', target, '--out', out], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 300_000,
  });
  return out;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const target = arg('--target') ?? currentTarget();
  const t0 = Date.now();
  try {
    if (process.argv.includes('--production') || missingBundles().length) {
      execFileSync(process.execPath, [path.join(repoRoot, 'esbuild.mjs'), '--production'], { cwd: repoRoot, stdio: 'inherit' });
    }
    const out = packageVsix(path.resolve(arg('--out') ?? defaultVsixPath(target)), { target });
    console.log(
      `packaged ${path.relative(process.cwd(), out)} (${target}, ${(fs.statSync(out).size / 1e6).toFixed(1)} MB, ${opencodePackageFor(target)} inside) in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
  } catch (e) {
    console.error(`packaging failed: ${e.stderr?.toString() || e.message}`);
    process.exit(1);
  }
}
