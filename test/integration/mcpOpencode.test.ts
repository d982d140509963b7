/**
 * OpenCode through our MCP server: the real `opencode` binary, the real run service, agent tool service and
 * MCP server, a real store on disk and a real git repository; the scripted model (the only fake) makes
 * OpenCode call our tools. The run's token reaches OpenCode through `POST /mcp?directory=`; the lease claim
 * the orchestrator refuses comes back to the model with the holder named; progress lands in the transcript
 * between OpenCode's own events and becomes the run's current activity.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { TestOpencodeAdapter as OpencodeAdapter } from './opencodeTestAdapter';
import { JsonlTranscripts } from '../../server/src/adapters/fs/jsonlTranscript';
import { RealPathResolver } from '../../server/src/adapters/fs/realPathResolver';
import { GitWorkspace } from '../../server/src/adapters/git/git';
import { LowdbStore } from '../../server/src/adapters/lowdb/lowdbStore';
import { McpHttpServer } from '../../server/src/adapters/mcp/mcpHttpServer';
import { startScriptedModel, type ScriptedModel } from '../../server/src/adapters/scriptedModel/scriptedModel';
import type { AgentEvent } from '../../server/src/domain/agentEvent';
import { newBudget, startClock } from '../../server/src/domain/orchestration/budget';
import { tryAcquire } from '../../server/src/domain/orchestration/lease';
import { newSession } from '../../server/src/domain/orchestration/sessionState';
import { newTask } from '../../server/src/domain/orchestration/taskState';
import type { Logger } from '../../server/src/ports/logger';
import { AgentToolService } from '../../server/src/services/agentToolService';
import { RunService } from '../../server/src/services/runService';

let tmp: string;
let repo: string;
let model: ScriptedModel;
let adapter: OpencodeAdapter;
let store: LowdbStore;
let mcp: McpHttpServer;
let runs: RunService;
const logged: string[] = [];
const logger: Logger = {
  error: (m) => logged.push(m),
  warn: (m) => logged.push(m),
  info: (m) => logged.push(m),
  debug: (m) => logged.push(m),
};
const activity: string[] = [];

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-opencode-'));
  repo = path.join(tmp, 'repo');
  fs.mkdirSync(repo, { recursive: true });
  fs.writeFileSync(path.join(repo, 'README.md'), '# calc\n');
  const git = (...a: string[]) => execFileSync('git', a, { cwd: repo, stdio: 'ignore' });
  git('init', '-q');
  git('add', '-A');
  git('-c', 'user.email=t@example.invalid', '-c', 'user.name=test', 'commit', '-qm', 'init');

  const now = Date.now();
  store = new LowdbStore(path.join(tmp, 'store.json'), logger);
  await store.load();
  const lease = tryAcquire({ leases: [] }, { taskId: 't2', repo, globs: ['src/lexer/**'], mode: 'write' }, now, 600_000);
  assert.ok(lease.ok);
  await store.update((d) => {
    d.sessions.push({
      ...newSession({ id: 's1', tenantId: 'local', goal: 'Build a calculator', cwd: repo, nowMs: now }),
      budget: startClock(newBudget({ tokens: 80_000 }), now),
      state: 'running',
    });
    for (const [id, title] of [
      ['t1', 'Write the parser'],
      ['t2', 'Write the lexer'],
    ])
      d.tasks.push({ ...newTask({ id, sessionId: 's1', tenantId: 'local', title, prompt: title, nowMs: now }), state: 'running' });
    d.leases = lease.table;
  });

  model = await startScriptedModel();
  adapter = new OpencodeAdapter({
    dataDir: path.join(tmp, 'data'),
    models: { providers: [{ id: 'scripted', baseURL: model.url, models: { scripted: {} } }], defaultModel: 'scripted/scripted' },
    timeouts: { idleMs: 30_000, turnMs: 90_000 },
    startTimeoutMs: 90_000,
    log: (l) => logged.push(l),
  });
  mcp = new McpHttpServer(logger);
  let n = 0;
  runs = new RunService({
    store,
    transcripts: new JsonlTranscripts(path.join(tmp, 'transcripts'), logger),
    workspace: new GitWorkspace(),
    runtime: () => adapter,
    checkModel: () => undefined,
    defaultModel: () => 'scripted/scripted',
    publish: ({ run }) => {
      if (run.currentTool && activity[activity.length - 1] !== run.currentTool) activity.push(run.currentTool);
    },
    askUser: async () => 'deny',
    paths: new RealPathResolver(),
    agentTools: new AgentToolService({
      store,
      workspace: new GitWorkspace(),
      server: mcp,
      leaseTtlMs: 600_000,
      newToken: () => `tok${Date.now().toString(36)}${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`,
      now: Date.now,
      logger,
    }),
    newId: () => `mcp-${++n}`,
    now: () => new Date(),
    logger,
  });
  const t0 = Date.now();
  await adapter.start();
  console.log(`opencode serve ready in ${Date.now() - t0} ms`);
});

after(async () => {
  await adapter?.dispose();
  await mcp?.close();
  await model?.close();
  if (tmp && !process.env.OC_KEEP) fs.rmSync(tmp, { recursive: true, force: true });
});

type ToolCall = Extract<AgentEvent, { kind: 'tool_call' }>;

test('OpenCode calls our tools: progress is recorded, a lease held by another task is refused with the holder, the budget is read', async () => {
  const leasesBefore = JSON.stringify(store.read().leases);
  const prompt =
    '[[script:tool_seq]] report_progress {"message":"looking at the lexer","percent":10} ;; ' +
    'claim_lease {"paths":["src/lexer/tokens.ts"]} ;; budget {}';
  const setup = adapter.recordSetupCalls();
  const t0 = Date.now();
  const r = await runs.start({ agent: 'opencode', cwd: repo, prompt, sessionId: 's1', taskId: 't1' });
  const result = await r.done;
  console.log(`turn with three MCP tool calls in ${Date.now() - t0} ms`);
  assert.equal(result?.status, 'succeeded', JSON.stringify(result?.error));
  // Our MCP server is attached while the session is created, not after (one round trip off the turn's start).
  assert.ok(
    setup.indexOf('mcp.add asked') >= 0 && setup.indexOf('mcp.add asked') < setup.indexOf('session.create answered'),
    setup.join(' → '),
  );
  const events = await runs.transcript(r.runId);

  // The transcript stays well formed with the injected progress event: unique keys, strictly increasing seq.
  assert.equal(new Set(events.map((e) => e.key)).size, events.length);
  for (let i = 1; i < events.length; i++) assert.ok(events[i]!.seq > events[i - 1]!.seq, `seq increases at ${i}`);
  assert.equal(events[events.length - 1]!.kind, 'finished');
  assert.equal(result?.lastSeq, events[events.length - 1]!.seq, "the turn's lastSeq counts the injected events");

  const progress = events.filter((e) => e.kind === 'progress');
  assert.deepEqual(
    progress.map((e) => e.kind === 'progress' && [e.message, e.percent]),
    [['looking at the lexer', 10]],
  );
  assert.ok(activity.includes('looking at the lexer (10%)'), `progress shown as current activity: ${JSON.stringify(activity)}`);

  const finalCall = (suffix: string) =>
    events
      .filter(
        (e): e is ToolCall => e.kind === 'tool_call' && e.toolName.endsWith(suffix) && e.status !== 'pending' && e.status !== 'in_progress',
      )
      .pop();
  const claim = finalCall('claim_lease');
  assert.ok(
    claim,
    `a claim_lease tool call is in the transcript: ${events.filter((e) => e.kind === 'tool_call').map((e) => (e as ToolCall).toolName)}`,
  );
  assert.match(claim.toolName, /^orchestrator_claim_lease$/);
  assert.match(claim.output ?? '', /src\/lexer\/tokens\.ts is held by task t2 "Write the lexer"/);
  assert.equal(JSON.stringify(store.read().leases), leasesBefore, 'the refused claim changed no lease');

  const budget = finalCall('budget');
  assert.ok(budget);
  // Transcripts pass the redactor, which masks `"tokens": N` (a "token" assignment); the numbers themselves are
  // checked against the session in mcpServer.test.ts. Here: the call reached our budget tool and answered.
  assert.match(budget.output ?? '', /"remaining"/);
  assert.match(budget.output ?? '', /"wallMs": null/);
  assert.ok(store.read().sessions.some((s) => s.id === 's1'));
  // The model got the refusal back and said so.
  assert.match(result?.summary ?? '', /held by task t2/);
  // The run's bearer token is in no transcript entry and no log line.
  const tokenish = /tok[0-9a-z]{20,}/;
  assert.ok(!events.some((e) => tokenish.test(JSON.stringify(e))), 'no token in the transcript');
  assert.ok(!logged.some((l) => tokenish.test(l)), 'no token in the logs');
});
