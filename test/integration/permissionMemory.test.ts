/**
 * "Always for this session" against the real server process, the real OpenCode binary and the scripted model:
 * the client answers one ask with `remember`, the very same command later in the session (in the same task and
 * in another task) is allowed without asking and the transcript says "remembered for this session"; a
 * different command is asked again, and so is the same command after `cd` or repeated in one line (OpenCode
 * reports the same patterns for those; the whole line differs); another session, and another single run, ask again. An ask nobody answers
 * is denied at the server's deadline and the transcript says so.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AgentEvent } from '../../protocol/agentEvent';
import {
  permissionRequest,
  runGet,
  runStart,
  runTranscript,
  type PermissionAnswer,
  type PermissionAsk,
  type RunView,
} from '../../protocol/run';
import { sessionStart } from '../../protocol/session';
import { startServer, tempDir, type ServerHandle } from './serverProcess';
import { ended, sampleRepo, task, waitSession } from './sessionHelpers';

let server: ServerHandle;
const asks: PermissionAsk[] = [];
/** `answer`: 'always' for `uname -s`, deny for anything else; `silent`: never answers. */
let mode: 'answer' | 'silent' = 'answer';
const remembered = 'uname -s';

before(async () => {
  server = await startServer(tempDir());
  server.connection.onRequest(permissionRequest.method, async (ask: PermissionAsk): Promise<PermissionAnswer> => {
    asks.push(ask);
    if (mode === 'silent') return new Promise<never>(() => undefined);
    if (ask.patterns.join(' ') === remembered && ask.rememberScope) return { decision: 'allow', remember: ask.rememberScope };
    return { decision: 'deny' };
  });
});
after(async () => {
  await server?.stop();
});

type Decision = Extract<AgentEvent, { kind: 'permission_decision' }>;
type Request = Extract<AgentEvent, { kind: 'permission_request' }>;

/** Each bash permission request of a run with its decision, in order. */
async function bashDecisions(runId: string): Promise<{ command: string; decision: string; note?: string }[]> {
  const { events } = await server.request(runTranscript, { runId });
  const requests = events.filter((e): e is Request & AgentEvent => e.kind === 'permission_request' && e.permission === 'bash');
  return requests.map((r) => {
    const d = events.find((e): e is Decision & AgentEvent => e.kind === 'permission_decision' && e.id === r.id);
    return { command: (r.patterns ?? []).join(' '), decision: d?.decision ?? 'none', note: d?.note };
  });
}

async function toolOutputs(runId: string): Promise<string[]> {
  const { events } = await server.request(runTranscript, { runId });
  return events.flatMap((e) => (e.kind === 'tool_call' && e.toolName === 'bash' && e.status === 'completed' ? [e.output ?? ''] : []));
}

async function finished(runId: string, ms = 120_000): Promise<RunView> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const r = await server.request(runGet, { runId });
    if (!['pending', 'running'].includes(r.state)) return r;
    await new Promise((res) => setTimeout(res, 250));
  }
  throw new Error(`run ${runId} did not finish within ${ms} ms`);
}

async function runSession(goal: string) {
  const started = await server.request(sessionStart, { goal, cwd: sampleRepo(), approve: true });
  return waitSession(server, started.id, ended);
}

describe('always for this session (real OpenCode, scripted model)', () => {
  let firstSession = '';

  test('asked once, answered always: the same command again and in the next task runs without asking; another command asks', async () => {
    asks.length = 0;
    const goal = [
      `- [a] Probe {mode: read}: [[script:bash_seq]] ${remembered} ;; ${remembered} ;; uname -m`,
      `- [b] Probe again (after: a) {mode: read}: [[script:bash_seq]] ${remembered}`,
    ].join('\n');
    const done = await runSession(goal);
    firstSession = done.id;
    const a = task(done, 'a');
    const b = task(done, 'b');
    assert.deepEqual(
      asks.map((x) => x.patterns.join(' ')),
      [remembered, 'uname -m'],
      'the user is asked for the first `uname -s` and for `uname -m` only',
    );
    assert.equal(asks[0].rememberScope, 'session');
    assert.equal(asks[0].sessionId, done.id);
    assert.equal(asks[0].taskId, a.id);
    assert.ok(asks[0].deadlineMs && asks[0].deadlineMs > 0, 'the ask says when the server gives up');

    assert.deepEqual(await bashDecisions(a.runId!), [
      { command: remembered, decision: 'allow', note: 'allowed by the user for this session' },
      { command: remembered, decision: 'allow', note: 'remembered for this session' },
      { command: 'uname -m', decision: 'deny', note: 'denied by the user' },
    ]);
    assert.deepEqual(await bashDecisions(b.runId!), [{ command: remembered, decision: 'allow', note: 'remembered for this session' }]);
    const outputs = [...(await toolOutputs(a.runId!)), ...(await toolOutputs(b.runId!))];
    assert.equal(outputs.filter((o) => /Linux/.test(o)).length, 3, `the allowed command ran three times: ${JSON.stringify(outputs)}`);
  });

  test('another session asks again', async () => {
    asks.length = 0;
    const done = await runSession(`- [c] Probe {mode: read}: [[script:bash_seq]] ${remembered}`);
    assert.notEqual(done.id, firstSession);
    assert.deepEqual(
      asks.map((x) => [x.patterns.join(' '), x.sessionId]),
      [[remembered, done.id]],
    );
    assert.deepEqual(await bashDecisions(task(done, 'c').runId!), [
      { command: remembered, decision: 'allow', note: 'allowed by the user for this session' },
    ]);
  });

  test('a single run remembers for itself only; the next run asks again', async () => {
    asks.length = 0;
    const cwd = sampleRepo();
    const first = await server.request(runStart, { agent: 'opencode', cwd, prompt: `[[script:bash_seq]] ${remembered} ;; ${remembered}` });
    await finished(first.runId);
    assert.equal(asks.length, 1);
    assert.equal(asks[0].rememberScope, 'run');
    assert.deepEqual(
      (await bashDecisions(first.runId)).map((d) => d.note),
      ['allowed by the user for this run', 'remembered for this run'],
    );
    const second = await server.request(runStart, { agent: 'opencode', cwd, prompt: `[[script:bash_seq]] ${remembered}` });
    await finished(second.runId);
    assert.equal(asks.length, 2, 'the next run asked again');
  });

  test('a remembered command does not cover it after `cd`, or repeated in one line: OpenCode reports the same patterns, the line differs', async () => {
    asks.length = 0;
    const cwd = sampleRepo();
    mkdirSync(path.join(cwd, 'sub'));
    const variants = [`cd sub && ${remembered}`, `${remembered}; ${remembered}`];
    const { runId } = await server.request(runStart, {
      agent: 'opencode',
      cwd,
      prompt: `[[script:bash_seq]] ${remembered} ;; ${variants.join(' ;; ')} ;; ${remembered}`,
    });
    await finished(runId);
    assert.deepEqual(
      asks.map((a) => [a.patterns, a.commandLine]),
      [[[remembered], remembered], ...variants.map((v) => [[remembered], v])],
      'each variant is asked, and the ask shows its whole line',
    );
    assert.deepEqual(
      (await bashDecisions(runId)).map((d) => d.note),
      [
        'allowed by the user for this run',
        'allowed by the user for this run',
        'allowed by the user for this run',
        'remembered for this run',
      ],
    );
  });

  test('an ask nobody answers is denied at the deadline, and the transcript says so', async () => {
    asks.length = 0;
    mode = 'silent';
    try {
      const { runId } = await server.request(runStart, {
        agent: 'opencode',
        cwd: sampleRepo(),
        prompt: `[[script:bash_seq]] ${remembered}`,
        timeouts: { permissionMs: 4000 },
      });
      const view = await finished(runId, 60_000);
      assert.equal(asks.length, 1);
      assert.equal(asks[0].deadlineMs, 3000);
      const [d] = await bashDecisions(runId);
      assert.equal(d.decision, 'deny');
      assert.equal(d.note, 'no answer within 3 s: denied');
      assert.match(view.denied?.map((x) => x.reason).join(' ') ?? '', /no answer within 3 s/);
    } finally {
      mode = 'answer';
    }
  });
});
