/** Where server log lines go: the LSP connection console, stderr for the CLI. Lines are redacted by the logger. */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface Logger {
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
}

export const logLevels: readonly LogLevel[] = ['error', 'warn', 'info', 'debug'];

/** Whether `level` passes the configured threshold. */
export function enabled(level: LogLevel, threshold: LogLevel): boolean {
  return logLevels.indexOf(level) <= logLevels.indexOf(threshold);
}
