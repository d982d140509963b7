/**
 * `server/whoami` on the real `dist/cli.js serve` and the real stdio `dist/server.js`: a team key learns its
 * tenant, user and role (what the extension shows and gates its commands on); the stdio server has no
 * accounts (`null`); params other than `{}` are refused naming the field.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { errorCodes } from '../../protocol/errors';
import { serverWhoami } from '../../protocol/server';
import { startServer, tempDir } from './serverProcess';
import { connected, startTeamServer, userWithKey, type TeamServer } from './teamClient';

describe('server/whoami', () => {
  let dataDir: string;
  let server: TeamServer;
  before(async () => {
    dataDir = tempDir('orch-team-whoami-');
    server = await startTeamServer(dataDir);
  });
  after(async () => {
    await server?.stop();
  });

  test('each role learns its tenant, user and role; bad params are refused', async () => {
    for (const role of ['viewer', 'developer', 'admin'] as const) {
      const k = userWithKey(dataDir, 'acme', `u-${role}`, role);
      const c = await connected(server.url, k.key);
      const who = (await c.call(serverWhoami.method, {})) as Record<string, unknown>;
      assert.deepEqual(
        { ...who, userId: typeof who.userId },
        { tenantId: 'acme', userId: 'string', userName: `u-${role}`, role, keyId: k.keyId },
      );
      const secret = k.key.split('_').slice(2).join('_'); // base64url: the secret itself may hold '_'
      assert.ok(secret.length >= 40, `a whole secret to look for (${secret.length} chars)`);
      assert.ok(!JSON.stringify(who).includes(secret), 'the secret is not echoed');
      const bad = await c.request(serverWhoami.method, { tenant: 'other' });
      assert.equal(bad.error?.code, errorCodes.invalidParams);
      assert.match(bad.error?.message ?? '', /tenant/);
      await c.close();
    }
  });

  test('the stdio server has no accounts: null', async () => {
    const s = await startServer(tempDir('orch-whoami-stdio-'));
    try {
      assert.equal(await s.request(serverWhoami, {}), null);
    } finally {
      await s.stop();
    }
  });
});
