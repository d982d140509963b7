/**
 * Plugin adapters (`agents.plugins`, the `orchestrator.plugins.*` settings) through the real server: the
 * example plugin (examples/plugin-echo-agent), once trusted, is a normal agent (listed, `run/start`, routed
 * in a session) whose turn writes a file; an untrusted plugin and a trusted one whose entry file changed are
 * not loaded and are reported with the sha256 to trust; a plugin installed as a real npm package loads; broken
 * plugins (throw at load, missing functions, throw in prompt, a prompt that never resolves, faults in their
 * timers and promises) are reported and skipped while the server stays up and the other agents work.
 * No wait depends on timing: every wait polls the server's own state under a deadline.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ResponseError } from 'vscode-jsonrpc/node';
import { agentList } from '../../protocol/agent';
import { errorCodes } from '../../protocol/errors';
import { runGet, runStart, runTranscript, type RunView } from '../../protocol/run';
import { serverStatus, type PluginStatus } from '../../protocol/server';
import { sessionStart } from '../../protocol/session';
import { repoRoot, startServer, tempDir, type ServerHandle } from './serverProcess';
import { ended, sampleRepo, task, waitSession } from './sessionHelpers';

const example = path.join(repoRoot, 'examples', 'plugin-echo-agent');
const sha = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const exampleSha = () => sha(path.join(example, 'index.js'));

async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const finished = (s: ServerHandle, runId: string) =>
  until(`run ${runId} to end`, 60_000, async () => {
    const r = await s.request(runGet, { runId });
    return r.state === 'running' || r.state === 'pending' ? undefined : r;
  });

const plugins = async (s: ServerHandle): Promise<PluginStatus[]> => (await s.request(serverStatus, {})).plugins ?? [];
const pluginOf = async (s: ServerHandle, source: string) => (await plugins(s)).find((p) => p.source === source);

/** A plugin folder with an ESM entry file. */
function pluginDir(code: string): string {
  const dir = tempDir('orch-plugin-');
  fs.writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: path.basename(dir).toLowerCase(), type: 'module', main: 'index.js' }),
  );
  fs.writeFileSync(path.join(dir, 'index.js'), code);
  return dir;
}
const trust = (dir: string) => ({ source: dir, sha256: sha(path.join(dir, 'index.js')) });

test('a trusted plugin is a normal agent: listed, run/start writes a file, a session routes a task to it', async () => {
  const server = await startServer(tempDir(), {
    agents: { disabled: ['opencode'], plugins: { paths: [example], trusted: [{ source: example, sha256: exampleSha() }] } },
  });
  try {
    const loaded = await pluginOf(server, example);
    assert.equal(loaded?.state, 'loaded', JSON.stringify(loaded));
    assert.equal(loaded?.agentId, 'echo');
    const echo = (await server.request(agentList, {})).find((a) => a.id === 'echo');
    assert.ok(echo, 'the plugin agent is listed');
    assert.equal(echo.availability.state, 'ready');
    assert.deepEqual(echo.capabilities, ['*']);

    const cwd = sampleRepo();
    const { runId } = await server.request(runStart, { agent: 'echo', cwd, prompt: 'write notes/hello.txt: hello from a plugin' });
    const run: RunView = await finished(server, runId);
    assert.equal(run.state, 'succeeded', JSON.stringify(run.error));
    assert.equal(fs.readFileSync(path.join(cwd, 'notes', 'hello.txt'), 'utf8'), 'hello from a plugin\n');
    assert.deepEqual(
      run.diff?.map((f) => [f.path, f.status]),
      [['notes/hello.txt', 'added']],
      'the diff comes from the worktree',
    );
    const { events } = await server.request(runTranscript, { runId });
    assert.ok(events.some((e) => e.kind === 'tool_call' && e.status === 'completed' && e.toolName === 'write'));
    assert.ok(
      events.some((e) => e.kind === 'permission_decision' && e.decision === 'allow'),
      'the write was asked and allowed by the policy',
    );
    assert.equal(events.at(-1)?.kind, 'finished');
    assert.deepEqual(
      events.map((e) => e.seq),
      events.map((_, i) => i + 1),
      'seq is ours: 1, 2, 3, …',
    );

    const s = await server.request(sessionStart, { goal: '- [a] A {files: a.txt}: write a.txt: alpha', cwd: sampleRepo(), approve: true });
    const done = await waitSession(server, s.id, ended);
    const a = task(done, 'a');
    assert.equal(a.state, 'succeeded', a.lastError);
    assert.equal(a.agentId, 'echo', 'routing chose the plugin agent');

    const err = await server.request(runStart, { agent: 'nope', cwd, prompt: 'x' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof ResponseError);
    assert.equal(err.code, errorCodes.invalidParams);
    assert.match(err.message, /agent: "nope" is not a registered agent/);
  } finally {
    await server.stop();
  }
});

test('an untrusted plugin and a trusted one whose entry file changed are not loaded, and are reported with the sha256', async () => {
  const changed = pluginDir(fs.readFileSync(path.join(example, 'index.js'), 'utf8'));
  const trustedBefore = trust(changed);
  fs.appendFileSync(path.join(changed, 'index.js'), '\nglobalThis.changedPluginRan = true;\n');
  const marker = path.join(tempDir(), 'ran');
  const untrusted = pluginDir(`import fs from 'node:fs';\nfs.writeFileSync(${JSON.stringify(marker)}, 'x');\nexport const plugin = {};\n`);
  const server = await startServer(tempDir(), { agents: { plugins: { paths: [untrusted, changed], trusted: [trustedBefore] } } });
  try {
    const u = await pluginOf(server, untrusted);
    assert.equal(u?.state, 'untrusted');
    assert.equal(u?.sha256, sha(path.join(untrusted, 'index.js')));
    assert.match(
      u?.message ?? '',
      /is not trusted; review it, then add \{"source": .*"sha256": "[0-9a-f]{64}"\} to orchestrator\.plugins\.trusted/,
    );
    assert.ok(!fs.existsSync(marker), 'the untrusted code never ran');
    const c = await pluginOf(server, changed);
    assert.equal(c?.state, 'untrusted');
    assert.notEqual(c?.sha256, trustedBefore.sha256);
    assert.match(c?.message ?? '', /entry file changed since it was trusted \(sha256 is now [0-9a-f]{64}\)/);
    assert.ok(!(await server.request(agentList, {})).some((a) => a.id === 'echo'), 'neither registered an agent');
    assert.equal((await server.request(serverStatus, {})).health, 'ok');
  } finally {
    await server.stop();
  }
});

test('a plugin installed as an npm package (the example, packed and installed with npm) loads when trusted', async () => {
  const dataDir = tempDir();
  const tmp = tempDir('orch-pack-');
  const tgz = execFileSync('npm', ['pack', example, '--pack-destination', tmp, '--silent'], { cwd: tmp, encoding: 'utf8' }).trim();
  const prefix = path.join(dataDir, 'plugins');
  execFileSync('npm', ['install', '--prefix', prefix, '--no-audit', '--no-fund', '--offline', path.join(tmp, tgz)], {
    stdio: 'ignore',
    timeout: 120_000,
  });
  const name = 'orchestrator-plugin-echo-agent';
  const entry = path.join(prefix, 'node_modules', name, 'index.js');
  const server = await startServer(dataDir, { agents: { plugins: { packages: [name], trusted: [{ source: name, sha256: sha(entry) }] } } });
  try {
    const p = await pluginOf(server, name);
    assert.equal(p?.state, 'loaded', JSON.stringify(p));
    assert.equal(p?.kind, 'package');
    assert.equal(p?.entry, fs.realpathSync(entry));
    const cwd = sampleRepo();
    const { runId } = await server.request(runStart, { agent: 'echo', cwd, prompt: 'write pkg.txt: from npm' });
    assert.equal((await finished(server, runId)).state, 'succeeded');
    assert.equal(fs.readFileSync(path.join(cwd, 'pkg.txt'), 'utf8'), 'from npm\n');
  } finally {
    await server.stop();
  }
});

test('broken plugins are reported and skipped; the server stays up and the other agents work', async () => {
  const atLoad = pluginDir(`throw new Error('boom at load');\n`);
  const missing = pluginDir(
    `export const plugin = { id: 'halfway', name: 'Half', createRuntime: () => ({ start() {}, dispose() {} }) };\n`,
  );
  const noShape = pluginDir(`export const plugin = { name: 42 };\n`);
  const runtime = (id: string, prompt: string) =>
    pluginDir(
      `export const plugin = { id: '${id}', name: '${id}', createRuntime: () => ({ async start() {}, prompt: ${prompt}, async cancel() {}, async dispose() {} }) };\n`,
    );
  const thrower = runtime('thrower', `() => { throw new Error('boom in prompt'); }`);
  const hanger = runtime('hanger', `() => new Promise(() => {})`);
  // Faults outside the turn's promise: a throw in a timer and a rejection nobody handles.
  const leaky = runtime(
    'leaky',
    `async () => { setTimeout(() => { throw new Error('timer boom'); }, 0); Promise.reject(new Error('leaked rejection')); return { status: 'succeeded', summary: 'ok' }; }`,
  );
  const broken = [atLoad, missing, noShape, thrower, hanger, leaky];
  const server = await startServer(tempDir(), {
    agents: {
      disabled: ['opencode'],
      plugins: { paths: [...broken, example], trusted: [...broken.map(trust), { source: example, sha256: exampleSha() }] },
    },
  });
  try {
    const st = await plugins(server);
    const of = (dir: string) => st.find((p) => p.source === dir)!;
    assert.equal(of(atLoad).state, 'failed');
    assert.match(of(atLoad).message ?? '', /boom at load/);
    assert.equal(of(missing).state, 'failed');
    assert.match(of(missing).message ?? '', /does not implement the AgentRuntime port: missing function\(s\) prompt, cancel/);
    assert.equal(of(noShape).state, 'failed');
    assert.match(of(noShape).message ?? '', /missing or has a wrong id .*name .*createRuntime/);
    for (const dir of [thrower, hanger, leaky, example]) assert.equal(of(dir).state, 'loaded', JSON.stringify(of(dir)));
    const ids = (await server.request(agentList, {})).map((a) => a.id).sort();
    assert.deepEqual(ids, ['echo', 'hanger', 'leaky', 'opencode', 'thrower'], 'the failed plugins registered no agent');

    const cwd = sampleRepo();
    const t = await finished(server, (await server.request(runStart, { agent: 'thrower', cwd, prompt: 'x' })).runId);
    assert.equal(t.state, 'failed');
    assert.match(t.error?.message ?? '', /plugin thrower failed in prompt: boom in prompt/);

    const h = await finished(
      server,
      (await server.request(runStart, { agent: 'hanger', cwd, prompt: 'x', timeouts: { idleMs: 1000 } })).runId,
    );
    assert.equal(h.state, 'failed');
    assert.match(h.error?.message ?? '', /plugin hanger: no activity for 1000 ms/);

    const l = await finished(server, (await server.request(runStart, { agent: 'leaky', cwd, prompt: 'x' })).runId);
    assert.equal(l.state, 'succeeded');
    const leaks = await until('both leaked faults reported', 20_000, async () => {
      const p = (await pluginOf(server, leaky))?.problems ?? [];
      return p.some((x) => /uncaught exception.*timer boom/.test(x)) && p.some((x) => /unhandled rejection.*leaked rejection/.test(x))
        ? p
        : undefined;
    });
    assert.equal(leaks.length, 2);
    assert.ok((await pluginOf(server, thrower))?.problems?.some((x) => /prompt threw: boom in prompt/.test(x)));
    assert.ok((await pluginOf(server, hanger))?.problems?.some((x) => /never resolved/.test(x)));

    // Still up, and the other agents work.
    assert.equal(server.child.exitCode, null, 'the server process is alive');
    const status = await server.request(serverStatus, {});
    assert.equal(status.health, 'ok');
    assert.match(status.message, /Plugin problems: .*boom at load/);
    const e = await finished(server, (await server.request(runStart, { agent: 'echo', cwd, prompt: 'write after.txt: still fine' })).runId);
    assert.equal(e.state, 'succeeded', JSON.stringify(e.error));
    assert.equal(fs.readFileSync(path.join(cwd, 'after.txt'), 'utf8'), 'still fine\n');
  } finally {
    await server.stop();
  }
});
