/**
 * The headless CLI as a user runs it (`node dist/cli.js …`, the real OpenCode binary): a config file with
 * a real OpenAI-compatible provider (the scripted model, started here, standing in for it), keys from the
 * environment only, `--allow`, strict parsing and help, a held data-folder lock, a bad config file.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startScriptedModel, type ScriptedModel } from '../../server/src/adapters/scriptedModel/scriptedModel';
import { cliJs, tempDir } from './serverProcess';
import { sampleRepo } from './sessionHelpers';

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the CLI with a clean config location (no user config leaks in) and a deadline. */
function cli(args: string[], env: Record<string, string> = {}, timeoutMs = 240_000): Promise<CliResult> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cliJs, ...args],
      { timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024, env: { ...process.env, XDG_CONFIG_HOME: tempDir('orch-xdg-'), ...env } },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr, ms: Date.now() - t0 }),
    );
  });
}

/** Every file under `dir` (recursively, .git included) whose bytes contain `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  const hits: string[] = [];
  for (const rel of readdirSync(dir, { recursive: true }).map(String)) {
    const f = path.join(dir, rel);
    try {
      if (readFileSync(f).includes(needle)) hits.push(f);
    } catch {
      // A directory, a socket, or a file removed meanwhile.
    }
  }
  return hits;
}

/** A repository with a test script that proves it ran: it writes the computed result to a file. */
function repoWithTests(): string {
  const cwd = sampleRepo();
  writeFileSync(path.join(cwd, 'test.js'), "require('fs').writeFileSync('test-report.txt', 'tests passed: ' + 6 * 7 + '\\n');\n");
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'add', '-A'], { cwd });
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'tests'], { cwd });
  return cwd;
}

const runTestsGoal = '- [t] Run the tests {files: test-report.txt}: [[script:bash]] node test.js';

let model: ScriptedModel;
before(async () => {
  model = await startScriptedModel();
});
after(async () => {
  await model.close();
});

function writeConfig(config: unknown): string {
  const f = path.join(tempDir('orch-cfg-'), 'config.json');
  writeFileSync(f, JSON.stringify(config, null, 2));
  return f;
}

test('run "GOAL" --config: a real provider gets the key from the environment, the key is written nowhere, --allow node lets the agent run the tests', async () => {
  const key = `sk-it-${randomBytes(16).toString('hex')}`;
  const config = writeConfig({
    providers: [{ id: 'local', name: 'Local test server', baseURL: model.url, apiKey: '{env:TEST_KEY}', models: { scripted: {} } }],
    model: 'local/scripted',
  });
  const cwd = repoWithTests();
  const dataDir = tempDir();
  const before = model.requests.length;
  const r = await cli(['run', runTestsGoal, '--cwd', cwd, '--approve', '--config', config, '--allow', 'node', '--data-dir', dataDir], {
    TEST_KEY: key,
  });
  assert.equal(r.code, 0, `${r.stderr}\n${r.stdout}`);
  const chats = model.requests.slice(before).filter((q) => q.url.endsWith('/chat/completions'));
  assert.ok(chats.length >= 2, `the provider was asked (${chats.length} requests)`);
  for (const q of chats) assert.equal(q.headers.authorization, `Bearer ${key}`, 'every request carries the key from the environment');
  assert.ok(
    chats.every((q) => q.body?.model === 'scripted'),
    'the configured model answered',
  );
  assert.match(r.stdout, /added test-report\.txt/, "the test script ran through the agent's bash tool");
  assert.match(r.stdout, /\+tests passed: 42/);
  assert.doesNotMatch(r.stderr + r.stdout, /demo model/, 'no demo notice with a real provider');
  assert.doesNotMatch(r.stderr, /permission bash/, 'nothing was asked');
  assert.deepEqual(filesContaining(dataDir, key), [], 'the key is in no file under the data folder');
  assert.deepEqual(filesContaining(cwd, key), [], 'the key is in no file of the repository');
  assert.deepEqual(filesContaining(path.dirname(config), key), []);

  // The same task without --allow node: the policy asks, headless denies, the tests do not run.
  const cwd2 = repoWithTests();
  const denied = await cli(['run', runTestsGoal, '--cwd', cwd2, '--approve', '--config', config, '--data-dir', tempDir()], {
    TEST_KEY: key,
  });
  assert.match(denied.stderr, /permission bash node test\.js \(not on the command allow-list: node\): deny/);
  assert.doesNotMatch(denied.stdout, /test-report\.txt/);
  assert.ok(!existsSync(path.join(cwd2, 'test-report.txt')));
});

test('with a real provider a free-form goal is planned by the model (LLM planner), a task list is taken as written', async () => {
  const key = `sk-it-${randomBytes(8).toString('hex')}`;
  const config = writeConfig({
    providers: [{ id: 'local', baseURL: model.url, apiKey: '{env:TEST_KEY}', models: { scripted: {} } }],
    model: 'local/scripted',
  });
  const plan = { tasks: [{ id: 'x', title: 'Model-made task', prompt: 'write x.txt', expectedFiles: ['x.txt'] }] };
  const free = await cli(
    ['run', `[[script:text]] ${JSON.stringify(plan)}`, '--cwd', sampleRepo(), '--plan-only', '--config', config, '--data-dir', tempDir()],
    {
      TEST_KEY: key,
    },
  );
  assert.equal(free.code, 0, free.stderr);
  assert.match(free.stderr, /planner llm/);
  assert.match(free.stderr, /Model-made task/);
  const list = await cli(
    ['run', '- [a] A {files: a.txt}: alpha', '--cwd', sampleRepo(), '--plan-only', '--config', config, '--data-dir', tempDir()],
    {
      TEST_KEY: key,
    },
  );
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stderr, /planner template/);
  // The demo model: a free-form goal gets the template planner (the demo model cannot plan).
  const demo = await cli(['run', 'add a --verbose flag', '--cwd', sampleRepo(), '--plan-only', '--data-dir', tempDir()]);
  assert.equal(demo.code, 0, demo.stderr);
  assert.match(demo.stderr, /planner template/);
});

test('without a provider the CLI says loudly, at the start and in the summary, that it runs the scripted demo model', async () => {
  const cwd = sampleRepo();
  const r = await cli([
    'run',
    '- [a] A {files: a.txt}: [[script:write_file a.txt]] alpha',
    '--cwd',
    cwd,
    '--approve',
    '--data-dir',
    tempDir(),
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr.split('\n')[0],
    /running the scripted demo model \(demo\/scripted, offline, no real LLM\).*add "providers" to .*config\.json or pass --config FILE/,
  );
  assert.match(r.stdout, /note: running the scripted demo model/);
});

test("parsing: an unknown option or a typo exits 2 naming it and runs nothing; help COMMAND and COMMAND --help print that command's help", async () => {
  const dataDir = tempDir();
  const typo = await cli(['sessions', '--jsno', '--data-dir', dataDir], {}, 30_000);
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /unknown option --jsno \(did you mean --json\?\)/);
  assert.equal(typo.stdout, '', 'no table printed');
  const bad = await cli(['run', 'goal', '--cwd', sampleRepo(), '--apporve', '--data-dir', dataDir], {}, 30_000);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown option --apporve \(did you mean --approve\?\)/);
  assert.deepEqual(readdirSync(dataDir), [], 'nothing was created');
  const help = await cli(['help', 'run'], {}, 30_000);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: orchestrator run "GOAL"/);
  assert.match(help.stdout, /--allow PROGRAM/);
  assert.match(help.stdout, /--config FILE/);
  const dashHelp = await cli(['run', '--help'], {}, 30_000);
  assert.equal(dashHelp.stdout, help.stdout);
  const resumeHelp = await cli(['help', 'resume'], {}, 30_000);
  assert.match(resumeHelp.stdout, /^Usage: orchestrator resume ID/);
  assert.doesNotMatch(resumeHelp.stdout, /--plan-only/);
});

test('run and resume refuse a data folder another live process holds: exit 4 within 5 s naming its pid; status and sessions still work', async () => {
  const dataDir = tempDir();
  const holder = process.pid;
  writeFileSync(path.join(dataDir, 'server.lock'), JSON.stringify({ pid: holder, startedAt: new Date().toISOString() }));
  const resumed = await cli(['resume', 'snope', '--approve', '--data-dir', dataDir], {}, 30_000);
  assert.equal(resumed.code, 4, resumed.stderr);
  assert.ok(resumed.ms < 5000, `exited within 5 s (took ${resumed.ms} ms)`);
  assert.match(resumed.stderr, new RegExp(`in use by another orchestrator process \\(pid ${holder}`));
  const run = await cli(['run', 'a goal', '--cwd', sampleRepo(), '--approve', '--data-dir', dataDir], {}, 30_000);
  assert.equal(run.code, 4, run.stderr);
  assert.ok(run.ms < 5000, `exited within 5 s (took ${run.ms} ms)`);
  assert.match(run.stderr, new RegExp(`pid ${holder}`));
  const sessions = await cli(['sessions', '--data-dir', dataDir], {}, 30_000);
  assert.equal(sessions.code, 0, sessions.stderr);
  assert.match(sessions.stdout, /no sessions yet/);
  const status = await cli(['status', '--data-dir', dataDir, '--json'], {}, 30_000);
  assert.equal(JSON.parse(status.stdout).dataDir, dataDir);
  assert.equal(JSON.parse(readFileSync(path.join(dataDir, 'server.lock'), 'utf8')).pid, holder, 'the holder keeps its lock');
});

test('a bad config file exits 2 naming the file and the field, and creates nothing', async () => {
  const cwd = sampleRepo();
  const dataDir = path.join(tempDir(), 'data');
  const gitState = () =>
    ['status --porcelain', 'branch --list', 'worktree list --porcelain']
      .map((c) => execFileSync('git', c.split(' '), { cwd, encoding: 'utf8' }))
      .join('\n');
  const start = gitState();
  const literal = writeConfig({ providers: [{ id: 'local', baseURL: model.url, apiKey: 'sk-literal', models: { scripted: {} } }] });
  const r = await cli(['run', 'a goal', '--cwd', cwd, '--approve', '--config', literal, '--data-dir', dataDir], {}, 30_000);
  assert.equal(r.code, 2);
  assert.match(r.stderr, new RegExp(`${literal.replace(/[.\\/]/g, '\\$&')}: providers\\[0\\]\\.apiKey: must be \\{env:NAME\\}`));
  const missing = path.join(tempDir(), 'nope.json');
  const m = await cli(['resume', 'sx', '--config', missing, '--data-dir', dataDir], {}, 30_000);
  assert.equal(m.code, 2);
  assert.match(m.stderr, /nope\.json: --config: no such file/);
  const good = writeConfig({ providers: [{ id: 'local', baseURL: model.url, apiKey: '{env:TEST_KEY}', models: { scripted: {} } }] });
  const wrongModel = await cli(
    ['run', 'a goal', '--cwd', cwd, '--config', good, '--model', 'openai/gpt-x', '--data-dir', dataDir],
    {},
    30_000,
  );
  assert.equal(wrongModel.code, 2);
  assert.match(wrongModel.stderr, /--model: unknown model "openai\/gpt-x"; configured models: local\/scripted/);
  assert.ok(!existsSync(dataDir), 'no data folder was created');
  assert.equal(gitState(), start, 'the repository is as it was');
});
