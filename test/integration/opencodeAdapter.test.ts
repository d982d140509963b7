/**
 * The OpenCode adapter against the real `opencode` binary, real temp git repos, and the scripted model
 * server (the only fake). Every wait is bounded by the adapter's deadlines or the test timeouts.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { TestOpencodeAdapter as OpencodeAdapter } from './opencodeTestAdapter';
import { JsonlTranscripts } from '../../server/src/adapters/fs/jsonlTranscript';
import { RealPathResolver } from '../../server/src/adapters/fs/realPathResolver';
import { GitWorkspace } from '../../server/src/adapters/git/git';
import { LowdbStore } from '../../server/src/adapters/lowdb/lowdbStore';
import { startScriptedModel, type ScriptedModel } from '../../server/src/adapters/scriptedModel/scriptedModel';
import type { AgentEvent } from '../../server/src/domain/agentEvent';
import { AgentError, type PromptRequest, type TurnResult } from '../../server/src/ports/agentRuntime';
import { RunService } from '../../server/src/services/runService';

let tmp: string;
let model: ScriptedModel;
let adapter: OpencodeAdapter;
let deadPort: number;
const logLines: string[] = [];
const debug = (l: string) => {
  logLines.push(l);
  if (process.env.OC_DEBUG) console.log(l);
};

function makeRepo(name: string, files: Record<string, string> = {}): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  for (const [f, c] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), c);
  const git = (...a: string[]) => execFileSync('git', a, { cwd: dir, stdio: 'ignore' });
  git('init', '-q');
  git('add', '-A');
  git('-c', 'user.email=t@example.invalid', '-c', 'user.name=test', 'commit', '--allow-empty', '-qm', 'init');
  return dir;
}

/** A port nothing listens on: bind, read the port, close. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

interface Run {
  result: TurnResult;
  events: AgentEvent[];
  ms: number;
}

async function run(req: PromptRequest, onEvent?: (e: AgentEvent, all: AgentEvent[]) => void, on = adapter): Promise<Run> {
  const events: AgentEvent[] = [];
  const t0 = Date.now();
  const result = await on.prompt(req, (e) => {
    events.push(e);
    onEvent?.(e, events);
  });
  return { result, events, ms: Date.now() - t0 };
}

const tools = (events: AgentEvent[]) => events.filter((e): e is Extract<AgentEvent, { kind: 'tool_call' }> => e.kind === 'tool_call');
const assistantText = (events: AgentEvent[]) =>
  events
    .filter((e): e is Extract<AgentEvent, { kind: 'message_chunk' }> => e.kind === 'message_chunk' && e.role === 'assistant')
    .map((e) => e.text)
    .join('');

function assertWellFormed(events: AgentEvent[]): void {
  const keys = new Set(events.map((e) => e.key));
  assert.equal(keys.size, events.length, 'no duplicate keys');
  for (let i = 1; i < events.length; i++) assert.ok(events[i].seq > events[i - 1].seq, 'seq increases');
  assert.equal(events.filter((e) => e.kind === 'finished').length, 1, 'exactly one finished event');
  assert.equal(events[events.length - 1].kind, 'finished', 'finished comes last');
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oc-adapter-'));
  model = await startScriptedModel();
  deadPort = await closedPort();
  adapter = new OpencodeAdapter({
    dataDir: path.join(tmp, 'data'),
    models: {
      providers: [
        { id: 'scripted', baseURL: model.url, models: { scripted: {} } },
        { id: 'dead', baseURL: `http://127.0.0.1:${deadPort}/v1`, models: { m: {} } },
      ],
      defaultModel: 'scripted/scripted',
    },
    timeouts: { idleMs: 30_000, turnMs: 90_000 },
    restartBackoffMs: { initial: 200, max: 2000 },
    log: debug,
  });
  const t0 = Date.now();
  await adapter.start();
  console.log(`opencode serve ready in ${Date.now() - t0} ms (pid ${adapter.serverPid})`);
});

after(async () => {
  await adapter?.dispose();
  await model?.close();
  if (tmp && !process.env.OC_KEEP) fs.rmSync(tmp, { recursive: true, force: true });
});

test('bad input is refused with a clear error and starts nothing', async () => {
  const fresh = new OpencodeAdapter({
    dataDir: path.join(tmp, 'unused'),
    models: { providers: [{ id: 'scripted', baseURL: model.url, models: { scripted: {} } }], defaultModel: 'scripted/scripted' },
  });
  const repo = makeRepo('bad-input');
  const before = model.requests.length;
  const cases: [Partial<PromptRequest>, RegExp][] = [
    [{ runId: 'b', prompt: 'x' }, /cwd: is required/],
    [{ runId: 'b', cwd: 'relative/dir', prompt: 'x' }, /cwd: must be an absolute path/],
    [{ runId: 'b', cwd: path.join(tmp, 'does-not-exist'), prompt: 'x' }, /cwd: does not exist/],
    [{ runId: 'b', cwd: repo, prompt: '   ' }, /prompt: must be non-empty/],
    [{ runId: 'b', cwd: repo, prompt: 'x', model: 'nope/unknown' }, /model: unknown model "nope\/unknown"; configured: scripted\/scripted/],
    [{ runId: '', cwd: repo, prompt: 'x' }, /runId/],
  ];
  for (const on of [fresh, adapter]) {
    for (const [req, msg] of cases) {
      const events: AgentEvent[] = [];
      await assert.rejects(
        on.prompt(req as PromptRequest, (e) => events.push(e)),
        (e: unknown) => AgentError.is(e, 'bad_input') && msg.test(e.message),
      );
      assert.equal(events.length, 0);
    }
  }
  assert.equal(fresh.serverPid, undefined, 'no server was started by a refused prompt');
  assert.equal(model.requests.length, before, 'the model was never called');
  assert.throws(
    () => new OpencodeAdapter({ dataDir: tmp, models: { providers: [], defaultModel: 'x/y' } }),
    (e: unknown) => AgentError.is(e, 'bad_input'),
  );
  await fresh.dispose();
});

test('write: the file is created; tool call statuses, usage, diff and finish are reported', async () => {
  const repo = makeRepo('write');
  const { result, events, ms } = await run({ runId: 'write', cwd: repo, prompt: '[[script:write_file hello.txt]] Hello world' });
  console.log(`write turn (first prompt in a fresh repo): ${ms} ms`);
  assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
  assert.equal(result.stopReason, 'end_turn');
  assert.equal(fs.readFileSync(path.join(repo, 'hello.txt'), 'utf8'), 'Hello world\n');
  const write = tools(events).filter((t) => t.toolName === 'write');
  assert.deepEqual(
    write.map((t) => t.status),
    ['pending', 'in_progress', 'completed'],
  );
  assert.deepEqual(write[2].locations, [{ path: path.join(repo, 'hello.txt') }]);
  assert.match(write[2].output ?? '', /Wrote file successfully/);
  assert.ok(events.some((e) => e.kind === 'usage' && e.inputTokens > 0));
  assert.ok(result.usage.inputTokens > 0 && result.usage.outputTokens > 0);
  assert.match(result.summary, /Wrote hello\.txt/);
  assert.equal(assistantText(events), result.summary);
  assert.deepEqual(
    result.diff.map((d) => [d.path, d.status, d.additions]),
    [['hello.txt', 'added', 1]],
  );
  assert.match(result.diff[0].patch ?? '', /\+Hello world/);
  assertWellFormed(events);
  const second = await run({ runId: 'write', cwd: repo, prompt: '[[script:write_file second.txt]] again' });
  console.log(`write turn (same task, warm): ${second.ms} ms`);
  assert.equal(second.result.status, 'succeeded');
  assert.ok(second.events[0].seq > events[events.length - 1].seq, 'seq continues across turns of a task');
  assert.deepEqual(
    second.result.diff.map((d) => d.path),
    ['second.txt'],
    'diff is per turn',
  );
});

test('read + edit and bash change the repo as asked', async () => {
  const repo = makeRepo('edit', { 'greeting.txt': 'Hello old world\n' });
  const edit = await run({ runId: 'edit', cwd: repo, prompt: '[[script:edit_file greeting.txt old new]]' });
  assert.equal(edit.result.status, 'succeeded', JSON.stringify(edit.result.error));
  assert.equal(fs.readFileSync(path.join(repo, 'greeting.txt'), 'utf8'), 'Hello new world\n');
  const names = tools(edit.events)
    .filter((t) => t.status === 'completed')
    .map((t) => t.toolName);
  assert.deepEqual(names, ['read', 'edit']);
  assert.deepEqual(
    edit.result.diff.map((d) => [d.path, d.status]),
    [['greeting.txt', 'modified']],
  );
  assertWellFormed(edit.events);

  const bash = await run({ runId: 'edit', cwd: repo, prompt: '[[script:bash]] echo from-bash > bash-out.txt && echo printed' });
  assert.equal(bash.result.status, 'succeeded', JSON.stringify(bash.result.error));
  assert.equal(fs.readFileSync(path.join(repo, 'bash-out.txt'), 'utf8'), 'from-bash\n');
  const b = tools(bash.events).filter((t) => t.toolName === 'bash');
  assert.deepEqual(
    b.map((t) => t.status),
    ['pending', 'in_progress', 'completed'],
  );
  assert.match(b[2].output ?? '', /printed/);
  assertWellFormed(bash.events);
  console.log(`edit turn ${edit.ms} ms, bash turn ${bash.ms} ms`);
});

test('two tasks in two repos run in parallel on one server', async () => {
  const single = makeRepo('single');
  const s = await run({ runId: 'single', cwd: single, prompt: '[[script:slow_write s.txt 40]] single' });
  assert.equal(s.result.status, 'succeeded');
  const [a, b] = [makeRepo('par-a'), makeRepo('par-b')];
  const t0 = Date.now();
  const [ra, rb] = await Promise.all([
    run({ runId: 'par-a', cwd: a, prompt: '[[script:slow_write a.txt 40]] from A' }),
    run({ runId: 'par-b', cwd: b, prompt: '[[script:slow_write b.txt 40]] from B' }),
  ]);
  const wall = Date.now() - t0;
  console.log(`parallel: wall ${wall} ms for two turns (${ra.ms} ms, ${rb.ms} ms); a single turn took ${s.ms} ms`);
  assert.equal(ra.result.status, 'succeeded');
  assert.equal(rb.result.status, 'succeeded');
  assert.equal(fs.readFileSync(path.join(a, 'a.txt'), 'utf8'), 'from A\n');
  assert.equal(fs.readFileSync(path.join(b, 'b.txt'), 'utf8'), 'from B\n');
  assert.ok(!fs.existsSync(path.join(a, 'b.txt')) && !fs.existsSync(path.join(b, 'a.txt')), 'each write landed in its own repo');
  assert.ok(wall < ra.ms + rb.ms, 'they overlapped');
});

test('abort mid-stream: cancelled within 2 s, partial output kept', async () => {
  const repo = makeRepo('abort');
  const ac = new AbortController();
  let cancelAt = 0;
  const { result, events } = await run({ runId: 'abort', cwd: repo, prompt: '[[script:slow 60 250]]', signal: ac.signal }, (e, all) => {
    if (!cancelAt && all.filter((x) => x.kind === 'message_chunk' && x.role === 'assistant').length >= 3) {
      cancelAt = Date.now();
      ac.abort();
    }
  });
  const took = Date.now() - cancelAt;
  console.log(`abort: settled ${took} ms after cancel`);
  assert.ok(cancelAt > 0, 'streaming started');
  assert.equal(result.status, 'cancelled');
  assert.equal(result.stopReason, 'cancelled');
  assert.ok(took < 2000, `cancelled in ${took} ms`);
  assert.match(result.summary, /^tick 0 tick 1 tick 2 /, 'partial text kept');
  assert.ok(!result.summary.includes('tick 59'));
  assert.equal(
    events[events.length - 1].kind === 'finished' && events[events.length - 1],
    events.find((e) => e.kind === 'finished'),
  );
  assertWellFormed(events);
  // The session stays usable: a new turn on the same task works.
  const next = await run({ runId: 'abort', cwd: repo, prompt: '[[script:text]] after abort' });
  assert.equal(next.result.status, 'succeeded');
  assert.equal(next.result.summary, 'after abort');
});

test('permissions are answered by the policy: allow runs the tool, deny blocks it', async () => {
  const repo = makeRepo('perm');
  const asked: string[] = [];
  const allow = await run({
    runId: 'perm-allow',
    cwd: repo,
    prompt: '[[script:bash]] echo allowed > allowed.txt',
    permissionPolicy: async (req) => {
      asked.push(`${req.permission}:${req.patterns.join(',')}`);
      return 'allow';
    },
  });
  assert.equal(allow.result.status, 'succeeded', JSON.stringify(allow.result.error));
  assert.deepEqual(asked, ['bash:echo allowed > allowed.txt']);
  assert.equal(fs.readFileSync(path.join(repo, 'allowed.txt'), 'utf8'), 'allowed\n');
  const pr = allow.events.find((e) => e.kind === 'permission_request');
  assert.ok(pr && pr.kind === 'permission_request' && pr.permission === 'bash' && pr.toolCallId);
  assert.ok(allow.events.some((e) => e.kind === 'permission_decision' && e.decision === 'allow' && e.by === 'policy'));

  const deny = await run({
    runId: 'perm-deny',
    cwd: repo,
    prompt: '[[script:bash]] echo denied > denied.txt',
    permissionPolicy: async () => 'deny',
  });
  console.log(`deny: status ${deny.result.status}, error ${JSON.stringify(deny.result.error)}`);
  assert.ok(!fs.existsSync(path.join(repo, 'denied.txt')), 'the denied command did not run');
  assert.ok(deny.events.some((e) => e.kind === 'permission_decision' && e.decision === 'deny'));
  assert.deepEqual(
    tools(deny.events)
      .filter((t) => t.toolName === 'bash')
      .pop()?.status,
    'failed',
  );
  assert.notEqual(deny.result.status, 'failed', 'a denial is not an agent failure');
  assertWellFormed(deny.events);

  const slow = await run({
    runId: 'perm-timeout',
    cwd: repo,
    prompt: '[[script:bash]] echo late > late.txt',
    timeouts: { permissionMs: 500 },
    permissionPolicy: () => new Promise((r) => setTimeout(() => r('allow'), 5000)),
  });
  assert.ok(!fs.existsSync(path.join(repo, 'late.txt')), 'a policy past its deadline counts as deny');
  assert.ok(slow.events.some((e) => e.kind === 'permission_decision' && e.decision === 'deny' && e.by === 'timeout'));
});

test('model endpoint down: unreachable within our deadline, retries visible live', async () => {
  const repo = makeRepo('dead');
  // Boot the directory in OpenCode first (its first prompt in a repo spends seconds on snapshots), so the
  // measured time is about the model endpoint only.
  assert.equal((await run({ runId: 'dead-warm', cwd: repo, prompt: '[[script:text]] warm' })).result.status, 'succeeded');
  const { result, events, ms } = await run({
    runId: 'dead',
    cwd: repo,
    prompt: 'hello',
    model: 'dead/m',
    timeouts: { unreachableMs: 3000 },
  });
  console.log(`unreachable after ${ms} ms (deadline 3000 ms): ${result.error?.message}`);
  assert.equal(result.status, 'failed');
  assert.equal(result.error?.reason, 'unreachable');
  // Slack for a loaded 2-core machine; what matters is that our deadline, not OpenCode's ~68 s, ends it.
  assert.ok(ms >= 2900 && ms < 3000 + 8000, `settled in ${ms} ms`);
  assert.ok(
    events.some((e) => e.kind === 'retry' && e.attempt >= 1 && e.nextAt),
    'retry events were surfaced',
  );
  assert.ok(events.some((e) => e.kind === 'error' && e.reason === 'unreachable'));
  assertWellFormed(events);
});

test('idle deadline: a model that never answers fails the turn with timeout', async () => {
  const repo = makeRepo('idle');
  assert.equal((await run({ runId: 'idle-warm', cwd: repo, prompt: '[[script:text]] warm' })).result.status, 'succeeded');
  const { result, ms } = await run({ runId: 'idle', cwd: repo, prompt: '[[script:hang]]', timeouts: { idleMs: 2000 } });
  console.log(`idle timeout after ${ms} ms (idle deadline 2000 ms)`);
  assert.equal(result.status, 'failed');
  assert.equal(result.error?.reason, 'timeout');
  // Slack for a loaded 2-core machine (5.2 s seen at load 11); a hang would be OpenCode's minutes.
  assert.ok(ms < 2000 + 8000, `settled in ${ms} ms`);
  assert.ok(
    model.requests.some((r) => r.script === 'hang' && r.clientClosed),
    'the hanging model request was abandoned (session aborted)',
  );
});

test('SSE stream cut mid-turn: reconnected and resynced with no lost and no duplicated events', async () => {
  const repo = makeRepo('sse');
  const before = adapter.eventStreamReconnects;
  const logFrom = logLines.length;
  let dropped = 0;
  const { result, events } = await run(
    { runId: 'sse', cwd: repo, prompt: '[[script:slow_write cut.txt 120]] written while the stream was cut' },
    (e) => {
      // Cut once while the tool call streams, and once while the final text streams, each for 700 ms so
      // events are really missed and must come back from the messages API.
      if (dropped === 0 && e.kind === 'tool_call' && e.status === 'pending') {
        dropped++;
        adapter.dropEventStream(700);
      } else if (dropped === 1 && e.kind === 'message_chunk' && e.role === 'assistant' && e.text.startsWith('Wrote')) {
        dropped++;
        adapter.dropEventStream(700);
      }
    },
  );
  assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
  assert.equal(dropped, 2);
  assert.ok(adapter.eventStreamReconnects >= before + 2, 'the stream reconnected');
  const filled = logLines
    .slice(logFrom)
    .map((l) => /resync of \S+: (\d+) event/.exec(l)?.[1])
    .filter(Boolean)
    .map(Number);
  console.log(`SSE cut: resyncs filled ${JSON.stringify(filled)} event(s); ${events.length} events in total`);
  assert.ok(filled.length >= 2 && filled.some((n) => n > 0), 'resync filled missed events');
  assert.equal(fs.readFileSync(path.join(repo, 'cut.txt'), 'utf8'), 'written while the stream was cut\n');
  assert.equal(assistantText(events), result.summary, 'assistant text complete and not repeated');
  const write = tools(events).filter((t) => t.toolName === 'write');
  assert.equal(write.filter((t) => t.status === 'completed').length, 1);
  assert.equal(events.filter((e) => e.kind === 'usage').length, 2, 'one usage event per step');
  assertWellFormed(events);
});

test('cancel at any moment, then a new run in the same folder at once: the new run works', async () => {
  const repo = makeRepo('cancel-then-run');
  const outcomes: string[] = [];
  for (const [i, delayMs] of [0, 50, 200, 600, 1500].entries()) {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), delayMs);
    const first = await run({ runId: `cancelled-${i}`, cwd: repo, prompt: '[[script:slow_write w.txt 700]] written', signal: ac.signal });
    const next = await run({ runId: `after-${i}`, cwd: repo, prompt: '[[script:text]] after cancel' });
    outcomes.push(`${delayMs} ms: ${first.result.status} then ${next.result.status} ${next.result.error?.message ?? ''}`);
  }
  console.log(outcomes.join('\n'));
  assert.deepEqual(
    outcomes.filter((o) => !/then succeeded/.test(o)),
    [],
    'every run after a cancel succeeds',
  );
});

test('a task keeps its state between turns until released; released during a turn, it is dropped when the turn ends', async () => {
  const repo = makeRepo('release');
  const first = await run({ runId: 'rel', cwd: repo, prompt: '[[script:text]] one' });
  assert.equal(first.result.status, 'succeeded');
  assert.ok(adapter.heldTasks.includes('rel'), 'kept for a follow-up turn');
  let heldWhileRunning: boolean | undefined;
  const second = await run({ runId: 'rel', cwd: repo, prompt: '[[script:slow 6 100]]' }, (e) => {
    if (heldWhileRunning === undefined && e.kind === 'message_chunk' && e.role === 'assistant') {
      adapter.release('rel');
      heldWhileRunning = adapter.heldTasks.includes('rel');
    }
  });
  assert.equal(second.result.status, 'succeeded');
  assert.equal(second.result.agentSessionId, first.result.agentSessionId, 'the follow-up continued the same agent session');
  assert.equal(heldWhileRunning, true, 'a running turn is not cut off by a release');
  assert.ok(!adapter.heldTasks.includes('rel'), 'dropped once the turn ended');
  const fresh = await run({ runId: 'rel', cwd: repo, prompt: '[[script:text]] three' });
  assert.notEqual(fresh.result.agentSessionId, first.result.agentSessionId, 'a released task starts afresh');
  adapter.release('rel');
});

test('finished runs leave the adapter: 200 runs released as the run service releases them, state held for none', async () => {
  const repo = makeRepo('many');
  const held = () => adapter.heldTasks.filter((id) => id.startsWith('many-'));
  // Complete turns through OpenCode and the scripted model cost 1–2 s each on a loaded machine, so 10 of
  // the 200 runs are complete turns; the other 190 take the cheapest real path through the adapter: a run
  // whose cancel arrived before it started (its state is created, the turn ends `cancelled` at once).
  const complete = 10;
  const states: Record<string, number> = {};
  const t0 = Date.now();
  for (let i = 0; i < 200; i++) {
    const taskId = `many-${i}`;
    const ac = new AbortController();
    if (i >= complete) ac.abort();
    let heldWhileRunning = false;
    const { result } = await run({ runId: taskId, cwd: repo, prompt: `[[script:text]] run ${i}`, signal: ac.signal }, () => {
      heldWhileRunning ||= held().includes(taskId);
    });
    states[result.status] = (states[result.status] ?? 0) + 1;
    assert.ok(heldWhileRunning, `run ${i} had its state while it ran`);
    adapter.release(taskId);
    assert.deepEqual(held(), [], `after run ${i + 1} the adapter holds no finished run`);
  }
  console.log(`200 runs in ${Date.now() - t0} ms: ${JSON.stringify(states)}`);
  assert.deepEqual(states, { succeeded: complete, cancelled: 200 - complete });
});

test('the run service releases every run it finished: none of its runs is held by the adapter', async () => {
  const repo = makeRepo('service');
  const quiet = { error() {}, warn() {}, info() {}, debug() {} };
  const store = new LowdbStore(path.join(tmp, 'service-store.json'), quiet);
  await store.load();
  let n = 0;
  const runs = new RunService({
    store,
    transcripts: new JsonlTranscripts(path.join(tmp, 'service-transcripts'), quiet),
    workspace: new GitWorkspace(),
    runtime: () => adapter,
    checkModel: () => undefined,
    defaultModel: (a) => (a === 'opencode' ? 'scripted/scripted' : undefined),
    publish: () => undefined,
    askUser: async () => 'deny',
    paths: new RealPathResolver(),
    newId: () => `svc-${++n}`,
    now: () => new Date(),
    logger: quiet,
  });
  const held = () => adapter.heldTasks.filter((id) => id.startsWith('svc-'));
  const states: string[] = [];
  // Complete turns, and turns cancelled as soon as they started (agent session created, prompt aborted).
  for (let i = 0; i < 8; i++) {
    const r = await runs.start({ agent: 'opencode', cwd: repo, prompt: i % 2 ? '[[script:slow 50 100]]' : `[[script:text]] run ${i}` });
    assert.ok(held().includes(r.runId), 'a running run has its state in the adapter');
    if (i % 2) void runs.cancel(r.runId);
    states.push((await r.done)?.status ?? 'none');
    assert.deepEqual(held(), [], `after run ${i + 1} the adapter holds none of the service's runs`);
  }
  assert.deepEqual(states, ['succeeded', 'cancelled', 'succeeded', 'cancelled', 'succeeded', 'cancelled', 'succeeded', 'cancelled']);
  assert.equal(runs.list(100).length, 8, 'every run was recorded');
  // A run that names no model records the agent's default, so the dashboard and datasets show what ran.
  assert.deepEqual([...new Set(runs.list(100).map((r) => r.model))], ['scripted/scripted']);
});
