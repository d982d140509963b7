/**
 * Creates the LanguageClient for the bundled orchestrator server (dist/server.js over stdio) with our
 * restart policy. No business rules here.
 */
import * as path from 'node:path';
import type * as vscode from 'vscode';
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  TransportKind,
  type LanguageClientOptions,
  type ServerOptions,
} from 'vscode-languageclient/node';
import type { OrchestratorConfig } from './config';
import { type RestartPolicy } from './restartPolicy';

export interface ClientHooks {
  /** Called when the policy gives up restarting; `crashes` within the window. */
  onGiveUp(crashes: number): void;
  /** Called for every crash that will be restarted. */
  onCrash(crashes: number): void;
}

export function createClient(
  context: vscode.ExtensionContext,
  config: OrchestratorConfig,
  outputChannel: vscode.LogOutputChannel,
  policy: RestartPolicy,
  hooks: ClientHooks,
  /** Added to the server process's environment only (provider keys from SecretStorage). */
  env: Record<string, string> = {},
): LanguageClient {
  const serverModule = context.asAbsolutePath(path.join('dist', 'server.js'));
  const dataDir = config.dataDir || context.globalStorageUri.fsPath;
  const serverOptions: ServerOptions = {
    run: { module: serverModule, transport: TransportKind.stdio, options: { env } },
    debug: { module: serverModule, transport: TransportKind.stdio, options: { env, execArgv: ['--enable-source-maps'] } },
  };
  const clientOptions: LanguageClientOptions = {
    // The orchestrator does not serve documents; it only speaks our custom methods.
    documentSelector: [],
    outputChannel,
    initializationOptions: { dataDir, logLevel: config.logLevel, agents: config.agents },
    errorHandler: {
      error: () => ({ action: ErrorAction.Continue, handled: true }),
      closed: () => {
        const d = policy.onCrash(Date.now());
        if (d.restart) {
          hooks.onCrash(d.crashesInWindow);
          return { action: CloseAction.Restart, handled: true };
        }
        hooks.onGiveUp(d.crashesInWindow);
        return { action: CloseAction.DoNotRestart, handled: true };
      },
    },
  };
  return new LanguageClient('orchestrator', 'Industrial Orchestrator', serverOptions, clientOptions);
}
