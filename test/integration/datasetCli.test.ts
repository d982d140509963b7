/**
 * `orchestrator dataset create|list|export` against a data folder where the CLI itself ran an agent turn
 * (real OpenCode binary, scripted demo model) whose prompt carried a GitHub token: the dataset is written,
 * listed and exported without it; bad input exits 2 naming the option and writes nothing.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { secretCorpus } from '../../server/src/adapters/secrets/secretCorpus';
import { cliJs, tempDir } from './serverProcess';
import { sampleRepo } from './sessionHelpers';

const exec = promisify(execFile);
const cli = (args: string[]) =>
  exec(process.execPath, [cliJs, ...args], {
    timeout: 240_000,
    maxBuffer: 32 * 1024 * 1024,
    env: { ...process.env, XDG_CONFIG_HOME: tempDir('orch-xdg-') },
  }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

test(
  'orchestrator dataset create, list and export over the runs of a data folder; bad input exits 2 and writes nothing',
  { timeout: 400_000 },
  async () => {
    const dataDir = tempDir('orch-dscli-');
    const token = secretCorpus(9).find((s) => s.kind === 'github-classic')!;
    const run = await cli([
      'run',
      '--agent',
      'opencode',
      '--cwd',
      sampleRepo(),
      '--data-dir',
      dataDir,
      `[[script:write_file t.txt]] ${token.text}`,
    ]);
    assert.equal(run.code, 0, run.stderr);

    const created = await cli(['dataset', 'create', 'cli-set', '--data-dir', dataDir, '--format', 'openai', '--format', 'mlx', '--json']);
    assert.equal(created.code, 0, created.stderr);
    const d = JSON.parse(created.stdout) as { id: string; folder: string; stats: { kept: number }; formats: string[] };
    assert.equal(d.folder, path.join(dataDir, 'datasets', 'cli-set'));
    assert.equal(d.stats.kept, 1);
    assert.deepEqual(d.formats, ['openai', 'mlx']);
    for (const f of readdirSync(d.folder, { recursive: true })
      .map(String)
      .filter((x) => x.includes('.')))
      assert.ok(!readFileSync(path.join(d.folder, f), 'utf8').includes(token.secret), `no token in ${f}`);

    const list = await cli(['dataset', 'list', '--data-dir', dataDir]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`^cli-set  ${d.id}\\n  1 of 1 runs kept`));

    const ex = await cli(['dataset', 'export', 'cli-set', '--format', 'mlx', '--data-dir', dataDir]);
    assert.equal(ex.code, 0, ex.stderr);
    assert.deepEqual(ex.stdout.trim().split('\n'), [path.join(d.folder, 'mlx', 'train.jsonl'), path.join(d.folder, 'mlx', 'valid.jsonl')]);
    assert.ok(existsSync(path.join(d.folder, 'mlx', 'train.jsonl')));

    const again = await cli(['dataset', 'create', 'cli-set', '--data-dir', dataDir, '--format', 'openai', '--format', 'mlx', '--json']);
    assert.equal(JSON.parse(again.stdout).id, d.id, 'the same content: the existing version');

    const before = readdirSync(path.join(dataDir, 'datasets'), { recursive: true }).map(String).sort();
    const bad: [string[], number, RegExp][] = [
      [['dataset', 'create', 'x', '--format', 'csv'], 2, /--format must be one of openai, sharegpt, mlx \(got "csv"\)/],
      [['dataset', 'create', 'x', '--since', 'yesterday'], 2, /filter: since: must be an ISO 8601 time/],
      [['dataset', 'create', 'x', '--max-tokens', '-3'], 2, /--max-tokens/],
      [['dataset', 'create', 'no/slash'], 2, /name: must match/],
      [['dataset', 'create', 'x', '--agent', 'nobody'], 2, /filter: no agent runs match it/],
      [['dataset', 'create', 'cli-set', '--seed', 'other'], 1, /a dataset named "cli-set" already exists with other content/],
      [['dataset', 'export', 'cli-set', '--format', 'sharegpt'], 1, /created without sharegpt/],
      [['dataset', 'frobnicate'], 2, /unknown subcommand "frobnicate"/],
    ];
    for (const [args, code, message] of bad) {
      const r = await cli([...args, '--data-dir', dataDir]);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
    }
    assert.deepEqual(readdirSync(path.join(dataDir, 'datasets'), { recursive: true }).map(String).sort(), before, 'nothing written');
  },
);
