/** Logger over the LSP connection console (the extension's output channel) or any line sink. Redacts every line. */
import { redactSecrets } from '../domain/redact';
import { enabled, type LogLevel, type Logger } from '../ports/logger';

export interface LineSink {
  error(line: string): void;
  warn(line: string): void;
  info(line: string): void;
  log(line: string): void;
}

export function createLogger(sink: LineSink, threshold: () => LogLevel): Logger {
  const emit = (level: LogLevel, message: string) => {
    if (!enabled(level, threshold())) return;
    const line = redactSecrets(message);
    if (level === 'error') sink.error(line);
    else if (level === 'warn') sink.warn(line);
    else if (level === 'info') sink.info(line);
    else sink.log(line);
  };
  return {
    error: (m) => emit('error', m),
    warn: (m) => emit('warn', m),
    info: (m) => emit('info', m),
    debug: (m) => emit('debug', m),
  };
}

/** A sink writing `[level] line` to stderr, for the CLI. */
export const stderrSink: LineSink = {
  error: (l) => process.stderr.write(`[error] ${l}\n`),
  warn: (l) => process.stderr.write(`[warn] ${l}\n`),
  info: (l) => process.stderr.write(`[info] ${l}\n`),
  log: (l) => process.stderr.write(`[debug] ${l}\n`),
};
