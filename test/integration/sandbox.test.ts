/**
 * The OS sandbox around agents' shell commands, through the real server process, the real OpenCode binary,
 * real git repos and bubblewrap, with the scripted model. Every command here is allowed by the client
 * (the permission policy lets it run), so the only thing that can stop a write outside the task folder
 * is the sandbox; the last test turns it off and shows the very same command then does write outside.
 *
 * CI installs bubblewrap first (tools/ensureSandbox.mjs); only where it cannot be installed (not root, no
 * apt-get) and outside CI are these tests skipped.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { agentList } from '../../protocol/agent';
import type { AgentEvent } from '../../protocol/agentEvent';
import { serverStatus } from '../../protocol/server';
import { sessionDiff, sessionStart } from '../../protocol/session';
import { permissionRequest, runGet, runStart, runTranscript, type PermissionAsk, type RunView } from '../../protocol/run';
import { startServer, tempDir, type ServerHandle } from './serverProcess';
import { ended, sampleRepo, task, waitSession } from './sessionHelpers';

const hasBwrap = ['/usr/bin/bwrap', '/usr/local/bin/bwrap', '/bin/bwrap'].some((p) => existsSync(p));
const skip = !hasBwrap && !process.env.CI ? 'bubblewrap is not installed here (tools/ensureSandbox.mjs says why)' : false;

async function finished(s: ServerHandle, runId: string, ms = 180_000): Promise<RunView> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const t = await s.request(runGet, { runId });
    if (!['pending', 'ready', 'running', 'blocked'].includes(t.state)) return t;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`task ${runId} did not finish within ${ms} ms`);
}

async function bashOutputs(s: ServerHandle, runId: string): Promise<string> {
  const { events } = await s.request(runTranscript, { runId });
  return events
    .filter((e): e is Extract<AgentEvent, { kind: 'tool_call' }> => e.kind === 'tool_call' && e.toolName === 'bash')
    .map((e) => e.output ?? '')
    .join('\n');
}

/** A single run in a fresh repo whose one command writes inside, then outside (the last command, so it decides the exit code). */
async function escapeAttempt(s: ServerHandle, outside: string): Promise<{ cwd: string; t: RunView; output: string }> {
  const cwd = sampleRepo();
  const target = path.join(outside, 'escaped.txt');
  const { runId } = await s.request(runStart, {
    agent: 'opencode',
    cwd,
    prompt: `[[script:bash]] echo in > inside.txt && echo out > ${target}`,
  });
  const t = await finished(s, runId);
  return { cwd, t, output: await bashOutputs(s, runId) };
}

describe("agents' shell commands in the OS sandbox (bubblewrap)", { skip }, () => {
  let server: ServerHandle;
  let dataDir: string;
  const asks: PermissionAsk[] = [];

  before(async () => {
    dataDir = tempDir();
    server = await startServer(dataDir);
    // The client allows everything: the policy never stands between the command and the file system.
    server.connection.onRequest(permissionRequest.method, (ask: PermissionAsk) => {
      asks.push(ask);
      return { decision: 'allow' };
    });
  });
  after(async () => {
    await server?.stop();
  });

  test('the server status and agent/list say the commands are sandboxed, and by what', async () => {
    const st = await server.request(serverStatus, {});
    assert.equal(st.sandbox?.enabled, true, st.sandbox?.reason);
    assert.match(st.sandbox!.reason, /^bubblewrap \d/);
    const [oc] = await server.request(agentList, {});
    assert.equal(oc.id, 'opencode');
    assert.deepEqual(oc.sandbox, st.sandbox);
  });

  test('a single run: an allowed command writes in its folder, but its write outside fails and nothing appears there', async () => {
    const outside = tempDir('orch-outside-');
    const { cwd, t, output } = await escapeAttempt(server, outside);
    assert.ok(!['pending', 'running'].includes(t.state), t.state);
    // The policy asked and the client allowed (the last test shows this command writes outside when unsandboxed).
    assert.ok(
      asks.some((a) => a.permission === 'bash'),
      `asked: ${JSON.stringify(asks.map((a) => [a.permission, a.patterns]))}`,
    );
    assert.equal(readFileSync(path.join(cwd, 'inside.txt'), 'utf8'), 'in\n', 'the write inside the task folder worked');
    assert.ok(!existsSync(path.join(outside, 'escaped.txt')), 'nothing was written outside the task folder');
    assert.match(output, /Read-only file system/, 'the run shows the command failed and why');
  });

  test("a session task in its worktree cannot write into the user's repository or the data folder; its own work merges", async () => {
    const cwd = sampleRepo();
    const planted = path.join(realpathSync(cwd), 'planted-by-agent.txt');
    const s = await server.request(sessionStart, {
      goal: 'sandboxed task',
      cwd,
      approve: true,
      plan: {
        tasks: [
          {
            id: 'a',
            title: 'write inside and outside',
            expectedFiles: ['ok.txt'],
            prompt: `[[script:bash]] echo ok > ok.txt; echo evil > ${planted}; touch ../../../sandbox-escape.txt; test -e ok.txt`,
          },
        ],
      },
    });
    const v = await waitSession(server, s.id, ended, 240_000);
    assert.equal(task(v, 'a').state, 'succeeded', JSON.stringify(v.tasks.map((x) => [x.planId, x.state, x.lastError])));
    assert.ok(!existsSync(planted), "the user's repository was not written by the agent");
    assert.ok(!existsSync(path.join(dataDir, 'sandbox-escape.txt')), 'the data folder was not written by the agent');
    const diff = await server.request(sessionDiff, { sessionId: s.id });
    assert.deepEqual(
      diff.files.map((f) => f.path),
      ['ok.txt'],
      'only the write inside the worktree reached the result',
    );
    const status = execFileSync('git', ['status', '--porcelain'], { cwd, encoding: 'utf8' });
    assert.equal(status, '', "the user's working tree is untouched");
  });

  test('with the sandbox turned off, the status says so and why, and the same allowed command does write outside', async () => {
    const off = await startServer(tempDir(), { agents: { sandbox: 'off' } });
    try {
      off.connection.onRequest(permissionRequest.method, () => ({ decision: 'allow' }));
      const st = await off.request(serverStatus, {});
      assert.equal(st.sandbox?.enabled, false);
      assert.match(st.sandbox!.reason, /turned off by the sandbox setting/i);
      const [oc] = await off.request(agentList, {});
      assert.equal(oc.sandbox.enabled, false);
      const outside = tempDir('orch-outside-');
      const { t } = await escapeAttempt(off, outside);
      assert.equal(t.state, 'succeeded', JSON.stringify(t.error));
      assert.equal(
        readFileSync(path.join(outside, 'escaped.txt'), 'utf8'),
        'out\n',
        'without the sandbox the policy-allowed write lands outside',
      );
    } finally {
      await off.stop();
    }
  });
});
