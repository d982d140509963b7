import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from './adapters/lspLogger';
import { runWorker, type WorkerArgs } from './cliWorker';

const quiet = () => undefined;
const logger = createLogger({ error: quiet, warn: quiet, info: quiet, log: quiet }, () => 'error');
const agent = { descriptor: { id: 'a' } };
const good: WorkerArgs = {
  store: 'postgres://u:secret@127.0.0.1:1/db',
  remote: '/srv/git/team.git',
  data: '/tmp/w',
  concurrency: 2,
  leaseSeconds: undefined,
  agentSettings: { acpAgents: [agent] },
};

test('worker: bad options are refused before anything starts, naming the option (the password is never shown)', async () => {
  await assert.rejects(runWorker({ ...good, store: undefined }, logger), /worker needs --store postgres:\/\//);
  await assert.rejects(runWorker({ ...good, store: 'mysql://u:secret@h/db' }, logger), (e: Error) => {
    assert.match(e.message, /--store postgres/);
    assert.ok(!e.message.includes('secret'), e.message);
    return true;
  });
  await assert.rejects(runWorker({ ...good, remote: undefined }, logger), /worker needs --remote GIT_URL/);
  await assert.rejects(runWorker({ ...good, data: undefined }, logger), /worker needs --data DIR/);
  await assert.rejects(runWorker({ ...good, leaseSeconds: 100_000 }, logger), /--lease-seconds must be at most 86400/);
  await assert.rejects(runWorker({ ...good, agentSettings: {} }, logger), /at least one ACP agent/);
});
