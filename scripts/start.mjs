// `npm start`: build, package and install the extension into a private VS Code (code-server) on
// 127.0.0.1, open a sample workspace, print the URL, and keep running until Ctrl+C.
// PORT (default 7419) and ORCH_START_DIR (default ~/.cache/industrial-orchestrator/start) are settable.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { installVsix, startCodeServer, workbenchSettings } from '../tools/codeServer.mjs';
import { ensureVscode } from '../tools/installVscode.mjs';
import { packageVsix, repoRoot } from '../tools/vsix.mjs';

const port = Number(process.env.PORT ?? 7419);
const base = path.resolve(process.env.ORCH_START_DIR ?? path.join(os.homedir(), '.cache', 'industrial-orchestrator', 'start'));
const dirs = Object.fromEntries(['userData', 'extensions', 'home', 'workspace', 'serverData'].map((n) => [n, path.join(base, n)]));
const sandbox = { root: base, ...dirs };
for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true });
fs.mkdirSync(path.join(dirs.userData, 'User'), { recursive: true });
const settings = path.join(dirs.userData, 'User', 'settings.json');
if (!fs.existsSync(settings)) fs.writeFileSync(settings, JSON.stringify(workbenchSettings, null, 2));
if (!fs.existsSync(path.join(dirs.workspace, '.git'))) {
  fs.cpSync(path.join(repoRoot, 'test', 'fixtures', 'sample-workspace'), dirs.workspace, { recursive: true });
  execFileSync('git', ['init', '-q'], { cwd: dirs.workspace });
}

console.log('[start] building…');
execFileSync(process.execPath, [path.join(repoRoot, 'esbuild.mjs')], { cwd: repoRoot, stdio: 'inherit' });
const vscode = ensureVscode();
console.log('[start] packaging and installing the extension…');
installVsix(vscode, sandbox, packageVsix(path.join(base, 'industrial-orchestrator.vsix')));
const server = await startCodeServer(sandbox, { port });
console.log(`\n  Industrial Orchestrator is running in VS Code at:\n\n    ${server.url()}\n`);
console.log('  Open it in a browser, then click the Orchestrator icon in the activity bar or press F1 and run');
console.log('  "Orchestrator: Open Dashboard". Data lives under', dirs.userData, '\n  Press Ctrl+C to stop.');
const stop = async () => {
  await server.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
server.child.on('exit', (code) => {
  console.log(`[start] VS Code server exited (${code}); see ${server.logFile}`);
  process.exit(code ?? 1);
});
