// Packages the already-built extension into a .vsix with @vscode/vsce (bundled, so --no-dependencies).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function packageVsix(out) {
  const vsce = path.join(repoRoot, 'node_modules', '@vscode', 'vsce', 'vsce');
  execFileSync(process.execPath, [vsce, 'package', '--no-dependencies', '--out', out], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
  return out;
}
