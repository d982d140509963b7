/**
 * The permission policy against a real agent: the real server process over JSON-RPC, the real OpenCode
 * binary, the scripted model making the tool calls. The agent tries each way out of its folder (an edit
 * through a committed symlink, `sort -o` to a path outside, a program run through `git -c core.fsmonitor=…`,
 * a read of a secret place, a write to an absolute path outside); afterwards nothing exists outside the
 * task's folder that was not there before, and every denial is visible in the run's view and transcript.
 * A session task whose only write was denied is reported with a warning, not as a plain success.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AgentEvent } from '../../protocol/agentEvent';
import { sessionApprove, sessionStart } from '../../protocol/session';
import { permissionRequest, runGet, runStart, runTranscript, type PermissionAsk, type RunView } from '../../protocol/run';
import { startServer, tempDir, type ServerHandle } from './serverProcess';
import { ended, task, waitSession } from './sessionHelpers';

const secretText = 'PRIVATE-KEY-MATERIAL-0451';
let server: ServerHandle;
const asks: PermissionAsk[] = [];
/** A fake home for the server (secret places are under it), a folder outside every repository, and the repository. */
let fakeHome: string;
let outside: string;
let repo: string;
const savedHome = process.env.HOME;

function listAll(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

function makeRepo(): string {
  const d = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'orch-policy-repo-')));
  const git = (...a: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...a], { cwd: d, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  writeFileSync(path.join(d, 'README.md'), 'b\na\n');
  // Committed by a hostile contributor: a link out of the repository, a link to the user's keys, a hook script.
  symlinkSync(outside, path.join(d, 'link'));
  symlinkSync(path.join(fakeHome, '.ssh'), path.join(d, 'keys'));
  symlinkSync(path.join(fakeHome, '.ssh', 'id_rsa'), path.join(d, 'notes.md'));
  writeFileSync(path.join(d, 'hook.sh'), `#!/bin/sh\necho ran > ${outside}/hook-ran\n`);
  chmodSync(path.join(d, 'hook.sh'), 0o755);
  git('add', '-A');
  git('commit', '-qm', 'init');
  return d;
}

async function finished(runId: string, ms = 120_000): Promise<RunView> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const t = await server.request(runGet, { runId });
    if (!['pending', 'ready', 'running', 'blocked'].includes(t.state)) return t;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`task ${runId} did not finish within ${ms} ms`);
}

async function runAgent(prompt: string): Promise<{ view: RunView; events: AgentEvent[] }> {
  const { runId } = await server.request(runStart, { agent: 'opencode', cwd: repo, prompt });
  const view = await finished(runId);
  const { events } = await server.request(runTranscript, { runId });
  return { view, events };
}

const decisions = (events: AgentEvent[]) =>
  events.filter((e): e is Extract<AgentEvent, { kind: 'permission_decision' }> => e.kind === 'permission_decision').map((e) => e.decision);

before(async () => {
  fakeHome = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'orch-policy-home-')));
  mkdirSync(path.join(fakeHome, '.ssh'));
  writeFileSync(path.join(fakeHome, '.ssh', 'id_rsa'), `${secretText}\n`);
  outside = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'orch-policy-outside-')));
  writeFileSync(path.join(outside, 'target.txt'), 'untouched\n');
  repo = makeRepo();
  // The server (and so the policy) takes the user's home from HOME.
  process.env.HOME = fakeHome;
  try {
    server = await startServer(tempDir());
  } finally {
    process.env.HOME = savedHome;
  }
  // The user (this client) says no to everything the policy asks about.
  server.connection.onRequest(permissionRequest.method, (ask: PermissionAsk) => {
    asks.push(ask);
    return { decision: 'deny' };
  });
});
after(async () => {
  await server?.stop();
});

describe('the permission policy cannot be talked around (real OpenCode, scripted model)', () => {
  test('an edit through a committed symlink pointing outside is denied by the policy; nothing is written outside', async () => {
    const before = listAll(outside);
    const { view, events } = await runAgent('[[script:write_file link/pwned.txt]] pwned');
    assert.deepEqual(listAll(outside), before);
    assert.equal(readFileSync(path.join(outside, 'target.txt'), 'utf8'), 'untouched\n');
    assert.deepEqual(decisions(events), ['deny']);
    assert.ok(
      view.denied?.some((d) => d.permission === 'edit' && /outside the task's directory.*symbolic link/.test(d.reason)),
      JSON.stringify(view.denied),
    );
    // Honest outcome: the turn "succeeded" but its only write was denied.
    assert.equal(view.state, 'succeeded');
    assert.deepEqual(view.diff, []);
    assert.match(view.warnings?.join(' ') ?? '', /every write was denied/);
  });

  test('sort -o to a path outside is asked (the user said no); nothing is written', async () => {
    const n = asks.length;
    const { view } = await runAgent(`[[script:bash]] sort -o ${outside}/sorted.txt README.md`);
    assert.ok(!existsSync(path.join(outside, 'sorted.txt')));
    const ask = asks.slice(n).find((a) => a.permission === 'bash');
    assert.match(ask?.reason ?? '', /sort -o writes a file/);
    assert.ok(
      view.denied?.some((d) => d.permission === 'bash' && /the user denied it/.test(d.reason)),
      JSON.stringify(view.denied),
    );
    assert.match(view.warnings?.join(' ') ?? '', /denied/);
  });

  test('a program run through an option (git -c core.fsmonitor=…) is asked and never runs', async () => {
    const n = asks.length;
    await runAgent(`[[script:bash]] git -c core.fsmonitor=${repo}/hook.sh status`);
    assert.ok(!existsSync(path.join(outside, 'hook-ran')), 'the committed hook did not run');
    assert.match(asks.slice(n).find((a) => a.permission === 'bash')?.reason ?? '', /git -c overrides configuration/);
  });

  test('a read of a secret place through a committed symlink is denied without asking, and the secret is in no event', async () => {
    const n = asks.length;
    const { view, events } = await runAgent('[[script:read_file keys/id_rsa]]');
    assert.equal(asks.length, n, 'denied by the policy, not asked');
    // OpenCode follows the link itself and asks for the real folder (external_directory); either way the policy denies.
    assert.ok(
      view.denied?.some((d) => ['read', 'external_directory'].includes(d.permission) && /a place that holds secrets/.test(d.reason)),
      JSON.stringify(view.denied),
    );
    assert.ok(!JSON.stringify(events).includes(secretText), 'the key never reached the agent');
    const bash = await runAgent(`[[script:bash]] cat ${fakeHome}/.ssh/id_rsa`);
    // OpenCode asks for the folder of a path in a command first (external_directory), then for the command.
    assert.ok(
      bash.view.denied?.some((d) => /a place that holds secrets/.test(d.reason)),
      JSON.stringify(bash.view.denied),
    );
    assert.equal(asks.length, n, 'denied by the policy, not asked');
    assert.ok(!JSON.stringify(bash.events).includes(secretText));
    // A wildcard is judged by what it matches: `*.md` matches the committed link to the key.
    const glob = await runAgent('[[script:bash]] cat *.md');
    assert.ok(
      glob.view.denied?.some((d) => d.permission === 'bash' && /a place that holds secrets: .*notes\.md/.test(d.reason)),
      JSON.stringify(glob.view.denied),
    );
    assert.ok(!JSON.stringify(glob.events).includes(secretText));
    assert.equal(asks.length, n, 'denied by the policy, not asked');
  });

  test('a write to an absolute path outside is refused; nothing appears there', async () => {
    const before = listAll(outside);
    const { view } = await runAgent(`[[script:write_file ${outside}/abs.txt]] pwned`);
    assert.deepEqual(listAll(outside), before);
    assert.ok((view.denied?.length ?? 0) >= 1, JSON.stringify(view.denied));
    assert.match(view.warnings?.join(' ') ?? '', /denied/);
  });

  test('what agents do every day still runs without asking: a safe command and a write inside', async () => {
    const n = asks.length;
    const ls = await runAgent('[[script:bash]] git status --porcelain && ls -la | head -5');
    assert.deepEqual(decisions(ls.events), ['allow']);
    assert.equal(ls.view.warnings, undefined);
    const write = await runAgent('[[script:write_file notes/inside.txt]] fine');
    assert.equal(readFileSync(path.join(repo, 'notes', 'inside.txt'), 'utf8'), 'fine\n');
    assert.equal(write.view.warnings, undefined);
    assert.equal(asks.length, n, 'nothing was asked');
  });

  test('a session task whose only write is denied shows it: the task result carries the warning', async () => {
    const before = listAll(outside);
    const goal = [
      'Try to escape',
      '- [w] Write through the link {files: link/escaped.txt}: [[script:write_file link/escaped.txt]] escaped',
    ].join('\n');
    const draft = await server.request(sessionStart, { goal, cwd: repo });
    await server.request(sessionApprove, { sessionId: draft.id });
    const v = await waitSession(server, draft.id, ended);
    assert.deepEqual(listAll(outside), before, 'nothing written outside the worktree');
    const w = task(v, 'w');
    assert.equal(w.state, 'succeeded', w.lastError);
    assert.deepEqual(w.result?.changedFiles, []);
    assert.match(w.result?.warnings?.join(' ') ?? '', /every write was denied/);
    const run = await server.request(runGet, { runId: w.runId! });
    assert.ok(
      run.denied?.some((d) => d.permission === 'edit'),
      JSON.stringify(run.denied),
    );
  });
});
