/**
 * The extension's output channel with a memory of its last lines, so a test (through the API) can read exactly
 * what the channel was given: the extension's own lines and the server's `window/logMessage` lines.
 */
import type * as vscode from 'vscode';

const written = new Set(['append', 'appendLine', 'replace', 'trace', 'debug', 'info', 'warn', 'error']);

export interface TeedLog {
  channel: vscode.LogOutputChannel;
  /** The last `max` strings written to the channel, oldest first. */
  lines(): string[];
}

export function teeLog(inner: vscode.LogOutputChannel, max = 5_000): TeedLog {
  const kept: string[] = [];
  const channel = new Proxy(inner, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof prop !== 'string' || typeof v !== 'function') return v;
      if (!written.has(prop)) return (v as (...a: unknown[]) => unknown).bind(target);
      return (...args: unknown[]) => {
        kept.push(args.map((a) => (a instanceof Error ? `${a.message}\n${a.stack ?? ''}` : String(a))).join(' '));
        if (kept.length > max) kept.splice(0, kept.length - max);
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { channel, lines: () => [...kept] };
}
