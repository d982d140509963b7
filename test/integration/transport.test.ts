/**
 * The stdio transport of the real server process: a bad frame ends the process with a clear stderr line
 * and a non-zero exit (so the client's restart policy takes over) instead of leaving a deaf server; a
 * second `initialize` is refused and changes nothing.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { ResponseError } from 'vscode-jsonrpc/node';
import { errorCodes } from '../../protocol/errors';
import { serverStatus } from '../../protocol/server';
import { sessionList, sessionStart } from '../../protocol/session';
import { startServer, tempDir, withDeadline, type ServerHandle } from './serverProcess';
import { sampleRepo } from './sessionHelpers';

const started: ServerHandle[] = [];
after(async () => {
  await Promise.all(started.map((s) => s.stop()));
});

async function server(dataDir = tempDir()): Promise<ServerHandle> {
  const s = await startServer(dataDir);
  started.push(s);
  return s;
}

function exitOf(s: ServerHandle): Promise<number | null> {
  if (s.child.exitCode !== null) return Promise.resolve(s.child.exitCode);
  return new Promise((resolve) => s.child.once('exit', (code) => resolve(code)));
}

describe('stdio transport of the server process', () => {
  const frames: [string, string, RegExp][] = [
    [
      'no Content-Length header',
      'Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{"jsonrpc":"2.0","id":99,"method":"server/status","params":{}}',
      /Content-Length/,
    ],
    ['a Content-Length that is not a number', 'Content-Length: twelve\r\n\r\n{"jsonrpc":"2.0"}', /Content-Length/],
    ['a body that is not JSON', 'Content-Length: 11\r\n\r\nhello world', /framing error|JSON/],
    [
      'a Content-Length larger than the body',
      'Content-Length: 4096\r\n\r\n{"jsonrpc":"2.0","id":7,"method":"server/status","params":{}}',
      /incomplete|Content-Length/,
    ],
  ];
  for (const [name, frame, detail] of frames) {
    test(`${name}: the server exits non-zero with a clear line on stderr`, async () => {
      const s = await server();
      assert.equal((await s.request(serverStatus, {})).health, 'ok');
      s.child.stdin!.write(frame);
      const code = await withDeadline(exitOf(s), 30_000, 'server exit after a bad frame');
      assert.notEqual(code, 0, 'a non-zero exit code');
      assert.notEqual(code, null, 'it exited by itself (not killed)');
      assert.match(s.stderr(), /orchestrator server: .*closing the connection and exiting/);
      assert.match(s.stderr(), detail);
    });
  }

  test('a second initialize is refused and the server keeps its data folder and sessions', async () => {
    const dataDir = tempDir();
    const s = await server(dataDir);
    const draft = await s.request(sessionStart, { goal: '- [a] A: do a', cwd: sampleRepo() });
    const other = tempDir();
    const err = await withDeadline(
      s.connection.sendRequest('initialize', {
        processId: process.pid,
        rootUri: null,
        capabilities: {},
        initializationOptions: { dataDir: other },
      }),
      10_000,
      'second initialize',
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof ResponseError, 'the second initialize gets an error');
    assert.equal(err.code, errorCodes.conflict);
    assert.match(err.message, /already/);
    const status = await s.request(serverStatus, {});
    assert.equal(status.dataDir, dataDir, 'the data folder did not change');
    assert.equal(status.health, 'ok');
    assert.deepEqual(
      (await s.request(sessionList, {})).map((v) => v.id),
      [draft.id],
      'the client still sees its sessions',
    );
    assert.equal(s.child.exitCode, null, 'still serving');
  });
});
