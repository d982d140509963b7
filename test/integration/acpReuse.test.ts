/**
 * A reused ACP agent process never lets one task reach another task's worktree: the process a released run left
 * idle serves the next run (same descriptor, same environment, same isolated home) with a new session in the
 * next run's folder, and `fs/*` is confined to that folder — by path, and through the previous run's session.
 * Real fixture agent process (test/fixtures/acp/fixtureAgent.mjs), real temp git repos.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { AcpAdapter } from '../../server/src/adapters/acp/acpAdapter';
import { parseAgentDescriptor } from '../../server/src/domain/agentDescriptor';
import type { AgentEvent } from '../../server/src/domain/agentEvent';
import type { PermissionPolicy } from '../../server/src/ports/agentRuntime';

const fixture = path.resolve(__dirname, '../fixtures/acp/fixtureAgent.mjs');
let tmp: string;
let a: AcpAdapter;

function makeRepo(name: string): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'README.md'), '# repo\n');
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'ignore' });
  git('init', '-q');
  git('add', '-A');
  git('-c', 'user.email=t@example.invalid', '-c', 'user.name=test', 'commit', '-qm', 'init');
  return dir;
}

/** Every permission is allowed: only the fs confinement stands between the agent and another worktree. */
const allowAll: PermissionPolicy = async () => 'allow';

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-acp-reuse-'));
  a = new AcpAdapter({
    descriptor: parseAgentDescriptor({
      id: 'fixture-agent',
      name: 'Fixture agent',
      version: '1.0.0',
      description: 'The project-owned ACP fixture agent',
      _meta: { orchestrator: { command: { path: process.execPath, args: [fixture] } } },
    }),
    dataDir: path.join(tmp, 'data'),
    environment: { PATH: process.env.PATH },
    timeouts: { idleMs: 10_000, turnMs: 30_000, permissionMs: 5_000 },
    startTimeoutMs: 20_000,
    idleProcessMs: 60_000,
  });
});

after(async () => {
  await a?.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function turn(runId: string, cwd: string, prompt: string) {
  const events: AgentEvent[] = [];
  const result = await a.prompt({ runId, cwd, prompt, permissionPolicy: allowAll }, (e) => events.push(e));
  const said = events
    .filter((e): e is Extract<AgentEvent, { kind: 'message_chunk' }> => e.kind === 'message_chunk')
    .map((e) => e.text)
    .join('');
  return { result, events, said, pid: a.pidOf(runId) };
}

test("a reused process: the next task's session cannot write into the previous task's worktree", async () => {
  const first = makeRepo('task-a');
  const second = makeRepo('task-b');
  const one = await turn('run-a', first, 'WRITE a.txt first task');
  assert.equal(one.result.status, 'succeeded', JSON.stringify(one.result.error));
  a.release('run-a');
  assert.equal(await a.idlePid(), one.pid, 'the cleanly ended run left its process idle');

  // By path: the absolute path of the previous task's worktree.
  const byPath = await turn('run-b', second, `FS write ${path.join(first, 'stolen.txt')}`);
  assert.equal(byPath.pid, one.pid, 'the next task took the same process');
  assert.equal(byPath.result.status, 'succeeded');
  assert.match(byPath.said, /refused/, 'the agent was told no');
  assert.ok(
    byPath.events.some((e) => e.kind === 'permission_decision' && e.decision === 'deny'),
    'the refusal is recorded on the turn as a denied request',
  );
  assert.equal(fs.existsSync(path.join(first, 'stolen.txt')), false, "nothing landed in the previous task's worktree");
  // Through the previous task's session: it answers for nothing now, in either worktree.
  for (const dir of [first, second]) {
    const bySession = await turn('run-b', second, `FSPREV write ${path.join(dir, 'stolen-by-session.txt')}`);
    assert.equal(bySession.pid, one.pid);
    assert.equal(bySession.result.status, 'succeeded');
    assert.equal(fs.existsSync(path.join(dir, 'stolen-by-session.txt')), false, `the previous task's session wrote into ${dir}`);
  }
  // The current session still works in its own folder.
  const own = await turn('run-b', second, 'WRITE b.txt second task');
  assert.equal(own.result.status, 'succeeded');
  assert.deepEqual(
    own.result.diff.map((f) => f.path),
    ['b.txt'],
  );
  assert.deepEqual(
    fs.readdirSync(first).sort(),
    ['.git', 'README.md', 'a.txt'],
    "the previous task's worktree holds only what that task wrote",
  );
});
