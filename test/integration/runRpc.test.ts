/**
 * One agent task through the real server process over JSON-RPC, with the real OpenCode binary and the
 * bundled scripted demo model: live updates, transcript, bad input, and permission asks answered by the
 * client (the extension's role).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { ResponseError } from 'vscode-jsonrpc/node';
import type { AgentEvent } from '../../protocol/agentEvent';
import { errorCodes } from '../../protocol/errors';
import {
  permissionRequest,
  runDidUpdate,
  runGet,
  runList,
  runStart,
  runTranscript,
  type PermissionAsk,
  type RunView,
} from '../../protocol/run';
import { startServer, tempDir, type ServerHandle } from './serverProcess';

function repo(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'orch-repo-'));
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: d });
  writeFileSync(path.join(d, 'README.md'), '# demo\n');
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qam', 'init', '--allow-empty'], { cwd: d });
  execFileSync('git', ['add', '-A'], { cwd: d });
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'readme'], { cwd: d });
  return d;
}

async function finished(s: ServerHandle, runId: string, ms = 90_000): Promise<RunView> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const t = await s.request(runGet, { runId });
    if (!['pending', 'ready', 'running', 'blocked'].includes(t.state)) return t;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`task ${runId} did not finish within ${ms} ms`);
}

let server: ServerHandle;
const asks: PermissionAsk[] = [];
let answer: 'allow' | 'deny' = 'allow';
after(async () => {
  await server?.stop();
});

describe('run/* over JSON-RPC with the real OpenCode binary', () => {
  test('starts', async () => {
    server = await startServer(tempDir());
    server.connection.onRequest(permissionRequest.method, (ask: PermissionAsk) => {
      asks.push(ask);
      return { decision: answer };
    });
  });

  test('a demo-model run writes the file, streams run/didUpdate, and records the transcript', async () => {
    const cwd = repo();
    const { runId } = await server.request(runStart, {
      agent: 'opencode',
      cwd,
      prompt: 'Create a file named notes.txt containing hello from the demo',
    });
    const t = await finished(server, runId);
    assert.equal(t.state, 'succeeded', JSON.stringify(t.error));
    assert.equal(readFileSync(path.join(cwd, 'notes.txt'), 'utf8'), 'hello from the demo\n');
    assert.ok(t.usage.inputTokens > 0, 'usage recorded');
    assert.deepEqual(
      t.diff?.map((f) => [f.path, f.status]),
      [['notes.txt', 'added']],
    );
    const { events } = await server.request(runTranscript, { runId });
    assert.equal(events.length, t.events);
    assert.deepEqual(
      events.map((e) => e.seq),
      events.map((_, i) => i + 1),
      'seq is gap-free',
    );
    const tools = events.filter((e): e is Extract<AgentEvent, { kind: 'tool_call' }> => e.kind === 'tool_call');
    assert.ok(tools.some((e) => e.toolName === 'write' && e.status === 'completed'));
    const pushed = server.notifications.filter((n) => n.method === runDidUpdate.method && (n.params as { run: RunView }).run.id === runId);
    assert.ok(pushed.length >= events.length, `every event was pushed (${pushed.length} updates for ${events.length} events)`);
    assert.equal((pushed.at(-1)!.params as { run: RunView }).run.state, 'succeeded');
  });

  test('bad input is refused with InvalidParams naming the field, and nothing starts', async () => {
    const cwd = repo();
    const plain = mkdtempSync(path.join(os.tmpdir(), 'orch-plain-'));
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ agent: 'opencode', cwd, prompt: '   ' }, 'prompt', /must not be empty/],
      [{ agent: 'opencode', cwd: path.join(cwd, 'missing'), prompt: 'x' }, 'cwd', /does not exist/],
      [{ agent: 'opencode', cwd: plain, prompt: 'x' }, 'cwd', /not inside a git repository/],
      [{ agent: 'opencode', cwd, prompt: 'x', model: 'nope/model' }, 'model', /unknown model "nope\/model"/],
      [{ agent: 'claude', cwd, prompt: 'x' }, 'agent', /agent/],
    ];
    const before = await server.request(runList, {});
    for (const [params, field, message] of cases) {
      const err = await server.raw(runStart.method, params).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof ResponseError, `${JSON.stringify(params)} refused`);
      assert.equal(err.code, errorCodes.invalidParams);
      assert.match(err.message, new RegExp(field));
      assert.match(err.message, message);
    }
    const afterList = await server.request(runList, {});
    assert.equal(afterList.length, before.length, 'no task was recorded');
  });

  test('a command off the allow-list is asked of the client; allow lets the turn continue', async () => {
    const cwd = repo();
    answer = 'allow';
    asks.length = 0;
    const { runId } = await server.request(runStart, { agent: 'opencode', cwd, prompt: '[[script:bash]] uname > uname.txt' });
    const t = await finished(server, runId);
    assert.equal(t.state, 'succeeded', JSON.stringify(t.error));
    assert.equal(asks.length, 1);
    assert.equal(asks[0].permission, 'bash');
    assert.match(asks[0].reason, /uname/);
    assert.ok(existsSync(path.join(cwd, 'uname.txt')), 'the command ran');
  });

  test('a denial is reported as such and the command does not run', async () => {
    const cwd = repo();
    answer = 'deny';
    asks.length = 0;
    const { runId } = await server.request(runStart, { agent: 'opencode', cwd, prompt: '[[script:bash]] uname > denied.txt' });
    const t = await finished(server, runId);
    assert.equal(asks.length, 1);
    assert.ok(!existsSync(path.join(cwd, 'denied.txt')), 'the command did not run');
    const { events } = await server.request(runTranscript, { runId });
    assert.ok(
      events.some((e) => e.kind === 'permission_decision' && e.decision === 'deny'),
      'the transcript records the denial',
    );
    assert.ok(
      events.some((e) => e.kind === 'tool_call' && e.status === 'failed'),
      'the tool call failed',
    );
    assert.ok(['failed', 'succeeded'].includes(t.state));
  });

  test('an allow-listed command is allowed by policy without asking', async () => {
    const cwd = repo();
    asks.length = 0;
    const { runId } = await server.request(runStart, {
      agent: 'opencode',
      cwd,
      prompt: '[[script:bash]] mkdir -p policy-dir && touch policy-dir/ok',
    });
    const t = await finished(server, runId);
    assert.equal(t.state, 'succeeded', JSON.stringify(t.error));
    assert.equal(asks.length, 0);
    assert.ok(existsSync(path.join(cwd, 'policy-dir', 'ok')), 'the command ran');
  });

  test('kill -9 of the orchestrator server mid-turn leaves no OpenCode process behind', async () => {
    const s2 = await startServer(tempDir());
    try {
      const { runId } = await s2.request(runStart, { agent: 'opencode', cwd: repo(), prompt: '[[script:slow 40 250]]' });
      const end = Date.now() + 60_000;
      let oc = 0;
      while (!oc && Date.now() < end) {
        let out = '';
        try {
          out = execFileSync('pgrep', ['-P', String(s2.child.pid), '-f', 'opencode serve'], { encoding: 'utf8' });
        } catch {
          /* none yet */
        }
        oc = Number(out.trim().split('\n')[0] || 0) || 0;
        if (!oc) await new Promise((r) => setTimeout(r, 200));
      }
      assert.ok(oc > 0, 'OpenCode started under the server');
      assert.equal((await s2.request(runGet, { runId })).state, 'running');
      s2.child.kill('SIGKILL');
      const alive = (pid: number) => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      };
      const t = Date.now();
      while (alive(oc) && Date.now() - t < 5_000) await new Promise((r) => setTimeout(r, 100));
      assert.equal(alive(oc), false, `OpenCode ${oc} was reaped after the server died`);
    } finally {
      await s2.stop();
    }
  });
});
