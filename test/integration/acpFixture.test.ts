/**
 * The ACP adapter against the project's fixture ACP agent (test/fixtures/acp/fixtureAgent.mjs, a real process
 * speaking ACP over stdio through the SDK's agent side), real temp git repos and the real permission policy.
 * Each test drives one protocol edge; every wait is bounded by the adapter's deadlines.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { AcpAdapter, type AcpAdapterOptions } from '../../server/src/adapters/acp/acpAdapter';
import { parseAgentDescriptor, type AgentDescriptor } from '../../server/src/domain/agentDescriptor';
import type { AgentEvent } from '../../server/src/domain/agentEvent';
import { decidePermission, defaultAllowedCommands } from '../../server/src/domain/permissionPolicy';
import { BubblewrapSandbox, detectBubblewrap } from '../../server/src/adapters/sandbox/bubblewrap';
import { AgentError, type PermissionPolicy, type PromptRequest, type TurnResult } from '../../server/src/ports/agentRuntime';

const fixture = path.resolve(__dirname, '../fixtures/acp/fixtureAgent.mjs');
let tmp: string;
const adapters: AcpAdapter[] = [];

function makeRepo(name: string): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'README.md'), '# repo\n');
  const git = (...a: string[]) => execFileSync('git', a, { cwd: dir, stdio: 'ignore' });
  git('init', '-q');
  git('add', '-A');
  git('-c', 'user.email=t@example.invalid', '-c', 'user.name=test', 'commit', '-qm', 'init');
  return dir;
}

function descriptor(meta: Record<string, unknown> = {}): AgentDescriptor {
  return parseAgentDescriptor({
    id: 'fixture-agent',
    name: 'Fixture agent',
    version: '1.0.0',
    description: 'The project-owned ACP fixture agent',
    _meta: {
      orchestrator: {
        command: { path: process.execPath, args: [fixture] },
        env: { pass: ['FIXTURE_PROTOCOL_VERSION', 'FIXTURE_AUTH'] },
        ...meta,
      },
    },
  });
}

function adapter(o: Partial<AcpAdapterOptions> & { meta?: Record<string, unknown> } = {}): AcpAdapter {
  const a = new AcpAdapter({
    descriptor: descriptor(o.meta),
    dataDir: path.join(tmp, `data-${adapters.length}`),
    environment: { PATH: process.env.PATH, SECRET_TOKEN: 'must-not-leak', ...o.environment },
    timeouts: { idleMs: 10_000, turnMs: 30_000, permissionMs: 5_000 },
    startTimeoutMs: 20_000,
    cancelGraceMs: 1_000,
    ...o,
  });
  adapters.push(a);
  return a;
}

/** The real policy; `ask` becomes deny (nobody is there to answer). */
const policy: PermissionPolicy = async (req) => {
  const v = decidePermission(
    { permission: req.permission, patterns: req.patterns, cwd: req.cwd },
    { allowedCommands: defaultAllowedCommands },
  );
  return v.decision === 'allow' ? 'allow' : 'deny';
};

async function run(a: AcpAdapter, req: Partial<PromptRequest> & { cwd: string; prompt: string }) {
  const events: AgentEvent[] = [];
  const t0 = Date.now();
  const result = await a.prompt({ runId: 'task', permissionPolicy: policy, ...req }, (e) => events.push(e));
  return { result, events, ms: Date.now() - t0 };
}

function assertWellFormed(events: AgentEvent[], result: TurnResult): void {
  assert.equal(new Set(events.map((e) => e.key)).size, events.length, 'no duplicate keys');
  for (let i = 1; i < events.length; i++) assert.ok(events[i].seq > events[i - 1].seq, 'seq increases');
  assert.equal(events.filter((e) => e.kind === 'finished').length, 1, 'exactly one finished event');
  assert.equal(events.at(-1)?.kind, 'finished');
  assert.equal(result.lastSeq, events.at(-1)?.seq);
}

const text = (events: AgentEvent[]) =>
  events
    .filter((e): e is Extract<AgentEvent, { kind: 'message_chunk' }> => e.kind === 'message_chunk' && e.role === 'assistant')
    .map((e) => e.text)
    .join('');
const alive = (pid: number | undefined) => {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'acp-fixture-'));
});

after(async () => {
  await Promise.all(adapters.map((a) => a.dispose()));
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('write: permission asked and allowed by the policy, file written through fs/write_text_file, diff reported', async () => {
  const a = adapter();
  const repo = makeRepo('write');
  const { result, events } = await run(a, { cwd: repo, prompt: 'WRITE notes/hello.txt hello from acp' });
  assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
  assert.equal(fs.readFileSync(path.join(repo, 'notes/hello.txt'), 'utf8'), 'hello from acp\n');
  const req = events.find((e) => e.kind === 'permission_request');
  assert.ok(req && req.kind === 'permission_request');
  assert.equal(req.permission, 'edit');
  assert.deepEqual(req.patterns, [path.join(repo, 'notes/hello.txt')]);
  assert.ok(events.some((e) => e.kind === 'permission_decision' && e.decision === 'allow' && e.by === 'policy'));
  const tools = events.filter((e) => e.kind === 'tool_call');
  assert.deepEqual(
    tools.map((t) => t.kind === 'tool_call' && t.status),
    ['pending', 'in_progress', 'completed'],
  );
  assert.deepEqual(
    result.diff.map((d) => [d.path, d.status, d.additions]),
    [['notes/hello.txt', 'added', 1]],
  );
  assert.match(result.summary, /wrote notes\/hello.txt/);
  assertWellFormed(events, result);
});

test('write denied by the policy (outside the worktree): nothing written, tool failed, decision recorded', async () => {
  const a = adapter();
  const repo = makeRepo('write-denied');
  const deny: PermissionPolicy = async () => 'deny';
  const { result, events } = await run(a, { cwd: repo, prompt: 'WRITE denied.txt nope', permissionPolicy: deny });
  assert.equal(result.status, 'succeeded');
  assert.equal(fs.existsSync(path.join(repo, 'denied.txt')), false);
  assert.ok(events.some((e) => e.kind === 'permission_decision' && e.decision === 'deny'));
  assert.ok(events.some((e) => e.kind === 'tool_call' && e.status === 'failed'));
  assert.match(text(events), /not written \(rejected\)/);
  assert.deepEqual(result.diff, []);
});

test('permission storm: 40 concurrent requests, each judged by the policy and answered once', async () => {
  const a = adapter();
  const repo = makeRepo('storm');
  const { result, events, ms } = await run(a, { cwd: repo, prompt: 'STORM 40' });
  assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
  // Odd requests run `ls -la` (allow-listed), even ones `rm -rf /` (not: denied).
  assert.match(result.summary, /allowed=20 rejected=20 cancelled=0/);
  const reqs = events.filter((e) => e.kind === 'permission_request');
  const decisions = events.filter((e) => e.kind === 'permission_decision');
  assert.equal(reqs.length, 40);
  assert.equal(decisions.length, 40);
  assert.equal(new Set(decisions.map((d) => d.kind === 'permission_decision' && d.id)).size, 40);
  assert.ok(reqs.every((r) => r.kind === 'permission_request' && r.permission === 'bash'));
  assertWellFormed(events, result);
  console.log(`storm of 40 permission requests answered in ${ms} ms`);
});

test('fs outside the worktree is refused and reported: absolute outside, "..", symlink escape, relative, .git', async () => {
  const a = adapter();
  const repo = makeRepo('fs-confine');
  const outside = path.join(tmp, 'outside');
  fs.mkdirSync(outside, { recursive: true });
  fs.writeFileSync(path.join(outside, 'secret.txt'), 'secret\n');
  fs.symlinkSync(outside, path.join(repo, 'link'));
  const cases = [
    ['write', path.join(outside, 'evil.txt')],
    ['write', `${repo}/../outside/evil2.txt`],
    ['write', path.join(repo, 'link', 'evil3.txt')],
    ['read', path.join(repo, 'link', 'secret.txt')],
    ['write', 'relative.txt'],
    ['write', path.join(repo, '.git', 'config')],
    ['read', '/etc/passwd'],
  ];
  for (const [op, p] of cases) {
    const { result, events } = await run(a, { cwd: repo, prompt: `FS ${op} ${p}` });
    assert.equal(result.status, 'succeeded', `${op} ${p}`);
    assert.match(result.summary, /^refused \(-32602\): .*refused by the orchestrator/, `${op} ${p}: ${result.summary}`);
    const decision = events.find((e) => e.kind === 'permission_decision');
    assert.ok(decision && decision.kind === 'permission_decision' && decision.decision === 'deny', `${op} ${p} reported`);
    const req = events.find((e) => e.kind === 'permission_request');
    assert.ok(req && req.kind === 'permission_request' && req.permission === (op === 'write' ? 'edit' : 'read'));
  }
  assert.deepEqual(fs.readdirSync(outside), ['secret.txt'], 'nothing was written outside');
  assert.doesNotMatch(fs.readFileSync(path.join(repo, '.git', 'config'), 'utf8'), /fixture was here/);
  // Inside the worktree reads and writes work (and a missing file is -32002 "not found").
  const ok = await run(a, { cwd: repo, prompt: `FS read ${path.join(repo, 'README.md')}` });
  assert.match(ok.result.summary, /read ok: "# repo\\n"/);
  const missing = await run(a, { cwd: repo, prompt: `FS read ${path.join(repo, 'nope.txt')}` });
  assert.match(missing.result.summary, /refused \(-32002\)/);
  const w = await run(a, { cwd: repo, prompt: `FS write ${path.join(repo, 'sub', 'in.txt')}` });
  assert.match(w.result.summary, /write ok/);
  assert.equal(fs.readFileSync(path.join(repo, 'sub', 'in.txt'), 'utf8'), 'fixture was here\n');
});

test('malformed updates and a garbage line are reported and skipped; the turn goes on', async () => {
  const a = adapter();
  const repo = makeRepo('malformed');
  const { result, events } = await run(a, { cwd: repo, prompt: 'MALFORMED' });
  assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
  assert.equal(result.summary, 'still here');
  const errors = events.filter((e) => e.kind === 'error');
  assert.equal(errors.length, 4, JSON.stringify(errors));
  assert.ok(errors.every((e) => e.kind === 'error' && /malformed session\/update/.test(e.message)));
  assertWellFormed(events, result);
});

test('a crash mid-prompt fails the turn as crashed with the stderr tail; the next prompt starts a new process', async () => {
  const a = adapter();
  const repo = makeRepo('crash');
  const { result, events } = await run(a, { cwd: repo, prompt: 'CRASH' });
  assert.equal(result.status, 'failed');
  assert.equal(result.error?.reason, 'crashed');
  assert.match(result.error?.message ?? '', /exited during the turn \(code 3/);
  assert.match(result.error?.stderrTail ?? '', /simulated crash in the middle of a prompt/);
  assert.match(result.summary, /about to crash/);
  assertWellFormed(events, result);
  const next = await run(a, { cwd: repo, prompt: 'ECHO back again' });
  assert.equal(next.result.status, 'succeeded');
  assert.equal(next.result.summary, 'back again');
  assert.ok(next.events[0].seq > events.at(-1)!.seq, 'seq continues across turns of the task');
});

test('a prompt that never ends: the idle watchdog fails it and kills the agent process', async () => {
  const a = adapter();
  const repo = makeRepo('hang');
  await run(a, { cwd: repo, prompt: 'ECHO warm' });
  const pid = a.pidOf('task');
  assert.ok(alive(pid));
  const { result, ms } = await run(a, { cwd: repo, prompt: 'HANG', timeouts: { idleMs: 1500 } });
  assert.equal(result.status, 'failed');
  assert.equal(result.error?.reason, 'timeout');
  assert.match(result.error?.message ?? '', /No activity from the agent for 1500 ms/);
  assert.ok(ms < 6000, `ended in ${ms} ms`);
  for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(alive(pid), false, 'the hung agent was killed');
});

test('the turn wall-clock limit ends a turn that keeps streaming', async () => {
  const a = adapter();
  const repo = makeRepo('wallclock');
  const { result, ms } = await run(a, { cwd: repo, prompt: 'SLOW 20000', timeouts: { turnMs: 1500 } });
  assert.equal(result.status, 'failed');
  assert.equal(result.error?.reason, 'timeout');
  assert.match(result.error?.message ?? '', /wall-clock limit of 1500 ms/);
  assert.ok(ms < 6000, `ended in ${ms} ms`);
  assert.match(result.summary, /tick 0/);
});

test('cancel: session/cancel honoured by the agent ends the turn as cancelled; the process is reused', async () => {
  const a = adapter();
  const repo = makeRepo('cancel');
  await run(a, { cwd: repo, prompt: 'ECHO warm' });
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 600);
  const { result, ms } = await run(a, { cwd: repo, prompt: 'SLOW 20000', signal: controller.signal });
  assert.equal(result.status, 'cancelled');
  assert.equal(result.stopReason, 'cancelled');
  assert.ok(ms < 1500, `cancelled within the grace (${ms} ms)`);
  const pid = a.pidOf('task');
  assert.ok(alive(pid), 'a cooperative agent keeps running');
  const next = await run(a, { cwd: repo, prompt: 'ECHO after cancel' });
  assert.equal(next.result.status, 'succeeded');
  assert.equal(a.pidOf('task'), pid);
});

test('cancel ignored by the agent: we still end the turn after the grace and stop the process', async () => {
  const a = adapter();
  const repo = makeRepo('cancel-ignored');
  await run(a, { cwd: repo, prompt: 'ECHO warm' });
  const started = run(a, { cwd: repo, prompt: 'IGNORE_CANCEL' });
  await new Promise((r) => setTimeout(r, 500));
  const pid = a.pidOf('task');
  await a.cancel('task');
  const { result, events } = await started;
  assert.equal(result.status, 'cancelled');
  assert.match(result.summary, /ignoring cancel/);
  assertWellFormed(events, result);
  for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(alive(pid), false, 'the agent that ignored the cancel was stopped');
  const next = await run(a, { cwd: repo, prompt: 'ECHO fresh process' });
  assert.equal(next.result.status, 'succeeded');
  assert.notEqual(a.pidOf('task'), pid);
});

test('a cancel that arrives while the agent is starting ends the turn without sending the prompt', async () => {
  const a = adapter();
  const repo = makeRepo('cancel-early');
  const controller = new AbortController();
  const started = run(a, { cwd: repo, prompt: 'WRITE early.txt never', signal: controller.signal });
  controller.abort();
  const { result, events } = await started;
  assert.equal(result.status, 'cancelled');
  assert.equal(events.filter((e) => e.kind === 'permission_request').length, 0);
  assert.equal(fs.existsSync(path.join(repo, 'early.txt')), false);
});

test('a huge update is capped in the transcript; one above the message limit fails the turn, not the server', async () => {
  const a = adapter({ limits: { maxChunkChars: 100_000, maxToolOutputChars: 10_000 }, maxMessageBytes: 1024 * 1024 });
  const repo = makeRepo('huge');
  const { result, events } = await run(a, { cwd: repo, prompt: 'HUGE 500000' });
  assert.equal(result.status, 'succeeded');
  const chunk = events.find((e) => e.kind === 'message_chunk');
  assert.ok(chunk && chunk.kind === 'message_chunk');
  assert.ok(chunk.text.length < 100_100);
  assert.match(chunk.text, /\[… 400000 more characters not kept\]$/);
  const over = await run(a, { cwd: repo, prompt: 'HUGE 3000000' });
  assert.equal(over.result.status, 'failed');
  assert.match(over.result.error?.reason ?? '', /protocol|crashed/);
  const next = await run(a, { cwd: repo, prompt: 'ECHO fine' });
  assert.equal(next.result.status, 'succeeded');
});

test('stop reasons map to outcomes: max_tokens and refusal fail, max_turn_requests is a timeout', async () => {
  const a = adapter();
  const repo = makeRepo('stops');
  const cases: [string, string][] = [
    ['max_tokens', 'model_error'],
    ['refusal', 'model_error'],
    ['max_turn_requests', 'timeout'],
  ];
  for (const [stop, reason] of cases) {
    const { result } = await run(a, { cwd: repo, prompt: `STOP ${stop}` });
    assert.equal(result.status, 'failed', stop);
    assert.equal(result.error?.reason, reason, stop);
    assert.match(result.error?.message ?? '', new RegExp(stop));
  }
});

test('terminal/*: advertised by a descriptor quirk; each command judged by the policy; output returned', async () => {
  const repo = makeRepo('terminal');
  fs.writeFileSync(path.join(repo, 'file-in-repo.txt'), 'x\n');
  const off = adapter();
  assert.match((await run(off, { cwd: repo, prompt: 'TERM ls' })).result.summary, /no terminal offered/);
  const a = adapter({ meta: { quirks: { advertiseTerminal: true } } });
  const ok = await run(a, { cwd: repo, prompt: 'TERM ls -1' });
  assert.equal(ok.result.status, 'succeeded');
  assert.match(ok.result.summary, /^exit=0 output=".*file-in-repo.txt/);
  const req = ok.events.find((e) => e.kind === 'permission_request');
  assert.ok(req && req.kind === 'permission_request' && req.permission === 'bash' && req.patterns?.[0] === 'ls -1');
  const marker = path.join(tmp, 'terminal-marker');
  const denied = await run(a, { cwd: repo, prompt: `TERM touch ${marker} && rm -rf ${repo}` });
  assert.match(denied.result.summary, /refused \(-32600\): .*policy denied this command/);
  assert.ok(denied.events.some((e) => e.kind === 'permission_decision' && e.decision === 'deny'));
  assert.equal(fs.existsSync(marker), false);
  assert.ok(fs.existsSync(repo));
});

const hasBwrap = ['/usr/bin/bwrap', '/usr/local/bin/bwrap', '/bin/bwrap'].some((p) => fs.existsSync(p));
const noBwrap = !hasBwrap && !process.env.CI ? 'bubblewrap is not installed here (tools/ensureSandbox.mjs says why)' : false;

test(
  'terminal/* in the OS sandbox: writes in the worktree work, writes outside fail, provider keys are not seen',
  { skip: noBwrap },
  async () => {
    const detection = await detectBubblewrap({ mode: 'auto' });
    assert.ok(detection.bwrap && detection.bash, detection.status.reason);
    const sandbox = new BubblewrapSandbox(path.join(tmp, 'sandbox'), { bwrap: detection.bwrap, bash: detection.bash });
    const repo = makeRepo('terminal-sandbox');
    const outside = fs.mkdtempSync(path.join(tmp, 'outside-'));
    // The policy allows everything here, so only the OS sandbox stands between the command and the folder outside.
    const allowAll: PermissionPolicy = async () => 'allow';
    const a = adapter({
      meta: { quirks: { advertiseTerminal: true }, env: { pass: ['ORCH_KEY_X'] } },
      sandbox,
      environment: { PATH: process.env.PATH, ORCH_KEY_X: 'sk-live-must-not-leak' },
    });
    const inside = await run(a, { cwd: repo, prompt: 'TERM echo in > inside.txt', permissionPolicy: allowAll });
    assert.match(inside.result.summary, /^exit=0/, inside.result.summary);
    assert.equal(fs.readFileSync(path.join(repo, 'inside.txt'), 'utf8'), 'in\n');
    const escape = await run(a, { cwd: repo, prompt: `TERM echo out > ${path.join(outside, 'escaped.txt')}`, permissionPolicy: allowAll });
    assert.doesNotMatch(escape.result.summary, /^exit=0/, escape.result.summary);
    assert.equal(fs.existsSync(path.join(outside, 'escaped.txt')), false, 'the write outside the worktree failed');
    const git = await run(a, { cwd: repo, prompt: 'TERM echo x > .git/hooks/pre-commit', permissionPolicy: allowAll });
    assert.doesNotMatch(git.result.summary, /^exit=0/, 'the repository metadata stays read-only');
    const env = await run(a, { cwd: repo, prompt: 'TERM env', permissionPolicy: allowAll });
    assert.match(env.result.summary, /^exit=0/);
    assert.doesNotMatch(env.result.summary, /ORCH_KEY_X|sk-live-must-not-leak/, 'provider keys never reach the command');
    assert.deepEqual(sandbox.roots(), [], 'the worktree is writable only while a turn runs');
  },
);

test('environment: only the base, the isolated home and the names the descriptor lists reach the agent', async () => {
  const a = adapter({
    meta: { env: { pass: ['FIXTURE_PROTOCOL_VERSION'], set: { AGENT_HOME_COPY: '{home}/x' }, home: ['AGENT_CONFIG_DIR'] } },
  });
  const repo = makeRepo('env');
  const { result } = await run(a, { cwd: repo, prompt: 'ENV' });
  const seen = JSON.parse(result.summary) as { names: string[]; home: string };
  assert.ok(!seen.names.includes('SECRET_TOKEN'), 'an unnamed variable does not pass');
  assert.ok(seen.names.includes('AGENT_HOME_COPY') && seen.names.includes('AGENT_CONFIG_DIR') && seen.names.includes('PATH'));
  assert.equal(seen.home, path.join(tmp, `data-${adapters.length - 1}`, 'home'));
  for (const n of seen.names) assert.match(n, /^(PATH|HOME|USERPROFILE|XDG_\w+|AGENT_\w+|LANG|LC_\w+|TMPDIR|TERM)$/, n);
});

test('initialize: a different protocol version is refused at start with a clear error', async () => {
  const a = adapter({ environment: { PATH: process.env.PATH, FIXTURE_PROTOCOL_VERSION: '7' } });
  await assert.rejects(a.start(), (e: unknown) => {
    assert.ok(AgentError.is(e, 'start_failed'));
    assert.match(e.message, /speaks ACP protocol version 7; this orchestrator speaks version 1/);
    return true;
  });
});

test('authenticate: the method the descriptor names, with its key from the environment (never logged)', async () => {
  const logs: string[] = [];
  const meta = { auth: { methodId: 'api-key', env: ['FIXTURE_API_KEY'] } };
  const missing = adapter({ meta, environment: { PATH: process.env.PATH, FIXTURE_AUTH: 'api-key' } });
  await assert.rejects(missing.start(), /needs FIXTURE_API_KEY in the environment/);
  const ok = adapter({
    meta,
    environment: { PATH: process.env.PATH, FIXTURE_AUTH: 'api-key', FIXTURE_API_KEY: 'sk-very-secret' },
    log: (l) => logs.push(l),
  });
  const repo = makeRepo('auth');
  const { result } = await run(ok, { cwd: repo, prompt: 'ECHO authenticated' });
  assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
  assert.ok(
    logs.some((l) => l.includes('FIXTURE_API_KEY')),
    'the variable name is logged',
  );
  assert.ok(!logs.some((l) => l.includes('sk-very-secret')), 'its value never is');
  const unnamed = adapter({ environment: { PATH: process.env.PATH, FIXTURE_AUTH: 'api-key' } });
  const r = await run(unnamed, { cwd: repo, prompt: 'ECHO x' });
  assert.equal(r.result.status, 'failed');
  assert.equal(r.result.error?.reason, 'start_failed');
  assert.match(r.result.error?.message ?? '', /requires authentication .*offers: api-key/);
});

test('an idle task process is stopped after idleProcessMs; a later turn of the task starts a new one', async () => {
  const a = adapter({ idleProcessMs: 300 });
  const repo = makeRepo('idle');
  await run(a, { cwd: repo, prompt: 'ECHO one' });
  const pid = a.pidOf('task');
  assert.ok(alive(pid));
  for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(alive(pid), false, 'the idle process was stopped');
  const next = await run(a, { cwd: repo, prompt: 'ECHO two' });
  assert.equal(next.result.status, 'succeeded');
  assert.notEqual(a.pidOf('task'), pid);
});

test('a released run leaves the adapter; its cleanly ended process serves the next run, else it stops; released mid-turn, once the turn ends', async () => {
  const a = adapter({ idleProcessMs: 1500 });
  const repo = makeRepo('release');
  const other = makeRepo('release-other');
  let previous: number | undefined;
  for (let i = 0; i < 4; i++) {
    const runId = `rel-${i}`;
    // Alternating folders: the reused process gets a new session in the next run's folder.
    const cwd = i % 2 ? other : repo;
    const r = await run(a, { runId, cwd, prompt: `WRITE rel-${i}.txt run ${i}` });
    assert.equal(r.result.status, 'succeeded', JSON.stringify(r.result.error));
    assert.deepEqual(
      r.result.diff.map((f) => f.path),
      [`rel-${i}.txt`],
    );
    assert.ok(fs.existsSync(path.join(cwd, `rel-${i}.txt`)));
    const pid = a.pidOf(runId);
    assert.ok(alive(pid), 'the process is kept for a follow-up until released');
    if (previous !== undefined) assert.equal(pid, previous, `run ${i} took the process the previous run left idle`);
    a.release(runId);
    assert.deepEqual(a.heldRuns, [], `after run ${i} the adapter holds nothing`);
    assert.equal(await a.idlePid(), pid, 'a cleanly ended run leaves its process idle for the next');
    previous = pid;
  }
  // Nobody takes it: stopped after the idle period.
  for (let k = 0; k < 50 && alive(previous); k++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(alive(previous), false, 'the idle process was stopped');
  assert.equal(await a.idlePid(), undefined);
  // A turn that did not end cleanly: its process is never handed to another run.
  const failed = await run(a, { runId: 'rel-failed', cwd: repo, prompt: 'STOP max_tokens' });
  assert.equal(failed.result.status, 'failed');
  const failedPid = a.pidOf('rel-failed');
  a.release('rel-failed');
  assert.equal(await a.idlePid(), undefined);
  for (let k = 0; k < 50 && alive(failedPid); k++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(alive(failedPid), false, 'its process was stopped');
  // The descriptor can ask for a process per run.
  const b = adapter({ meta: { quirks: { reuseProcess: false } } });
  await run(b, { runId: 'own', cwd: repo, prompt: 'ECHO own process' });
  const ownPid = b.pidOf('own');
  b.release('own');
  assert.equal(await b.idlePid(), undefined);
  for (let k = 0; k < 50 && alive(ownPid); k++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(alive(ownPid), false, 'reuseProcess: false stops it');
  let releasedWhileRunning = false;
  const events: AgentEvent[] = [];
  const result = await a.prompt({ runId: 'busy', cwd: repo, prompt: 'ECHO busy', permissionPolicy: policy }, (e) => {
    events.push(e);
    if (!releasedWhileRunning) {
      a.release('busy');
      releasedWhileRunning = a.heldRuns.includes('busy');
    }
  });
  assert.equal(result.status, 'succeeded', 'a release does not cut the running turn');
  assert.ok(releasedWhileRunning, 'held while its turn ran');
  assert.deepEqual(a.heldRuns, []);
});

test('a missing program is not_installed; bad input is refused and starts nothing', async () => {
  const a = adapter({ commandPath: path.join(tmp, 'no-such-agent') });
  const repo = makeRepo('missing');
  const r = await run(a, { cwd: repo, prompt: 'ECHO x' });
  assert.equal(r.result.status, 'failed');
  assert.equal(r.result.error?.reason, 'not_installed');
  const b = adapter();
  await assert.rejects(
    b.prompt({ runId: 'x', cwd: 'rel', prompt: 'x' }, () => undefined),
    /cwd: must be an absolute path/,
  );
  await assert.rejects(
    b.prompt({ runId: 'x', cwd: repo, prompt: ' ' }, () => undefined),
    /prompt: must be non-empty/,
  );
  await assert.rejects(
    b.prompt({ runId: 'x', cwd: repo, prompt: 'x', model: 'a/b' }, () => undefined),
    /model: .* chooses its own model/,
  );
  assert.deepEqual(b.pids, []);
});
