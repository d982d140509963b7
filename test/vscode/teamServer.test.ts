// The extension connected to a real team server in the real VS Code extension host: `orchestrator serve`
// (dist/cli.js) with a tenant, a developer key and a viewer key made by `orchestrator admin`, the scripted
// demo model and OpenCode. A wrong key is refused with the server's reason; as a developer a session runs
// to completion on the team server (tenant and role in the status bar); as a viewer Start Session is hidden
// (manifest `when` + the `orchestrator.role` context) and refused when invoked anyway. The key lives in
// SecretStorage only: not in settings, the log or the team server's files. Afterwards the extension goes
// back to its bundled server for the suites that follow.
import * as assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { OrchestratorApi } from '../../extension/src/api';
import { commandIds } from '../../extension/src/commands/ids';
import type { TeamInfo } from '../../extension/src/ctx';
import type { SessionView } from '../../protocol/session';

const extensionId = 'industrial-orchestrator.industrial-orchestrator';
const tenant = 'vsc-team';

async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const end = Date.now() + ms;
  let lastError: unknown;
  while (Date.now() < end) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      lastError = e;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
}

/** Every file under `dir` whose bytes contain `needle` (files the server removes meanwhile are skipped). */
function filesContaining(dir: string, needle: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const f = path.join(e.parentPath, e.name);
    try {
      if (fs.statSync(f).size < 20_000_000 && fs.readFileSync(f).includes(needle)) out.push(f);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return out;
}

describe('the extension on a team server (real VS Code, real orchestrator serve)', () => {
  let api: OrchestratorApi;
  let server: ChildProcess | undefined;
  let url = '';
  const keys = { developer: '', viewer: '' };
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-vsc-team-'));
  const dataDir = path.join(root, 'data');
  // The CLI reads no user config of the machine running the tests.
  const env = { ...process.env, XDG_CONFIG_HOME: path.join(root, 'config') };
  const cli = () => path.join(vscode.extensions.getExtension(extensionId)!.extensionPath, 'dist', 'cli.js');
  const admin = (...args: string[]) =>
    JSON.parse(
      execFileSync(process.execPath, [cli(), 'admin', ...args, '--data-dir', dataDir, '--json'], {
        encoding: 'utf8',
        env,
        timeout: 30_000,
      }),
    );
  const healthyLocal = () =>
    until('the bundled server, healthy', 90_000, async () =>
      api.role() === 'local' && api.snapshot().clientState === 'running' && (await api.status()).health === 'ok' ? true : undefined,
    );
  /** Starts `orchestrator serve` on `listen`; resolves with its ws:// URL. */
  const serve = async (listen: string): Promise<string> => {
    const child = spawn(process.execPath, [cli(), 'serve', '--listen', listen, '--data-dir', dataDir], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server = child;
    let out = '';
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    return until('orchestrator serve to listen', 60_000, () => {
      if (child.exitCode !== null) throw new Error(`serve exited ${child.exitCode}: ${err}`);
      return /listening on (ws:\/\/\S+)/.exec(out)?.[1];
    });
  };
  const stopServer = async () => {
    const s = server;
    if (!s || s.exitCode !== null || s.signalCode !== null) return;
    const exited = new Promise((r) => s.once('exit', r));
    s.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    if (s.exitCode === null && s.signalCode === null) s.kill('SIGKILL');
  };
  const manifest = () =>
    JSON.parse(fs.readFileSync(path.join(vscode.extensions.getExtension(extensionId)!.extensionPath, 'package.json'), 'utf8'));

  before(async function () {
    // Activation, the bundled server, five admin commands and the team server's start, on a busy machine.
    this.timeout(240_000);
    api = await vscode.extensions.getExtension<OrchestratorApi>(extensionId)!.activate();
    await healthyLocal();
    admin('create-tenant', tenant);
    // The folders a tenant's clients may name: the test workspace (Start Session sends it as cwd).
    admin('set-roots', tenant, vscode.workspace.workspaceFolders![0].uri.fsPath);
    for (const role of ['developer', 'viewer'] as const) {
      admin('create-user', '--tenant', tenant, '--name', role === 'developer' ? 'dana' : 'vic', '--role', role);
      keys[role] = admin('create-key', '--tenant', tenant, '--user', role === 'developer' ? 'dana' : 'vic').key;
    }
    url = await serve('127.0.0.1:0');
  });

  after(async function () {
    this.timeout(180_000);
    // Back to the bundled server, so the suites after this one run as before.
    await vscode.commands.executeCommand(commandIds.disconnectTeamServer);
    await healthyLocal();
    assert.equal(vscode.workspace.getConfiguration('orchestrator').get('server.url'), '', 'the URL setting is cleared');
    await stopServer();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('a wrong key is refused with the server’s reason, shown in the status', async () => {
    const wrong = `iok_${'0'.repeat(16)}_${'A'.repeat(43)}`;
    const team = await vscode.commands.executeCommand<TeamInfo | undefined>(commandIds.connectTeamServer, { url, apiKey: wrong });
    assert.equal(team, undefined);
    const s = api.snapshot();
    assert.equal(s.clientState, 'stopped');
    assert.match(s.stoppedReason ?? '', /refused the API key: the API key is not valid\. Run "Orchestrator: Connect to Team Server…"/);
    assert.match(api.statusBar().text, /stopped/);
    assert.ok(!api.logLines().join('\n').includes(wrong), 'the key is not logged');
  }).timeout(60_000);

  it('as a developer: tenant and role are shown, and a session runs to completion on the team server', async () => {
    const team = await vscode.commands.executeCommand<TeamInfo | undefined>(commandIds.connectTeamServer, {
      url,
      apiKey: keys.developer,
    });
    assert.equal(team?.url, url);
    assert.deepEqual([team?.who.tenantId, team?.who.userName, team?.who.role], [tenant, 'dana', 'developer']);
    assert.equal(api.role(), 'developer');
    assert.match(api.statusBar().text, /Orchestrator: ok · vsc-team \(developer\)/);
    assert.match(api.statusBar().tooltip, /Team server ws:\/\/127\.0\.0\.1:\d+: tenant vsc-team, signed in as dana \(developer\)/);
    // The extension now talks to the team server: its status is the tenant's data folder.
    const status = await api.status();
    assert.equal(status.mode, 'listen');
    assert.equal(status.dataDir, path.join(dataDir, 'tenants', tenant));

    const goal = '- [note] Team note {files: team-note.txt}: [[script:slow_write team-note.txt 100]] written through the team server';
    const started = await vscode.commands.executeCommand<SessionView>(commandIds.startSession, { goal, approve: true });
    assert.ok(started?.id, 'a session came back');
    const done = await until('the session to complete (session/didChange from the team server)', 240_000, () => {
      const s = api.sessions().find((x) => x.id === started.id);
      return s && ['completed', 'partially_completed', 'failed', 'cancelled', 'timed_out'].includes(s.state) ? s : undefined;
    });
    assert.equal(done.state, 'completed', JSON.stringify(done.tasks.map((t) => [t.planId, t.state, t.lastError])));
    assert.equal((await api.session(started.id)).state, 'completed', 'the team server has it completed');

    // The key is in SecretStorage only: not in settings, the extension's log, or anything the team server wrote.
    assert.equal(vscode.workspace.getConfiguration('orchestrator').get('server.url'), url);
    assert.ok(!JSON.stringify(api.settings()).includes(keys.developer), 'not in the settings');
    assert.ok(!api.logLines().join('\n').includes(keys.developer), 'not in the log');
    const secret = keys.developer.split('_').slice(2).join('_'); // base64url: the secret itself may hold '_'
    assert.ok(secret.length >= 40, `a whole secret to look for (${secret.length} chars)`);
    assert.deepEqual(filesContaining(dataDir, secret), [], "not in the team server's files or transcripts");
  }).timeout(300_000);

  it('as a viewer: Start Session is hidden and refused; the sessions can be read', async () => {
    const team = await vscode.commands.executeCommand<TeamInfo | undefined>(commandIds.connectTeamServer, { url, apiKey: keys.viewer });
    assert.deepEqual([team?.who.tenantId, team?.who.userName, team?.who.role], [tenant, 'vic', 'viewer']);
    assert.equal(api.role(), 'viewer', 'the orchestrator.role context is viewer');
    assert.match(api.statusBar().text, /vsc-team \(viewer\)/);

    // Hidden: every place Start Session shows (palette, Sessions title bar) needs a role other than viewer.
    const menus = manifest().contributes.menus as Record<string, { command: string; when?: string }[]>;
    const places = Object.entries(menus).flatMap(([menu, items]) =>
      items.filter((i) => i.command === commandIds.startSession).map((i) => [menu, i.when ?? ''] as const),
    );
    assert.deepEqual(places.map(([m]) => m).sort(), ['commandPalette', 'view/title']);
    for (const [menu, when] of places) assert.match(when, /orchestrator\.role != viewer/, `${menu} hides it for viewers`);

    // The developer's session is readable.
    const before = await until('the sessions list from the team server', 30_000, () =>
      api.sessions().length ? api.sessions() : undefined,
    );
    const r = await vscode.commands.executeCommand(commandIds.startSession, {
      goal: '- [x] X {files: x.txt}: [[script:slow_write x.txt 10]] x',
      approve: true,
    });
    assert.equal(r, undefined, 'refused');
    assert.ok(
      api.logLines().some((l) => /"Start Session" is not available: your key on this team server has the viewer role/.test(l)),
      'the refusal says why',
    );
    const list = await vscode.commands.executeCommand(commandIds.showStatus);
    assert.ok(list, 'a viewer may still read the status');
    await new Promise((r2) => setTimeout(r2, 1_000));
    assert.equal(api.sessions().length, before.length, 'no session was started');
  }).timeout(120_000);

  it('a dropped connection comes back: the team server restarts on its port and the extension reconnects', async () => {
    await stopServer();
    await until('the extension to notice', 20_000, () => (api.snapshot().clientState === 'starting' ? true : undefined));
    await new Promise((r) => setTimeout(r, 1_500)); // a few failed attempts with backoff
    assert.equal(await serve(new URL(url).host), url, 'the same address');
    await until('the extension to reconnect as the viewer', 60_000, () =>
      api.snapshot().clientState === 'running' && api.snapshot().team?.who.role === 'viewer' ? true : undefined,
    );
    assert.equal(api.role(), 'viewer');
    assert.equal((await api.status()).health, 'ok');
    // Only this test drops a connection, so these lines are its own.
    const log = api.logLines().join('\n');
    assert.match(log, /closed the connection .*reconnecting/);
    assert.match(log, /trying again in \d+ ms/);
  }).timeout(120_000);
});
