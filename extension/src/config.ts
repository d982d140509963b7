/**
 * The only caller of `getConfiguration`. Typed getters plus a change event.
 * How to add a setting: (1) declare it in package.json `contributes.configuration`, (2) add a getter
 * here, (3) pass it to the server in `client.ts` initializationOptions if the server needs it,
 * (4) document it in CHANGELOG.md, (5) if a workspace must not set it (it runs code, moves data, weakens policy
 * or sends data somewhere), give it `"scope": "machine"` and list it in `machineSettings`. A change to the
 * effective value of any `orchestrator.*` setting restarts the server (views/agentNotifications.ts), so the
 * server only reads settings at `initialize`.
 */
import * as vscode from 'vscode';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface OrchestratorConfig {
  logLevel: LogLevel;
  /** Empty: the extension's global storage folder. */
  dataDir: string;
  /** `orchestrator.server.url`: a team server (`ws://…`/`wss://…`) to connect to; empty: spawn the bundled server. */
  serverUrl: string;
  maxRestarts: number;
  /** `auto`: the server chooses (a task list as written; the model plans when a real one is configured). */
  planner: 'auto' | 'llm' | 'template';
  /** Passed to the server as-is; the server validates them and names what is wrong. */
  agents: {
    opencodePath?: string;
    model?: string;
    providers?: unknown[];
    sandbox?: string;
    disabled?: string[];
    marketplace?: { indexes?: string[]; custom?: unknown[] };
    plugins?: { paths?: unknown[]; packages?: unknown[]; trusted?: unknown[] };
  };
}

const section = 'orchestrator';

export function readConfig(): OrchestratorConfig {
  const c = vscode.workspace.getConfiguration(section);
  const level = c.get<string>('server.logLevel', 'info');
  return {
    logLevel: (['error', 'warn', 'info', 'debug'] as const).find((l) => l === level) ?? 'info',
    dataDir: c.get<string>('server.dataDir', '').trim(),
    serverUrl: c.get<string>('server.url', '').trim(),
    maxRestarts: Math.max(0, Math.floor(c.get<number>('server.maxRestarts', 5))),
    planner: (['llm', 'template'] as const).find((p) => p === c.get<string>('sessions.planner')) ?? 'auto',
    agents: {
      opencodePath: c.get<string>('opencode.path', '').trim() || undefined,
      model: c.get<string>('opencode.model', '').trim() || undefined,
      providers: readProviders().length ? readProviders() : undefined,
      sandbox: c.get<string>('agents.sandbox', 'auto'),
      disabled: readDisabledAgents().length ? readDisabledAgents() : undefined,
      marketplace: readMarketplace(),
      plugins: readPlugins(),
    },
  };
}

/** `orchestrator.marketplace.*`: index files or URLs and custom agents, passed as-is (the server validates them). */
function readMarketplace(): { indexes?: string[]; custom?: unknown[] } | undefined {
  const c = vscode.workspace.getConfiguration(section);
  const indexes = c.get<unknown[]>('marketplace.indexes', []);
  const custom = c.get<unknown[]>('marketplace.customAgents', []);
  const out = {
    ...(Array.isArray(indexes) && indexes.length ? { indexes: indexes.filter((x): x is string => typeof x === 'string') } : {}),
    ...(Array.isArray(custom) && custom.length ? { custom } : {}),
  };
  return Object.keys(out).length ? out : undefined;
}

/** `orchestrator.plugins.*`: plugin folders, packages and the trusted list, passed as-is (the server validates them). */
function readPlugins(): { paths?: unknown[]; packages?: unknown[]; trusted?: unknown[] } | undefined {
  const c = vscode.workspace.getConfiguration(section);
  const out: { paths?: unknown[]; packages?: unknown[]; trusted?: unknown[] } = {};
  for (const key of ['paths', 'packages', 'trusted'] as const) {
    const v = c.get<unknown[]>(`plugins.${key}`, []);
    if (Array.isArray(v) && v.length) out[key] = v;
  }
  return Object.keys(out).length ? out : undefined;
}

/**
 * Settings with `"scope": "machine"` in package.json: only user (or remote) settings count, so a cloned
 * repository's `.vscode/settings.json` cannot point the server at another binary, data folder or model
 * endpoint (with the user's keys), nor turn the sandbox off.
 */
export const machineSettings = [
  'server.dataDir',
  'server.url',
  'agents.sandbox',
  'opencode.path',
  'opencode.providers',
  'marketplace.indexes',
  'marketplace.customAgents',
  'plugins.paths',
  'plugins.packages',
  'plugins.trusted',
] as const;

/**
 * Opens the Settings editor at `key` (`orchestrator.…`) where it can be set: in a remote window (SSH, WSL,
 * containers, code-server) a machine setting lives in the Remote tab, and the User tab would not show it.
 */
export function openSetting(key: string): Thenable<unknown> {
  const machine = (machineSettings as readonly string[]).includes(key.replace(/^orchestrator\./, ''));
  return machine && vscode.env.remoteName
    ? vscode.commands.executeCommand('workbench.action.openRemoteSettings', { query: key })
    : vscode.commands.executeCommand('workbench.action.openSettings', key);
}

/**
 * Writes an `orchestrator.*` setting where it takes effect: the user settings for a machine setting; else
 * the workspace when the workspace already sets it (a user value would be shadowed), else the user
 * settings. Never used for keys.
 */
async function writeSetting(
  key: 'opencode.providers' | 'opencode.model' | 'agents.disabled' | 'server.url',
  value: unknown,
): Promise<void> {
  const c = vscode.workspace.getConfiguration(section);
  const where = c.inspect(key);
  const target = (machineSettings as readonly string[]).includes(key)
    ? vscode.ConfigurationTarget.Global
    : where?.workspaceFolderValue !== undefined
      ? vscode.ConfigurationTarget.WorkspaceFolder
      : where?.workspaceValue !== undefined
        ? vscode.ConfigurationTarget.Workspace
        : vscode.ConfigurationTarget.Global;
  await c.update(key, value, target);
}

/** Points the extension at a team server (user settings: it is a machine setting); empty goes back to the bundled server. */
export function writeServerUrl(url: string): Promise<void> {
  return writeSetting('server.url', url || undefined);
}

/** The raw `orchestrator.opencode.providers` entries (validated by the server and by `modelProvider.ts`). */
export function readProviders(): unknown[] {
  const v = vscode.workspace.getConfiguration(section).get<unknown[]>('opencode.providers', []);
  return Array.isArray(v) ? v : [];
}

export function writeProviders(providers: unknown[]): Promise<void> {
  return writeSetting('opencode.providers', providers);
}

/** Empty string clears the default model (the server then picks the first configured one). */
export function writeDefaultModel(model: string): Promise<void> {
  return writeSetting('opencode.model', model || undefined);
}

/** `orchestrator.agents.disabled`: agent ids that take no new task (non-strings are dropped; the server checks the rest). */
export function readDisabledAgents(): string[] {
  const v = vscode.workspace.getConfiguration(section).get<unknown[]>('agents.disabled', []);
  return Array.isArray(v) ? [...new Set(v.filter((x): x is string => typeof x === 'string' && x.length > 0))] : [];
}

/** Adds or removes an agent from `orchestrator.agents.disabled` where the setting takes effect (restarts the server). */
export async function setAgentDisabled(agentId: string, disabled: boolean): Promise<void> {
  const current = readDisabledAgents();
  const next = disabled ? [...new Set([...current, agentId])] : current.filter((id) => id !== agentId);
  if (next.length === current.length && next.every((id, i) => id === current[i])) return;
  await writeSetting('agents.disabled', next.length ? next : undefined);
}

/**
 * Fires when the EFFECTIVE `orchestrator.*` configuration changed. An edit VS Code does not apply (a machine
 * setting written into a workspace's settings.json, a value equal to the one in force) fires nothing, so it
 * never restarts the server.
 */
export function onDidChangeConfig(listener: (c: OrchestratorConfig) => void): vscode.Disposable {
  let last = JSON.stringify(readConfig());
  return vscode.workspace.onDidChangeConfiguration((e) => {
    if (!e.affectsConfiguration(section)) return;
    const now = readConfig();
    const text = JSON.stringify(now);
    if (text === last) return;
    last = text;
    listener(now);
  });
}
