// Starts VS Code's own server (code-server's lib/vscode/out/server-main.js) on 127.0.0.1 with a fresh
// HOME, user data, extensions dir and workspace; used by the VS Code tests, the e2e tests, the bench
// and `npm start`. `--enable-smoke-test-driver` makes the 1.139 workbench honour the URL payload.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ensureVscode } from './installVscode.mjs';

export const workbenchSettings = {
  'workbench.startupEditor': 'none',
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'update.mode': 'none',
  'workbench.enableExperiments': false,
  'workbench.tips.enabled': false,
  'chat.disableAIFeatures': true,
};

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net
      .createServer()
      .listen(0, '127.0.0.1', () => {
        const { port } = s.address();
        s.close(() => resolve(port));
      })
      .on('error', reject);
  });
}

/** A temp root with user-data, extensions, home and a small git workspace. */
export function makeSandbox(prefix = 'orch-vsc-') {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const dirs = Object.fromEntries(['userData', 'extensions', 'home', 'workspace', 'serverData'].map((n) => [n, path.join(root, n)]));
  for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true });
  fs.mkdirSync(path.join(dirs.userData, 'User'), { recursive: true });
  fs.writeFileSync(path.join(dirs.userData, 'User', 'settings.json'), JSON.stringify(workbenchSettings, null, 2));
  fs.writeFileSync(path.join(dirs.workspace, 'README.md'), '# Sample workspace\n\nA place for the orchestrator to work in.\n');
  const git = (...args) =>
    execFileSync('git', ['-c', 'user.name=Orchestrator Tests', '-c', 'user.email=tests@localhost', ...args], {
      cwd: dirs.workspace,
      stdio: 'ignore',
    });
  git('init', '-q');
  git('add', '-A');
  git('commit', '-qm', 'sample workspace');
  return { root, ...dirs };
}

/** Install a .vsix into the sandbox's extensions dir with the server's own CLI. */
export function installVsix(vscode, sandbox, vsix) {
  execFileSync(
    vscode.node,
    [
      vscode.serverMain,
      '--install-extension',
      vsix,
      '--force',
      '--extensions-dir',
      sandbox.extensions,
      '--server-data-dir',
      sandbox.serverData,
      '--user-data-dir',
      sandbox.userData,
      '--accept-server-license-terms',
    ],
    { env: { ...process.env, HOME: sandbox.home }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 },
  );
}

export async function startCodeServer(sandbox, { env = {}, port } = {}) {
  const vscode = ensureVscode();
  port ??= await freePort();
  const args = [
    vscode.serverMain,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--without-connection-token',
    '--accept-server-license-terms',
    '--enable-smoke-test-driver',
    '--disable-telemetry',
    '--disable-workspace-trust',
    '--default-folder',
    sandbox.workspace,
    '--server-data-dir',
    sandbox.serverData,
    '--user-data-dir',
    sandbox.userData,
    '--extensions-dir',
    sandbox.extensions,
    '--logsPath',
    path.join(sandbox.root, 'logs'),
  ];
  const child = spawn(vscode.node, args, {
    env: { ...process.env, HOME: sandbox.home, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: false,
  });
  const logFile = path.join(sandbox.root, 'code-server.log');
  const log = fs.createWriteStream(logFile);
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`VS Code server exited early (${child.exitCode}); see ${logFile}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/`)).ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`VS Code server did not answer on port ${port} within 60 s; see ${logFile}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  const authority = `127.0.0.1:${port}`;
  return {
    vscode,
    child,
    port,
    authority,
    logFile,
    url(payload) {
      const q = `folder=${encodeURIComponent(sandbox.workspace)}`;
      return `http://${authority}/?${q}${payload ? `&payload=${encodeURIComponent(JSON.stringify(payload))}` : ''}`;
    },
    remote: (p) => `vscode-remote://${authority}${p}`,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const t = Date.now();
      while (child.exitCode === null && Date.now() - t < 3000) await new Promise((r) => setTimeout(r, 100));
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** The last `lines` lines of the extension's output channel ("Industrial Orchestrator") in the sandbox's logs. */
export function orchestratorLogTail(sandbox, lines = 40) {
  const dir = path.join(sandbox.root, 'logs');
  if (!fs.existsSync(dir)) return '(no logs folder)';
  const files = fs
    .readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => /Industrial Orchestrator\.log$/.test(f))
    .map((f) => path.join(dir, f));
  if (!files.length) return `(no Industrial Orchestrator log under ${dir})`;
  return files.map((f) => `${f}:\n${fs.readFileSync(f, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')}`).join('\n');
}
