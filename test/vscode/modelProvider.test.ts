// Runs inside the real VS Code extension host: a model provider configured through the command, its key kept
// in SecretStorage and handed to the server process only. The provider is the scripted OpenAI-compatible
// model server, started here and requiring the key (401 without `Authorization: Bearer <key>`).
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { OrchestratorApi } from '../../extension/src/api';
import { commandIds } from '../../extension/src/commands/ids';
import type { ConfiguredProvider } from '../../extension/src/commands/models';
import { startScriptedModel, type ScriptedModel } from '../../server/src/adapters/scriptedModel/scriptedModel';

const extensionId = 'industrial-orchestrator.industrial-orchestrator';
// Not shaped like any known key format, so only the server's known-secret redaction can hide it.
const key = `orch-local-${randomBytes(12).toString('hex')}`;

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
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
}

/** Every file under `dir` (recursively) whose size is at most `maxBytes`; files that vanish meanwhile are skipped. */
function filesUnder(dir: string, maxBytes = 20_000_000): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true })
    .map((f) => path.join(dir, String(f)))
    .filter((f) => {
      const st = fs.lstatSync(f, { throwIfNoEntry: false });
      return !!st && st.isFile() && st.size <= maxBytes;
    });
}

function holding(files: string[], needle: string): string[] {
  return files.filter((f) => {
    try {
      return fs.readFileSync(f).includes(needle);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false; // a lock or temp file that went away
      throw e;
    }
  });
}

/** The harness's sandbox root: the first ancestor of `from` with a `logs` folder (code-server's --logsPath). */
function sandboxRoot(from: string): string {
  for (let d = path.dirname(from); d !== path.dirname(d); d = path.dirname(d)) if (fs.existsSync(path.join(d, 'logs'))) return d;
  throw new Error(`no logs folder above ${from}`);
}

/**
 * Waits for a server other than `oldPid` to report healthy and stay the same process for 2 s (the restart that
 * applies changed settings; two setting writes may restart twice).
 */
async function restarted(api: OrchestratorApi, oldPid: number): Promise<number> {
  return until('the server to restart with the new settings', 120_000, async () => {
    const st = await api.status();
    if (st.pid === oldPid || st.health !== 'ok') return undefined;
    await new Promise((r) => setTimeout(r, 2_000));
    const again = await api.status();
    return again.pid === st.pid && again.health === 'ok' ? st.pid : undefined;
  });
}

/** The server status, waiting out a restart in progress. */
function statusOf(api: OrchestratorApi) {
  return until('the server status', 120_000, () => api.status());
}

describe('Model provider set-up (SecretStorage key, no hand-written JSON)', () => {
  let api: OrchestratorApi;
  let model: ScriptedModel;
  const orchestrator = () => vscode.workspace.getConfiguration('orchestrator');

  before(async () => {
    api = await vscode.extensions.getExtension<OrchestratorApi>(extensionId)!.activate();
    model = await startScriptedModel({ apiKey: key, models: ['scripted', 'scripted-mini'] });
    // Debug logging: OpenCode's own lines reach the log too, so the check below covers them.
    const pid = (await statusOf(api)).pid;
    await orchestrator().update('server.logLevel', 'debug', vscode.ConfigurationTarget.Global);
    await restarted(api, pid);
  });

  after(async () => {
    const pid = (await api.status().catch(() => undefined))?.pid ?? -1;
    for (const k of ['opencode.providers', 'opencode.model', 'server.logLevel'])
      await orchestrator().update(k, undefined, vscode.ConfigurationTarget.Global);
    await restarted(api, pid).catch(() => undefined);
    await model?.close();
  });

  it('refuses bad input with a clear error and changes nothing', async () => {
    const before = JSON.stringify(orchestrator().get('opencode.providers'));
    await assert.rejects(
      async () =>
        vscode.commands.executeCommand(commandIds.configureModelProvider, {
          preset: 'openai-compatible',
          id: 'local',
          baseURL: 'not a url',
          models: ['m'],
          apiKey: key,
        }),
      /base URL "not a url" is not a URL/,
    );
    await assert.rejects(
      async () =>
        vscode.commands.executeCommand(commandIds.configureModelProvider, {
          preset: 'openai-compatible',
          id: 'local',
          baseURL: model.url,
          models: [],
        }),
      /enter at least one model id/,
    );
    await assert.rejects(
      async () => vscode.commands.executeCommand(commandIds.selectDefaultModel, { model: 'nowhere/none' }),
      /model "nowhere\/none" is not configured; configured: demo\/scripted/,
    );
    assert.equal(JSON.stringify(orchestrator().get('opencode.providers')), before);
    assert.equal(await api.hasProviderKey('local'), false);
  });

  it('Configure Model Provider keeps the key in SecretStorage, not settings.json, and a Run Agent turn reaches the model with it', async () => {
    const oldPid = (await statusOf(api)).pid;
    const configured = await vscode.commands.executeCommand<ConfiguredProvider>(commandIds.configureModelProvider, {
      preset: 'openai-compatible',
      id: 'local',
      baseURL: model.url,
      models: 'fetch',
      apiKey: key,
      makeDefault: true,
    });
    assert.deepEqual(configured, { providerId: 'local', models: ['scripted', 'scripted-mini'], keyEnv: 'ORCH_KEY_LOCAL' });
    const listing = model.requests.find((r) => r.method === 'GET');
    assert.equal(listing?.headers.authorization, `Bearer ${key}`, 'the model list was fetched with the key');

    assert.deepEqual(orchestrator().get('opencode.providers'), [
      {
        id: 'local',
        name: 'OpenAI-compatible',
        baseURL: model.url,
        apiKey: '{env:ORCH_KEY_LOCAL}',
        models: { scripted: {}, 'scripted-mini': {} },
      },
    ]);
    assert.equal(orchestrator().get('opencode.model'), 'local/scripted');
    assert.equal(await api.hasProviderKey('local'), true, 'SecretStorage holds the key');
    const root = sandboxRoot((await statusOf(api)).store.path);
    const settingsFiles = [
      ...filesUnder(root).filter((f) => path.basename(f) === 'settings.json'),
      ...filesUnder(path.join(vscode.workspace.workspaceFolders![0].uri.fsPath, '.vscode')),
    ];
    assert.ok(holding(settingsFiles, 'ORCH_KEY_LOCAL').length > 0, `the provider entry is in a settings.json: ${settingsFiles.join(', ')}`);
    assert.deepEqual(holding(settingsFiles, key), [], 'no settings.json holds the key');

    await restarted(api, oldPid);
    const folder = vscode.workspace.workspaceFolders![0].uri.fsPath;
    const started = await vscode.commands.executeCommand<{ runId: string }>(commandIds.startRun, {
      prompt: 'Create a file named via-provider.txt containing reached with a key',
    });
    assert.ok(started?.runId, 'a run id came back');
    const done = await until('the run to finish', 150_000, () => {
      const r = api.runs().find((x) => x.id === started.runId);
      return r && !['pending', 'running'].includes(r.state) ? r : undefined;
    });
    assert.equal(done.state, 'succeeded', JSON.stringify(done.error));
    assert.equal(fs.readFileSync(path.join(folder, 'via-provider.txt'), 'utf8'), 'reached with a key\n');
    const chats = model.requests.filter((r) => r.method === 'POST' && r.url.endsWith('/chat/completions'));
    assert.ok(chats.length >= 2, `the turn reached the configured model (${chats.length} chat requests)`);
    for (const c of chats) assert.equal(c.headers.authorization, `Bearer ${key}`, 'every chat request carried the stored key');
    assert.ok(
      chats.some((c) => c.body?.model === 'scripted' && c.script === 'demo'),
      'the default model answered the turn',
    );
  }).timeout(300_000);

  it('neither the logs, the transcripts, the store nor settings hold the key; Select Default Model offers the demo model', async () => {
    const status = await statusOf(api);
    const root = sandboxRoot(status.store.path);
    const text = await until('the extension log to show the configured provider and OpenCode debug lines', 20_000, () => {
      const t = api.logLines().join('\n');
      return t.includes('model provider "local" configured') && t.includes('[opencode]') ? t : undefined;
    });
    assert.ok(!text.includes(key), "the extension's output channel never received the key");
    const logs = filesUnder(path.join(root, 'logs'));
    assert.deepEqual(holding(logs, key), [], 'no log file holds the key');
    const dataDir = path.dirname(status.store.path);
    const transcripts = filesUnder(dataDir).filter((f) => f.endsWith('.jsonl'));
    assert.ok(transcripts.length > 0, `transcripts exist under ${dataDir}`);
    assert.deepEqual(holding(filesUnder(dataDir), key), [], "no store, transcript or agent-home file (OpenCode's too) holds the key");

    const oldPid = status.pid;
    const picked = await vscode.commands.executeCommand<string>(commandIds.selectDefaultModel, { model: 'demo/scripted' });
    assert.equal(picked, 'demo/scripted');
    assert.equal(orchestrator().get('opencode.model'), 'demo/scripted');
    await restarted(api, oldPid);
    const before = model.requests.length;
    const started = await vscode.commands.executeCommand<{ runId: string }>(commandIds.startRun, {
      prompt: 'Create a file named via-demo.txt containing demo again',
    });
    const done = await until('the demo run to finish', 150_000, () => {
      const r = api.runs().find((x) => x.id === started!.runId);
      return r && !['pending', 'running'].includes(r.state) ? r : undefined;
    });
    assert.equal(done.state, 'succeeded', JSON.stringify(done.error));
    assert.equal(model.requests.length, before, 'the demo model answered; the keyed provider was not asked');
  }).timeout(300_000);
});
