/**
 * Spawns the real bundled server (dist/server.js) and drives it over stdio JSON-RPC with
 * vscode-jsonrpc, exactly as the extension's LanguageClient does. Every wait has a deadline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import type { ParamsOf, RequestDef, ResultOf } from '../../protocol/messages';

export const repoRoot = path.resolve(__dirname, '..', '..');
export const serverJs = path.join(repoRoot, 'dist', 'server.js');
export const cliJs = path.join(repoRoot, 'dist', 'cli.js');

export function tempDir(prefix = 'orch-it-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface ServerHandle {
  child: ChildProcess;
  connection: MessageConnection;
  notifications: { method: string; params: unknown }[];
  stderr: () => string;
  request<D extends RequestDef<string, unknown, unknown>>(def: D, params: ParamsOf<D>): Promise<ResultOf<D>>;
  raw(method: string, params: unknown): Promise<unknown>;
  stop(): Promise<void>;
}

export function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]);
}

export interface StartOptions {
  /** Runs the server's argv through this (e.g. inside a network namespace). */
  wrap?: (argv: string[]) => string[];
  /** Added to the server's environment. */
  env?: Record<string, string>;
}

export async function startServer(
  dataDir: string,
  initializationOptions: Record<string, unknown> = {},
  o: StartOptions = {},
): Promise<ServerHandle> {
  const [cmd, ...args] = (o.wrap ?? ((a: string[]) => a))([process.execPath, serverJs, '--stdio']);
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...o.env } });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-4000);
  });
  const connection = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  const notifications: { method: string; params: unknown }[] = [];
  connection.onNotification((method, params) => {
    notifications.push({ method, params });
  });
  connection.listen();
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`server exited (${code}) during start: ${err}`))),
  );
  // A refused initialize (bad settings) leaves the process waiting for a better one: stop it, or the test file never exits.
  await withDeadline(
    Promise.race([
      connection.sendRequest('initialize', {
        processId: process.pid,
        rootUri: null,
        capabilities: {},
        initializationOptions: { dataDir, ...initializationOptions },
      }),
      exited,
    ]),
    15_000,
    'initialize',
  ).catch((e: unknown) => {
    child.kill('SIGKILL');
    connection.dispose();
    throw e;
  });
  await connection.sendNotification('initialized', {});
  const requestDeadlineMs = 60_000;
  return {
    child,
    connection,
    notifications,
    stderr: () => err,
    // A deadline wide enough for a loaded CI machine (an LLM planner's two rounds through OpenCode took > 10 s there).
    request: (def, params) => withDeadline(connection.sendRequest(def.method, params), requestDeadlineMs, def.method) as never,
    raw: (method, params) => withDeadline(connection.sendRequest(method, params), requestDeadlineMs, method),
    async stop() {
      if (child.exitCode !== null) return;
      try {
        await withDeadline(connection.sendRequest('shutdown'), 5_000, 'shutdown');
        await connection.sendNotification('exit');
      } catch {
        child.kill('SIGKILL');
      }
      const t = Date.now();
      while (child.exitCode === null && child.signalCode === null && Date.now() - t < 5_000) await new Promise((r) => setTimeout(r, 50));
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      connection.dispose();
    },
  };
}
