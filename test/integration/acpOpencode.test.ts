/**
 * The real `opencode acp` (the binary the project installs) driven end to end through the ACP adapter, with
 * the project's own descriptor (registry/local/opencode-acp.json: everything OpenCode needs to run offline is
 * descriptor data, no code knows it by name) and the scripted OpenAI-compatible model server (the one fake).
 * Write, edit, a permission denied by the real policy, and cancel.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { AcpAdapter } from '../../server/src/adapters/acp/acpAdapter';
import { resolveOpencodeBinary } from '../../server/src/adapters/opencode/binary';
import { buildConfig } from '../../server/src/adapters/opencode/home';
import { startScriptedModel, type ScriptedModel } from '../../server/src/adapters/scriptedModel/scriptedModel';
import { parseAgentDescriptor } from '../../server/src/domain/agentDescriptor';
import type { AgentEvent } from '../../server/src/domain/agentEvent';
import { decidePermission, defaultAllowedCommands } from '../../server/src/domain/permissionPolicy';
import type { PermissionPolicy, PermissionRequest, PromptRequest } from '../../server/src/ports/agentRuntime';

let tmp: string;
let model: ScriptedModel;
let adapter: AcpAdapter;
const logs: string[] = [];
const asked: PermissionRequest[] = [];

/** The real policy (`ask` → deny: nobody answers in a test); every request is kept for the assertions. */
const policy: PermissionPolicy = async (req) => {
  asked.push(req);
  const v = decidePermission(
    { permission: req.permission, patterns: req.patterns, cwd: req.cwd },
    { allowedCommands: defaultAllowedCommands },
  );
  return v.decision === 'allow' ? 'allow' : 'deny';
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

async function run(req: Partial<PromptRequest> & { runId: string; cwd: string; prompt: string }, onEvent?: (e: AgentEvent) => void) {
  const events: AgentEvent[] = [];
  const t0 = Date.now();
  const result = await adapter.prompt({ permissionPolicy: policy, ...req }, (e) => {
    events.push(e);
    onEvent?.(e);
  });
  return { result, events, ms: Date.now() - t0 };
}

before(async () => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'acp-opencode-')));
  model = await startScriptedModel();
  const config = buildConfig({
    providers: [{ id: 'scripted', baseURL: model.url, models: { scripted: {} } }],
    defaultModel: 'scripted/scripted',
    // Edits and commands come to us as ACP permission requests.
    extra: { permission: { edit: 'ask', bash: 'ask' } },
  });
  const descriptor = parseAgentDescriptor(
    JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../server/src/adapters/acp/registry/local/opencode-acp.json'), 'utf8')),
  );
  adapter = new AcpAdapter({
    descriptor,
    dataDir: path.join(tmp, 'data'),
    commandPath: resolveOpencodeBinary({}),
    environment: { PATH: process.env.PATH, OPENCODE_CONFIG_CONTENT: JSON.stringify(config), UNRELATED_SECRET: 'x' },
    timeouts: { idleMs: 60_000, turnMs: 120_000, permissionMs: 10_000 },
    cancelGraceMs: 5_000,
    log: (l) => {
      logs.push(l);
      if (process.env.ACP_DEBUG) console.log(l);
    },
  });
});

after(async () => {
  await adapter?.dispose();
  await model?.close();
  if (tmp && !process.env.ACP_KEEP) fs.rmSync(tmp, { recursive: true, force: true });
});

test('write: OpenCode asks for the edit over ACP, the policy allows it, the file is in the worktree and the diff', async () => {
  const repo = makeRepo('write');
  const { result, events, ms } = await run({ runId: 'w', cwd: repo, prompt: '[[script:write_file hello.txt]] hello over acp' });
  assert.equal(result.status, 'succeeded', JSON.stringify(result.error) + logs.slice(-20).join('\n'));
  assert.equal(fs.readFileSync(path.join(repo, 'hello.txt'), 'utf8'), 'hello over acp\n');
  const req = events.find((e) => e.kind === 'permission_request');
  assert.ok(req && req.kind === 'permission_request' && req.permission === 'edit', JSON.stringify(req));
  assert.ok(
    req.patterns?.some((p) => p === path.join(repo, 'hello.txt')),
    JSON.stringify(req.patterns),
  );
  assert.ok(events.some((e) => e.kind === 'permission_decision' && e.decision === 'allow' && e.by === 'policy'));
  assert.ok(events.some((e) => e.kind === 'tool_call' && e.toolName === 'edit' && e.status === 'completed'));
  assert.match(result.summary, /Wrote hello.txt/);
  assert.deepEqual(
    result.diff.map((d) => [d.path, d.status]),
    [['hello.txt', 'added']],
  );
  assert.ok(result.agentSessionId?.startsWith('ses_'), result.agentSessionId);
  assert.equal(new Set(events.map((e) => e.key)).size, events.length, 'no duplicate keys');
  assert.equal(events.at(-1)?.kind, 'finished');
  console.log(`opencode acp: first write turn (spawn + initialize + session/new + prompt) in ${ms} ms`);
});

test('edit: read then edit of an existing file, on the same task (same process and session)', async () => {
  const repo = makeRepo('edit', { 'notes.md': 'alpha beta gamma\n' });
  const first = await run({ runId: 'e', cwd: repo, prompt: '[[script:text]] ready' });
  assert.equal(first.result.status, 'succeeded');
  const pid = adapter.pidOf('e');
  const { result, events } = await run({ runId: 'e', cwd: repo, prompt: '[[script:edit_file notes.md beta BETA]]' });
  assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
  assert.equal(fs.readFileSync(path.join(repo, 'notes.md'), 'utf8'), 'alpha BETA gamma\n');
  assert.equal(adapter.pidOf('e'), pid, 'the task keeps its agent process');
  assert.equal(result.agentSessionId, first.result.agentSessionId, 'and its ACP session');
  assert.deepEqual(
    result.diff.map((d) => [d.path, d.status, d.additions, d.deletions]),
    [['notes.md', 'modified', 1, 1]],
  );
  assert.ok(events[0].seq > first.events.at(-1)!.seq);
});

test('permission: an edit outside the worktree is denied by the policy; nothing is written there', async () => {
  const repo = makeRepo('deny');
  const outside = path.join(tmp, 'outside-deny.txt');
  const { result, events } = await run({ runId: 'd', cwd: repo, prompt: `[[script:write_file ${outside}]] should not exist` });
  assert.equal(fs.existsSync(outside), false);
  const decisions = events.filter((e) => e.kind === 'permission_decision');
  assert.ok(
    decisions.length >= 1 && decisions.every((d) => d.kind === 'permission_decision' && d.decision === 'deny'),
    JSON.stringify(decisions),
  );
  assert.ok(
    asked.some((r) => r.patterns.includes(outside)),
    JSON.stringify(asked.map((r) => [r.permission, r.patterns])),
  );
  assert.notEqual(result.status, 'cancelled');
  assert.deepEqual(result.diff, []);
});

test('cancel: a slow turn ends as cancelled soon after the abort; the task goes on afterwards', async () => {
  const repo = makeRepo('cancel');
  const warm = await run({ runId: 'c', cwd: repo, prompt: '[[script:text]] warm' });
  assert.equal(warm.result.status, 'succeeded');
  const pid = adapter.pidOf('c');
  const controller = new AbortController();
  let abortedAt = 0;
  const { result } = await run({ runId: 'c', cwd: repo, prompt: '[[script:slow 40 500]]', signal: controller.signal }, (e) => {
    if (!abortedAt && e.kind === 'message_chunk' && /tick/.test(e.text)) {
      abortedAt = Date.now();
      controller.abort();
    }
  });
  assert.ok(abortedAt > 0, 'the slow reply started streaming');
  assert.equal(result.status, 'cancelled', JSON.stringify(result.error));
  const took = Date.now() - abortedAt;
  assert.ok(took < 5000, `ended ${took} ms after the abort (within the grace: OpenCode honoured session/cancel)`);
  assert.doesNotMatch(result.summary, /tick 39/);
  assert.equal(adapter.pidOf('c'), pid, 'OpenCode honoured the cancel: its process is kept');
  const next = await run({ runId: 'c', cwd: repo, prompt: '[[script:text]] after the cancel' });
  assert.equal(next.result.status, 'succeeded', JSON.stringify(next.result.error));
  assert.match(next.result.summary, /after the cancel/);
  console.log(`opencode acp: cancel took ${took} ms`);
});

test('only the named environment reached OpenCode (the unrelated variable did not); the log names variables, not values', () => {
  const start = logs.find((l) => l.includes('starting OpenCode (ACP)'));
  assert.ok(start, logs.join('\n'));
  assert.match(start, /OPENCODE_CONFIG_CONTENT/);
  assert.doesNotMatch(start, /UNRELATED_SECRET/);
  assert.ok(!logs.some((l) => l.includes(model.url)), 'the config value (with the model URL) is never logged');
});
