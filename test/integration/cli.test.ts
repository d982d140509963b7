/** The headless CLI against the real OpenCode binary and the scripted demo model. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { cliJs, tempDir } from './serverProcess';
import { sampleRepo } from './sessionHelpers';

const exec = promisify(execFile);
// A config location of its own, so a config file of the machine's user does not change what runs.
const cli = (args: string[]) =>
  exec(process.execPath, [cliJs, ...args], {
    timeout: 240_000,
    maxBuffer: 32 * 1024 * 1024,
    env: { ...process.env, XDG_CONFIG_HOME: tempDir('orch-xdg-') },
  }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

test('orchestrator run --agent opencode: one task, progress, diff, exit 0; bad input exits 2 and starts nothing', async () => {
  const cwd = sampleRepo();
  const dataDir = tempDir();
  const r = await cli([
    'run',
    '--agent',
    'opencode',
    '--cwd',
    cwd,
    '--data-dir',
    dataDir,
    'Create a file named hello.txt containing hello cli',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(path.join(cwd, 'hello.txt'), 'utf8'), 'hello cli\n');
  assert.match(r.stdout, /succeeded/);
  assert.match(r.stdout, /\+hello cli/);
  assert.match(r.stderr, /\[succeeded\]/, 'a progress line');
  const bad = await cli(['run', '--agent', 'opencode', '--cwd', path.join(cwd, 'nope'), '--data-dir', dataDir, 'x']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /cwd does not exist/);
});

test('orchestrator run "<goal>" stops at a budget, resume --approve finishes it, sessions lists it', async () => {
  const cwd = sampleRepo();
  const dataDir = tempDir();
  const goal =
    '- [a] A {files: a.txt} {tokens: 3000}: [[script:write_file a.txt]] alpha\n- [b] B (after: a) {files: b.txt} {tokens: 3000}: [[script:write_file b.txt]] beta';
  const plan = await cli(['run', goal, '--cwd', cwd, '--data-dir', dataDir, '--plan-only']);
  assert.equal(plan.code, 0, plan.stderr);
  assert.match(plan.stderr, /\[b\] B after a \{b\.txt\}/);
  const first = await cli([
    'run',
    goal,
    '--cwd',
    cwd,
    '--data-dir',
    dataDir,
    '--approve',
    '--budget-tokens',
    '4000',
    '--max-parallel',
    '2',
  ]);
  assert.equal(first.code, 3, `exit 3 = waiting for the user: ${first.stderr}`);
  assert.match(first.stderr, /the session needs you: tokens budget/);
  const id = /orchestrator resume (\S+)/.exec(first.stderr)?.[1];
  assert.ok(id, 'the resume command is printed');
  const listed = await cli(['sessions', '--data-dir', dataDir]);
  assert.match(listed.stdout, new RegExp(`${id}\\s+awaiting_approval`));
  const resumed = await cli(['resume', id!, '--approve', '--budget-tokens', '1000000', '--data-dir', dataDir]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stdout, /completed/);
  assert.match(resumed.stdout, /added a\.txt/);
  assert.match(resumed.stdout, /added b\.txt/);
});
