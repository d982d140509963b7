/**
 * Usage reports on the real team server (`dist/cli.js serve`, OpenCode and the scripted model): a
 * developer's single run and another developer's session end, their usage lines name the user, agent and
 * model; `usage/report` sums them per user, agent, model and day for the caller's tenant only (an admin
 * sees every user, a developer their own runs, a viewer is refused, another tenant sees nothing); a line
 * written before lines carried who (tokens only) still counts under `unknown`; `orchestrator admin usage`
 * prints the same numbers; bad input is refused naming what is wrong. The stdio server answers from its own
 * store's ended runs, under the user `local`.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { errorCodes } from '../../protocol/errors';
import type { RunView } from '../../protocol/run';
import type { SessionView } from '../../protocol/session';
import type { UsageReport } from '../../protocol/usage';
import { runGet, runStart } from '../../protocol/run';
import { usageReport } from '../../protocol/usage';
import { cliJs, startServer, tempDir } from './serverProcess';
import { sampleRepo, sampleRepoAt } from './sessionHelpers';
import { admin, connected, startTeamServer, userWithKey, type RpcClient, type TeamServer } from './teamClient';

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 120_000): Promise<T> {
  for (const end = Date.now() + ms; Date.now() < end;) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

const oldAt = Date.parse('2026-01-02T10:00:00Z');

describe('team server: usage reports', () => {
  let dataDir: string;
  let server: TeamServer;
  let root: string;
  let alice: RpcClient;
  let bob: RpcClient;
  let boss: RpcClient;
  let viewer: RpcClient;
  let other: RpcClient;
  let aliceId: string;
  let bobId: string;
  const repo = (name: string) => sampleRepoAt(root, name);

  before(async () => {
    dataDir = tempDir('orch-team-usage-');
    root = realpathSync(tempDir('orch-usage-root-'));
    const aliceKey = userWithKey(dataDir, 'u', 'alice', 'developer').key;
    const bobKey = userWithKey(dataDir, 'u', 'bob', 'developer').key;
    const bossKey = userWithKey(dataDir, 'u', 'boss', 'admin').key;
    const viewerKey = userWithKey(dataDir, 'u', 'val', 'viewer').key;
    const otherKey = userWithKey(dataDir, 'v', 'eve', 'admin').key;
    admin(dataDir, 'set-roots', 'u', root);
    const users = (admin(dataDir, 'list') as { users: { id: string; name: string }[] }).users;
    aliceId = users.find((x) => x.name === 'alice')!.id;
    bobId = users.find((x) => x.name === 'bob')!.id;
    // A line as the ledger wrote them before they named who, agent and model.
    mkdirSync(path.join(dataDir, 'tenants', 'u'), { recursive: true });
    writeFileSync(path.join(dataDir, 'tenants', 'u', 'usage.jsonl'), `${JSON.stringify({ atMs: oldAt, runId: 'old-run', tokens: 500 })}\n`);
    server = await startTeamServer(dataDir);
    alice = await connected(server.url, aliceKey);
    bob = await connected(server.url, bobKey);
    boss = await connected(server.url, bossKey);
    viewer = await connected(server.url, viewerKey);
    other = await connected(server.url, otherKey);
  });
  after(async () => {
    for (const c of [alice, bob, boss, viewer, other]) await c?.close();
    await server?.stop();
  });

  test('runs of two developers are reported per user, agent, model and day; developers see their own; other tenants nothing', async () => {
    const { runId } = await alice.call<{ runId: string }>('run/start', { agent: 'opencode', cwd: repo('a'), prompt: 'hello' });
    const s = await bob.call<SessionView>('session/start', {
      goal: '- [a] A {files: a.txt}: [[script:write_file a.txt]] a',
      cwd: repo('b'),
      approve: true,
    });
    await until('alice’s run to end', async () => {
      const r = await alice.call<RunView>('run/get', { runId });
      return ['succeeded', 'failed', 'cancelled'].includes(r.state) ? r : undefined;
    });
    await until('bob’s session to complete', async () =>
      (await bob.call<SessionView>('session/get', { sessionId: s.id })).state === 'completed' ? true : undefined,
    );
    const file = path.join(dataDir, 'tenants', 'u', 'usage.jsonl');
    const lines = await until('both usage lines', async () => {
      const ls = readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      return ls.length >= 3 ? ls : undefined;
    });
    const mine = lines.find((l) => l.runId === runId)!;
    assert.deepEqual([mine.userId, mine.userName, mine.agent], [aliceId, 'alice', 'opencode'], JSON.stringify(mine));
    assert.ok(typeof mine.inputTokens === 'number' && typeof mine.outputTokens === 'number' && typeof mine.cost === 'number');
    const bobs = lines.filter((l) => l.userId === bobId);
    assert.ok(bobs.length >= 1 && bobs.every((l) => l.sessionId === s.id), JSON.stringify(lines));

    const byUser = await boss.call<UsageReport>('usage/report', { groupBy: 'user' });
    assert.equal(byUser.scope, 'tenant');
    assert.equal(byUser.tenantId, 'u');
    assert.deepEqual(
      byUser.rows.map((r) => [r.key, r.label, r.runs]).sort(),
      [
        [aliceId, 'alice', 1],
        [bobId, 'bob', bobs.length],
        ['unknown', undefined, 1],
      ].sort(),
    );
    const sum = (f: (l: Record<string, unknown>) => number) => lines.reduce((n, l) => n + f(l), 0);
    assert.equal(
      byUser.total.tokens,
      sum((l) => l.tokens as number),
    );
    assert.ok(byUser.total.tokens > 500, 'the runs used tokens beyond the old line');
    assert.equal(
      byUser.total.inputTokens,
      sum((l) => (l.inputTokens as number) ?? 0),
    );
    assert.equal(byUser.total.runs, lines.length);
    assert.equal(byUser.rows.find((r) => r.key === 'unknown')!.tokens, 500, 'the old line still counts');

    const byAgent = await boss.call<UsageReport>('usage/report', { groupBy: 'agent' });
    assert.deepEqual(
      byAgent.rows.map((r) => [r.key, r.runs]),
      [
        ['opencode', lines.length - 1],
        ['unknown', 1],
      ],
    );
    const byModel = await boss.call<UsageReport>('usage/report', { groupBy: 'model' });
    assert.equal(
      byModel.rows.reduce((n, r) => n + r.tokens, 0),
      byUser.total.tokens,
    );
    const today = new Date().toISOString().slice(0, 10);
    const byDay = await boss.call<UsageReport>('usage/report', { groupBy: 'day' });
    assert.deepEqual(
      byDay.rows.map((r) => r.key),
      ['2026-01-02', today].sort(),
    );
    const recent = await boss.call<UsageReport>('usage/report', { groupBy: 'day', from: '2026-01-03' });
    assert.deepEqual(
      recent.rows.map((r) => [r.key, r.runs]),
      [[today, lines.length - 1]],
    );

    // A developer sees only their own runs.
    const own = await alice.call<UsageReport>('usage/report', { groupBy: 'user' });
    assert.equal(own.scope, 'own');
    assert.deepEqual(
      own.rows.map((r) => r.key),
      [aliceId],
    );
    assert.equal(own.total.runs, 1);
    assert.equal(own.total.tokens, mine.tokens);
    // A viewer is refused; another tenant's admin sees none of it.
    const refused = await viewer.request('usage/report', { groupBy: 'user' });
    assert.equal(refused.error?.code, errorCodes.forbidden);
    const theirs = await other.call<UsageReport>('usage/report', { groupBy: 'user' });
    assert.deepEqual([theirs.tenantId, theirs.rows, theirs.total.runs], ['v', [], 0]);

    // The admin CLI prints the same numbers.
    const cli = admin(dataDir, 'usage', 'u', '--by', 'user') as UsageReport;
    assert.deepEqual(cli.rows, byUser.rows);
    assert.deepEqual(cli.total, byUser.total);
    const text = execFileSync(process.execPath, [cliJs, 'admin', 'usage', 'u', '--by', 'agent', '--data-dir', dataDir], {
      encoding: 'utf8',
    });
    assert.match(text, /^agent\s+runs\s+input\s+output\s+tokens\s+cost\n/);
    assert.match(text, new RegExp(`\\ntotal\\s+${lines.length}\\s+\\d+\\s+\\d+\\s+${byUser.total.tokens}\\s`));
  });

  test('bad input is refused naming what is wrong', async () => {
    const wrongGroup = await boss.request('usage/report', { groupBy: 'team' });
    assert.equal(wrongGroup.error?.code, errorCodes.invalidParams);
    assert.match(wrongGroup.error!.message, /groupBy/);
    const reversed = await boss.request('usage/report', { groupBy: 'day', from: '2026-02-01', to: '2026-01-01' });
    assert.equal(reversed.error?.code, errorCodes.invalidParams);
    assert.match(reversed.error!.message, /from \(2026-02-01\) is after to \(2026-01-01\)/);
    const notADate = await boss.request('usage/report', { groupBy: 'day', from: 'yesterday' });
    assert.equal(notADate.error?.code, errorCodes.invalidParams);
    assert.match(notADate.error!.message, /from/);
    assert.throws(() => admin(dataDir, 'usage', 'u', '--by', 'team'), /--by must be one of user, agent, model, day/);
    assert.throws(() => admin(dataDir, 'usage', 'nobody'), /no tenant nobody/);
  });
});

describe('stdio server: usage/report from its own runs', () => {
  test('an ended run is reported under the local user, by agent and day', async () => {
    const s = await startServer(tempDir('orch-usage-stdio-'));
    try {
      const empty = await s.request(usageReport, { groupBy: 'user' });
      assert.deepEqual([empty.tenantId, empty.scope, empty.rows, empty.total.runs], ['local', 'tenant', [], 0]);
      const { runId } = await s.request(runStart, { agent: 'opencode', cwd: sampleRepo(), prompt: 'hello' });
      const run = await until('the run to end', async () => {
        const r = await s.request(runGet, { runId });
        return ['succeeded', 'failed', 'cancelled'].includes(r.state) ? r : undefined;
      });
      const byUser = await s.request(usageReport, { groupBy: 'user' });
      assert.deepEqual(
        byUser.rows.map((r) => [r.key, r.runs, r.inputTokens, r.outputTokens]),
        [['local', 1, run.usage.inputTokens, run.usage.outputTokens]],
      );
      const byAgent = await s.request(usageReport, { groupBy: 'agent', to: '2000-01-01' });
      assert.deepEqual(byAgent.rows, [], 'to is exclusive of later runs');
    } finally {
      await s.stop();
    }
  });
});
