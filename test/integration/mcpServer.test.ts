/**
 * Our MCP server for agents, driven by a real MCP client from `@modelcontextprotocol/sdk` over Streamable
 * HTTP on 127.0.0.1, against the real agent tool service, a real store on disk and a real git repository.
 * A task claims a path another task holds (refused, told why), reads its budget (the session's numbers),
 * its context and reports progress; bad tokens get 401; path escapes are refused and change nothing.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { GitWorkspace } from '../../server/src/adapters/git/git';
import { LowdbStore } from '../../server/src/adapters/lowdb/lowdbStore';
import { McpHttpServer } from '../../server/src/adapters/mcp/mcpHttpServer';
import { newBudget, remaining, reserve, charge, startClock } from '../../server/src/domain/orchestration/budget';
import { tryAcquire } from '../../server/src/domain/orchestration/lease';
import { newSession } from '../../server/src/domain/orchestration/sessionState';
import { newTask } from '../../server/src/domain/orchestration/taskState';
import type { OpenGrant, ProgressReport } from '../../server/src/ports/agentTools';
import type { Logger } from '../../server/src/ports/logger';
import { AgentToolService } from '../../server/src/services/agentToolService';

let tmp: string;
let repo: string;
let store: LowdbStore;
let server: McpHttpServer;
let tools: AgentToolService;
const logged: string[] = [];
const logger: Logger = {
  error: (m) => logged.push(m),
  warn: (m) => logged.push(m),
  info: (m) => logged.push(m),
  debug: (m) => logged.push(m),
};
const now = Date.now();
const ttl = 10 * 60_000;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-server-'));
  repo = path.join(tmp, 'repo');
  fs.mkdirSync(path.join(repo, 'src'), { recursive: true });
  fs.writeFileSync(path.join(repo, 'src', 'parser.ts'), 'export {};\n');
  const git = (...a: string[]) => execFileSync('git', a, { cwd: repo, stdio: 'ignore' });
  git('init', '-q');
  git('add', '-A');
  git('-c', 'user.email=t@example.invalid', '-c', 'user.name=test', 'commit', '-qm', 'init');
  const baseSha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
  // The task has started working: one changed and one new file in its worktree.
  fs.writeFileSync(path.join(repo, 'src', 'parser.ts'), 'export const parse = 1;\n');
  fs.writeFileSync(path.join(repo, 'src', 'ast.ts'), 'export {};\n');

  store = new LowdbStore(path.join(tmp, 'store.json'), logger);
  await store.load();
  let budget = startClock(newBudget({ tokens: 50_000, money: 2, wallMs: 3_600_000 }), now - 60_000);
  const r = reserve(budget, 't1', { tokens: 4_000, money: 0 }, now);
  assert.ok(r.ok);
  budget = charge(r.state, 't0', { tokens: 1_234, money: 0.05 });
  const session = { ...newSession({ id: 's1', tenantId: 'local', goal: 'Build a calculator', cwd: repo, budget: {}, nowMs: now }), budget };
  const task = (id: string, title: string, files: string[], extra: Record<string, unknown> = {}) => ({
    ...newTask({ id, sessionId: 's1', tenantId: 'local', title, prompt: `${title}.`, expectedFiles: files, nowMs: now }),
    state: 'running' as const,
    ...extra,
  });
  let leases = { leases: [] as never[] } as Parameters<typeof tryAcquire>[0];
  for (const [taskId, globs] of [
    ['t1', ['src/parser.ts']],
    ['t2', ['src/lexer/**']],
  ] as const) {
    const l = tryAcquire(leases, { taskId, repo, globs: [...globs], mode: 'write' }, now, ttl);
    assert.ok(l.ok);
    leases = l.table;
  }
  await store.update((d) => {
    d.sessions.push({ ...session, state: 'running' });
    d.tasks.push(
      task('t0', 'Design the AST', ['docs/**'], {
        state: 'succeeded',
        result: {
          summary: 'Designed the AST in docs/ast.md',
          changedFiles: ['docs/ast.md'],
          usage: { inputTokens: 1, outputTokens: 1, reasoningTokens: 0, cacheReadTokens: 0, cost: 0 },
        },
      }),
      task('t1', 'Write the parser', ['src/parser.ts'], { dependsOn: ['t0'], baseSha }),
      task('t2', 'Write the lexer', ['src/lexer/**']),
    );
    d.leases = leases;
  });
  server = new McpHttpServer(logger);
  tools = new AgentToolService({
    store,
    workspace: new GitWorkspace(),
    server,
    leaseTtlMs: ttl,
    newToken: () => `tok-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`,
    now: Date.now,
    logger,
  });
});

after(async () => {
  await server?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

async function connect(grant: OpenGrant): Promise<Client> {
  const client = new Client({ name: 'mcp-server-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(grant.attachment.url), {
    requestInit: { headers: grant.attachment.headers },
  });
  await client.connect(transport);
  return client;
}

type CallResult = { content: { type: string; text: string }[]; isError?: boolean };
async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<CallResult> {
  return (await client.callTool({ name, arguments: args }, undefined, { timeout: 10_000 })) as CallResult;
}
const json = (r: CallResult): Record<string, unknown> => {
  assert.ok(!r.isError, `the tool answered an error: ${r.content[0]?.text}`);
  return JSON.parse(r.content[0]?.text ?? '') as Record<string, unknown>;
};
const leaseGlobs = (taskId: string) => store.read().leases.leases.find((l) => l.taskId === taskId)?.globs;

test('a task claims a path another task holds: refused, told which task holds it and why; the store is unchanged', async () => {
  const progress: ProgressReport[] = [];
  const grant = await tools.open({ runId: 'r1', sessionId: 's1', taskId: 't1', cwd: repo }, (p) => (progress.push(p), true));
  assert.ok(grant);
  assert.match(grant.attachment.url, /^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
  const client = await connect(grant);
  try {
    const listed = await client.listTools(undefined, { timeout: 10_000 });
    assert.deepEqual(listed.tools.map((t) => t.name).sort(), ['budget', 'claim_lease', 'release_lease', 'report_progress', 'task_context']);

    const before = JSON.stringify(store.read().leases);
    const refused = await call(client, 'claim_lease', { paths: ['./src/lexer/tokens.ts'] });
    assert.equal(refused.isError, true);
    assert.match(
      refused.content[0]?.text ?? '',
      /src\/lexer\/tokens\.ts is held by task t2 "Write the lexer" \(write lease on src\/lexer\/\*\*\)/,
    );
    assert.equal(JSON.stringify(store.read().leases), before, 'a refused claim changes no lease');

    const granted = json(await call(client, 'claim_lease', { paths: ['src/extra.ts'] }));
    assert.deepEqual(granted.paths, ['src/parser.ts', 'src/extra.ts']);
    assert.deepEqual(leaseGlobs('t1'), ['src/parser.ts', 'src/extra.ts'], 'the grant is in the store');
    const released = json(await call(client, 'release_lease', { paths: ['src/extra.ts', 'src/parser.ts'] }));
    assert.deepEqual(released.released, ['src/extra.ts']);
    assert.deepEqual(released.kept, ['src/parser.ts']);
    assert.deepEqual(leaseGlobs('t1'), ['src/parser.ts']);
    assert.deepEqual(leaseGlobs('t2'), ['src/lexer/**'], "the other task's lease was never touched");

    const ctx = json(await call(client, 'task_context'));
    assert.equal(ctx.goal, 'Build a calculator');
    assert.deepEqual((ctx.task as { title: string }).title, 'Write the parser');
    assert.deepEqual(ctx.dependencies, [
      { id: 't0', title: 'Design the AST', state: 'succeeded', summary: 'Designed the AST in docs/ast.md', changedFiles: ['docs/ast.md'] },
    ]);
    assert.deepEqual(ctx.changedFiles, ['src/ast.ts', 'src/parser.ts']);

    assert.deepEqual(json(await call(client, 'report_progress', { message: 'parsing numbers', percent: 40 })), { recorded: true });
    assert.deepEqual(progress, [{ message: 'parsing numbers', percent: 40 }]);
    const bad = await call(client, 'report_progress', { message: '   ' });
    assert.equal(bad.isError, true);
    assert.equal(progress.length, 1);
  } finally {
    await client.close();
    grant.close();
  }
});

test("the budget an agent reads is the session's: limits, spent, reserved and remaining", async () => {
  const grant = await tools.open({ runId: 'r2', sessionId: 's1', taskId: 't1', cwd: repo }, () => true);
  assert.ok(grant);
  const client = await connect(grant);
  try {
    const b = json(await call(client, 'budget')) as {
      limits: Record<string, number | null>;
      spent: Record<string, number>;
      reserved: Record<string, number>;
      remaining: Record<string, number | null>;
    };
    const session = store.read().sessions.find((s) => s.id === 's1')!;
    const left = remaining(session.budget, Date.now());
    assert.deepEqual(b.limits, { tokens: 50_000, money: 2, wallMs: 3_600_000 });
    assert.deepEqual(b.spent, session.budget.spent);
    assert.deepEqual(b.spent, { tokens: 1_234, money: 0.05 });
    assert.deepEqual(b.reserved, session.budget.reservedTotal);
    assert.equal(b.remaining.tokens, left.tokens);
    assert.equal(b.remaining.tokens, 50_000 - 1_234 - 4_000);
    assert.equal(b.remaining.money, left.money);
    assert.ok(b.remaining.wallMs! >= left.wallMs && b.remaining.wallMs! < left.wallMs + 5_000, 'wall time left, read just before');
  } finally {
    await client.close();
    grant.close();
  }
});

test('path escapes are refused with the reason and change nothing', async () => {
  const grant = await tools.open({ runId: 'r3', sessionId: 's1', taskId: 't1', cwd: repo }, () => true);
  assert.ok(grant);
  const client = await connect(grant);
  try {
    const before = JSON.stringify(store.read().leases);
    for (const [paths, re] of [
      [['../outside.txt'], /climbs out with "\.\."/],
      [['src/../../etc/passwd'], /climbs out/],
      [['/etc/passwd'], /absolute/],
      [[path.join(tmp, 'elsewhere.txt')], /absolute/],
      [['ok.ts', 'C:\\Windows\\x'], /absolute/],
    ] as const) {
      const r = await call(client, 'claim_lease', { paths: [...paths] });
      assert.equal(r.isError, true, `${paths.join(', ')} must be refused`);
      assert.match(r.content[0]?.text ?? '', re);
      const rel = await call(client, 'release_lease', { paths: [...paths] });
      assert.equal(rel.isError, true);
    }
    assert.equal(JSON.stringify(store.read().leases), before);
  } finally {
    await client.close();
    grant.close();
  }
});

test('requests without a token, with a wrong one or a revoked one get 401; tokens are never logged', async () => {
  const grant = await tools.open({ runId: 'r4', sessionId: 's1', taskId: 't1', cwd: repo }, () => true);
  assert.ok(grant);
  const { url, headers } = grant.attachment;
  const token = headers.Authorization!.replace(/^Bearer /, '');
  const init = {
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
  };
  const post = (h: Record<string, string>) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...h },
      body: JSON.stringify(init),
      signal: AbortSignal.timeout(10_000),
    });
  assert.equal((await post({})).status, 401);
  assert.equal((await post({ Authorization: 'Bearer not-a-token' })).status, 401);
  assert.equal((await post({ Authorization: `Basic ${token}` })).status, 401);
  const ok = await post(headers);
  assert.equal(ok.status, 200, await ok.clone().text());
  grant.close();
  assert.equal((await post(headers)).status, 401, 'a revoked token is refused');
  // The SDK client sees the refusal too.
  await assert.rejects(connect(grant));
  assert.ok(logged.some((l) => /refused \(401\)/.test(l)));
  for (const l of logged) assert.ok(!l.includes(token), `a log line holds the token: ${l}`);
});
