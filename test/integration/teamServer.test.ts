/**
 * The team server (`orchestrator serve`) as a client meets it: the real `dist/cli.js` over WebSocket,
 * accounts made with `orchestrator admin`, a real session with OpenCode and the scripted model in one
 * tenant, and another tenant that must not reach it.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { errorCodes } from '../../protocol/errors';
import { requests } from '../../protocol/methods';
import type { SessionView } from '../../protocol/session';
import { minimumRole, roles, type Role } from '../../server/src/domain/auth/permissions';
import { tempDir } from './serverProcess';
import { sampleRepo } from './sessionHelpers';
import { admin, connect, connected, RpcClient, startTeamServer, userWithKey, type TeamServer } from './teamClient';

const rank = (r: Role) => roles.indexOf(r);
/** The secret part of `iok_<id>_<secret>` (base64url: the secret itself may contain "_"). */
const secretOf = (k: string) => k.split('_').slice(2).join('_');
const keysSeen: string[] = [];
const servers: TeamServer[] = [];
after(async () => {
  for (const s of servers) await s.stop();
});

function key(dataDir: string, tenant: string, name: string, role: Role): string {
  const k = userWithKey(dataDir, tenant, name, role).key;
  keysSeen.push(k);
  return k;
}

describe('team server: authentication', () => {
  let dataDir: string;
  let server: TeamServer;
  before(async () => {
    dataDir = tempDir('orch-team-auth-');
    server = await startTeamServer(dataDir, ['--max-requests-per-minute', '20']);
    servers.push(server);
  });

  test('no key, a wrong key, a revoked key, an expired key → 401; a valid key connects; too many failures → 429', async () => {
    const good = key(dataDir, 'acme', 'dev', 'developer');
    const revoked = userWithKey(dataDir, 'acme', 'gone', 'developer');
    keysSeen.push(revoked.key);
    const expiring = userWithKey(dataDir, 'acme', 'late', 'developer');
    keysSeen.push(expiring.key);

    const c = await connected(server.url, good);
    assert.equal(((await c.call('server/status')) as { health: string }).health !== undefined, true);

    // A key revoked while its connection is open stops working on the next request.
    const open = await connected(server.url, revoked.key);
    assert.ok((await open.request('session/list', {})).result, 'works before revocation');
    admin(dataDir, 'revoke-key', revoked.keyId);
    assert.equal((await open.request('session/list', {})).error?.code, errorCodes.unauthorized);
    await open.close();

    // Expiry: the key's time is past (the file edited as time would).
    const file = path.join(dataDir, 'auth.json');
    const accounts = JSON.parse(readFileSync(file, 'utf8'));
    accounts.keys.find((k: { id: string }) => k.id === expiring.keyId).expiresAt = Date.now() - 1000;
    writeFileSync(file, JSON.stringify(accounts));

    const wrongSecret = good.slice(0, -4) + (good.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    const refused: [string, string | undefined, RegExp][] = [
      ['no key', undefined, /no API key/],
      ['malformed key', 'hello', /not valid/],
      ['wrong secret', wrongSecret, /not valid/],
      ['revoked key', revoked.key, /revoked/],
      ['expired key', expiring.key, /expired/],
    ];
    for (const [what, k, body] of refused) {
      const r = await connect(server.url, k);
      assert.ok(!(r instanceof RpcClient), `${what} must be refused`);
      assert.equal(r.status, 401, what);
      assert.match(r.body, body, what);
    }
    // Requests over the per-key limit (20 a minute here) are refused with the wait.
    let limited: number | undefined;
    for (let i = 0; i < 25 && limited === undefined; i++) {
      const r = await c.request('session/list', {});
      if (r.error?.code === errorCodes.tooManyRequests) limited = i;
    }
    assert.ok(limited !== undefined && limited >= 15, `rate limited after about 20 requests (at ${limited})`);
    await c.close();
    // 5 failures so far; 5 more reach the limit of 10 a minute; then even a good key from this address waits.
    for (let i = 0; i < 5; i++) assert.equal(((await connect(server.url, 'nope')) as { status: number }).status, 401);
    const locked = await connect(server.url, good);
    assert.ok(!(locked instanceof RpcClient));
    assert.equal(locked.status, 429);
    assert.ok(server.alive());
    const stored = readFileSync(file, 'utf8');
    for (const k of keysSeen) assert.ok(!stored.includes(secretOf(k)), 'auth.json keeps hashes, not secrets');
  });
});

describe('team server: roles, tenants, malformed frames', () => {
  let dataDir: string;
  let server: TeamServer;
  const keys = {} as Record<Role, string>;
  let other: string;
  let fuzzKey: string;
  before(async () => {
    dataDir = tempDir('orch-team-');
    fuzzKey = key(dataDir, 'fuzz', 'fuzzer', 'viewer');
    for (const r of roles) keys[r] = key(dataDir, 'acme', `${r}-user`, r);
    other = key(dataDir, 'globex', 'intruder', 'admin');
    server = await startTeamServer(dataDir);
    servers.push(server);
  });

  test('role matrix: every role × every request method is allowed or forbidden as the table says', async () => {
    let pairs = 0;
    const wrong: string[] = [];
    for (const role of roles) {
      const c = await connected(server.url, keys[role]);
      for (const def of requests) {
        // Params that fail decoding: an allowed call gets InvalidParams (decoding runs after authorisation), never a side effect.
        const r = await c.request(def.method, { __probe: true });
        const required = minimumRole.get(def.method);
        const allowed = required !== undefined && rank(role) >= rank(required);
        const forbidden = r.error?.code === errorCodes.forbidden;
        if (allowed === forbidden) wrong.push(`${role} ${def.method}: ${JSON.stringify(r.error ?? r.result).slice(0, 120)}`);
        if (allowed && r.error?.code !== errorCodes.invalidParams)
          wrong.push(`${role} ${def.method}: expected InvalidParams, got ${JSON.stringify(r.error ?? r.result).slice(0, 120)}`);
        pairs++;
      }
      // Methods outside the table fail closed, even for an admin.
      for (const m of ['initialize', 'nope/nothing', 'permission/request'])
        if ((await c.request(m, {})).error?.code !== errorCodes.forbidden) wrong.push(`${role} ${m} not forbidden`);
      await c.close();
    }
    assert.deepEqual(wrong, []);
    assert.equal(pairs, roles.length * requests.length);
    console.log(`role matrix: ${pairs} role × method pairs as expected`);
  });

  test("two tenants: a session of one is not found by the other's admin through any method", async () => {
    const dev = await connected(server.url, keys.developer);
    const cwd = sampleRepo();
    admin(dataDir, 'set-roots', 'acme', cwd); // Paths a client names must be inside the tenant's roots.
    const draft = await dev.call<SessionView>('session/start', {
      goal: '- [a] Alpha {files: a.txt}: [[script:write_file a.txt]] alpha',
      cwd,
    });
    await dev.call('session/approve', { sessionId: draft.id });
    let v = draft;
    for (const end = Date.now() + 120_000; Date.now() < end && !['completed', 'failed'].includes(v.state);) {
      await new Promise((r) => setTimeout(r, 250));
      v = await dev.call<SessionView>('session/get', { sessionId: draft.id });
    }
    assert.equal(v.state, 'completed', JSON.stringify(v.tasks));
    const taskId = v.tasks[0].id;
    const runId = v.tasks[0].runId!;
    assert.ok(runId, 'the task has a run');

    const intruder = await connected(server.url, other);
    const sessionId = draft.id;
    const probes: [string, unknown][] = [
      ['session/get', { sessionId }],
      ['session/diff', { sessionId }],
      ['session/diff', { sessionId, taskId }],
      ['session/fileContent', { sessionId, path: 'a.txt', side: 'modified' }],
      ['session/plan', { sessionId, plan: { tasks: [{ id: 'x', title: 'x', prompt: 'x' }] } }],
      ['session/approve', { sessionId }],
      ['session/pause', { sessionId }],
      ['session/resume', { sessionId }],
      ['session/cancel', { sessionId }],
      ['session/retry', { sessionId }],
      ['session/apply', { sessionId }],
      ['session/delete', { sessionId }],
      ['task/retry', { sessionId, taskId }],
      ['task/cancel', { sessionId, taskId }],
      ['task/setPriority', { sessionId, taskId, priority: 1 }],
      ['run/get', { runId }],
      ['run/cancel', { runId }],
      ['run/transcript', { runId }],
    ];
    const leaks: string[] = [];
    for (const [method, params] of probes) {
      const r = await intruder.request(method, params);
      // Not found, or params the method refuses before looking; never a result.
      if (!r.error || ![errorCodes.notFound, errorCodes.invalidParams].includes(r.error.code as never))
        leaks.push(`${method}: ${JSON.stringify(r.error ?? r.result).slice(0, 160)}`);
    }
    const lists: [string, (x: unknown) => boolean][] = [
      ['session/list', (x) => (x as unknown[]).length === 0],
      ['run/list', (x) => !(x as { id: string }[]).some((r) => r.id === runId)],
      ['dataset/candidates', (x) => !JSON.stringify(x).includes(runId)],
    ];
    for (const [method, empty] of lists) {
      const r = await intruder.request(method, {});
      if (r.error || !empty(r.result)) leaks.push(`${method}: ${JSON.stringify(r.error ?? r.result).slice(0, 160)}`);
    }
    console.log(`isolation: ${probes.length + lists.length} cross-tenant calls, ${leaks.length} leaks`);
    assert.deepEqual(leaks, []);
    // The owner still sees it, untouched, and each tenant's data lives in its own folder.
    assert.equal((await dev.call<SessionView>('session/get', { sessionId })).state, 'completed');
    assert.ok(readFileSync(path.join(dataDir, 'tenants', 'acme', 'store.json'), 'utf8').includes(sessionId));
    assert.ok(!readFileSync(path.join(dataDir, 'tenants', 'globex', 'store.json'), 'utf8').includes(sessionId));
    await dev.close();
    await intruder.close();
  });

  test('3,001 malformed and fuzzed frames are rejected, the connection and server stay up; an oversized frame closes only its socket', async () => {
    const c = await connected(server.url, fuzzKey);
    let seed = 42;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
    const methods = [...requests.map((d) => d.method), 'initialize', '$/cancelRequest', 'x', ''];
    const junk = () => Buffer.from(Array.from({ length: 1 + Math.floor(rnd() * 64) }, () => Math.floor(rnd() * 256))).toString('latin1');
    const frames: (() => string | Buffer)[] = [
      junk,
      () => '{"jsonrpc":"2.0","id":1,"method":"server/status"'.slice(0, Math.floor(rnd() * 45)),
      () => JSON.stringify(pick([null, 1, 'x', [], [1, 2], true, {}])),
      () =>
        JSON.stringify({
          jsonrpc: pick(['2.0', '1.0', 2, undefined]),
          id: pick([1e6 + Math.floor(rnd() * 1e6), 'a', null, {}, [], true]),
          method: pick(methods),
          params: pick([{}, [], 3, 'x', null, { sessionId: junk() }, undefined]),
        }),
      () => JSON.stringify({ jsonrpc: '2.0', method: pick(methods), params: { limit: pick([-1, 1e308, 'x']) } }),
      () => '['.repeat(200 + Math.floor(rnd() * 5000)),
      () => JSON.stringify({ jsonrpc: '2.0', id: 'resp', result: junk() }),
    ];
    let binary = 0;
    for (let i = 0; i < 3001; i++) {
      if (i % 97 === 0) {
        c.send(Buffer.from(junk(), 'latin1'), true);
        binary++;
      } else c.send(pick(frames)());
    }
    const t0 = Date.now();
    const status = await c.call<{ health: string }>('server/status', {}, 120_000);
    console.log(`fuzz: answered ${Date.now() - t0} ms after the last frame`);
    assert.ok(status.health, 'the same connection still answers after the fuzz');
    assert.ok(
      c.stray.some((r) => r.error?.code === -32700),
      'parse errors were answered',
    );
    assert.ok(
      c.stray.some((r) => r.error?.code === -32600),
      'invalid requests were answered',
    );
    assert.equal(c.closeCode, undefined, 'the connection stayed open');
    // An oversized frame (over 1 MiB) closes that socket with 1009; others keep working.
    c.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'server/status', params: { pad: 'x'.repeat(2 * 1024 * 1024) } }));
    for (const end = Date.now() + 10_000; c.closeCode === undefined && Date.now() < end;) await new Promise((r) => setTimeout(r, 50));
    assert.equal(c.closeCode, 1009);
    const again = await connected(server.url, keys.viewer);
    assert.ok((await again.call<{ health: string }>('server/status')).health);
    await again.close();
    assert.ok(server.alive(), `server alive after 3,001 frames (${binary} binary) and an oversized one`);
  });

  test('keys never reach the logs', async () => {
    await new Promise((r) => setTimeout(r, 200));
    const logs = servers.map((s) => s.stderr()).join('\n');
    assert.match(logs, /connected/, 'the log has connection lines to check');
    for (const k of keysSeen) {
      assert.ok(!logs.includes(k), 'no whole key in the log');
      assert.ok(!logs.includes(secretOf(k)), "no key's secret in the log");
    }
  });
});
