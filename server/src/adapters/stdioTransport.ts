/**
 * The server's stdio JSON-RPC transport. vscode-jsonrpc reports a bad frame (a missing or non-numeric
 * `Content-Length`, a body that is not JSON) as a reader error and then keeps reading, out of step with
 * the frames: the server would stay alive but never answer again. Here any framing or parse error, a
 * frame that never completes (a `Content-Length` larger than what was sent), or a broken pipe ends the
 * process with one clear line on stderr and a non-zero exit, so the client's restart policy takes over.
 */
import { format } from 'node:util';
import { StreamMessageReader, StreamMessageWriter } from 'vscode-languageserver/node';
import { redactSecrets } from '../domain/redact';

/** Exit code of a transport failure (distinct from 1, an uncaught exception). */
export const transportExitCode = 3;

export interface StdioTransport {
  reader: StreamMessageReader;
  writer: StreamMessageWriter;
}

/**
 * `onFatal(line)` runs once, on the first transport failure; it should clean up and exit. A frame that
 * is still incomplete after `partialMessageMs` counts as a failure.
 */
export function createStdioTransport(onFatal: (line: string) => void, partialMessageMs = 10_000): StdioTransport {
  let failed = false;
  const fatal = (what: string) => {
    if (failed) return;
    failed = true;
    onFatal(
      redactSecrets(
        `orchestrator server: ${what}; closing the connection and exiting (code ${transportExitCode}) so the client restarts the server`,
      ),
    );
  };
  const reader = new StreamMessageReader(process.stdin);
  reader.partialMessageTimeout = partialMessageMs;
  const writer = new StreamMessageWriter(process.stdout);
  reader.onError((e) => fatal(`JSON-RPC framing error on stdin: ${e.message.split('\n')[0]}`));
  reader.onPartialMessage((info) => fatal(`JSON-RPC frame incomplete after ${info.waitingTime} ms (a wrong Content-Length?)`));
  writer.onError(([e]) => fatal(`cannot write to stdout: ${e.message}`));
  // stdout carries the protocol: stray console output goes to stderr instead.
  for (const name of ['log', 'info', 'debug', 'warn', 'error', 'trace'] as const) {
    console[name] = (...args: unknown[]) => {
      process.stderr.write(`${redactSecrets(format(...args))}\n`);
    };
  }
  return { reader, writer };
}
