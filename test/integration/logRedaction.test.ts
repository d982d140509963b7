/**
 * Server log lines are redacted before they leave the process: a secret in an agent's command (logged
 * with its permission decision) never reaches the client's log (`window/logMessage`) or stderr.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { permissionRequest, runGet, runStart } from '../../protocol/run';
import { startServer, tempDir, type ServerHandle } from './serverProcess';
import { sampleRepo } from './sessionHelpers';

const secret = 'sk-abcdefghijklmnopqrstuvwx0123456789';
let server: ServerHandle | undefined;
after(async () => {
  await server?.stop();
});

test('a secret in a logged command is [REDACTED] in the client log and on stderr', async () => {
  server = await startServer(tempDir(), { logLevel: 'debug' });
  server.connection.onRequest(permissionRequest.method, () => ({ decision: 'deny' }));
  const { runId } = await server.request(runStart, { agent: 'opencode', cwd: sampleRepo(), prompt: `[[script:bash]] echo ${secret}` });
  const end = Date.now() + 180_000;
  const logs = () =>
    server!.notifications.filter((n) => n.method === 'window/logMessage').map((n) => (n.params as { message: string }).message);
  while (Date.now() < end && !logs().some((l) => l.includes(`run ${runId}: bash`))) await new Promise((r) => setTimeout(r, 200));
  const line = logs().find((l) => l.includes(`run ${runId}: bash`));
  assert.ok(line, `the permission decision for the command was logged: ${logs().slice(-5).join(' | ')}`);
  assert.match(line, /echo \[REDACTED\]/);
  while (Date.now() < end && ['pending', 'running'].includes((await server.request(runGet, { runId })).state))
    await new Promise((r) => setTimeout(r, 200));
  for (const l of logs()) assert.ok(!l.includes(secret), `no secret in the client log: ${l}`);
  assert.ok(!server.stderr().includes(secret), 'no secret on stderr');
});
