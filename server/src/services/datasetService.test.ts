/**
 * DatasetService over the real adapters: the lowdb store and JSONL transcripts on disk, secretlint, the
 * o200k tokenizer and dataset folders. Runs are put in the store and transcripts as the task runner writes them.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { DatasetFolders } from '../adapters/fs/datasetFolders';
import { JsonlTranscripts } from '../adapters/fs/jsonlTranscript';
import { LowdbStore } from '../adapters/lowdb/lowdbStore';
import { secretCorpus } from '../adapters/secrets/secretCorpus';
import { SecretlintScanner } from '../adapters/secrets/secretlintScanner';
import { GptTokenCounter } from '../adapters/tokens/gptTokenCounter';
import { DomainError } from '../domain/errors';
import { newSession } from '../domain/orchestration/sessionState';
import { newTask } from '../domain/orchestration/taskState';
import type { StoredRun } from '../domain/storeEntities';
import { DatasetService } from './datasetService';
import { quiet } from './testDoubles';

async function setup() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'orch-dss-'));
  const store = new LowdbStore(path.join(dir, 'store.json'), quiet);
  await store.load();
  const transcripts = new JsonlTranscripts(path.join(dir, 'transcripts'), quiet);
  const service = new DatasetService({
    store,
    transcripts,
    folders: new DatasetFolders(path.join(dir, 'datasets')),
    secrets: new SecretlintScanner(),
    tokens: new GptTokenCounter(),
    now: () => new Date('2026-12-05T12:00:00Z'),
    logger: quiet,
  });
  const secret = secretCorpus(2).find((s) => s.kind === 'postgres-url')!;
  const addRun = async (
    i: number,
    o: { session: string; state?: StoredRun['state']; finished?: boolean; agent?: string; leak?: boolean },
  ) => {
    const id = `run${i}`;
    await store.update((d) => {
      d.runs.push({
        id,
        tenantId: 'local',
        sessionId: o.session,
        agent: o.agent ?? 'opencode',
        cwd: `/work/${o.session}/wt-${i}`,
        prompt: `Write the file number ${i} with a short ${['poem', 'note', 'list', 'table'][i % 4]} about topic ${i * 13}.`,
        model: 'demo/scripted',
        state: o.state ?? 'succeeded',
        createdAt: `2026-12-0${1 + (i % 4)}T10:00:0${i % 10}Z`,
        usage: { inputTokens: 0, outputTokens: 0, reasoningTokens: 0, cacheReadTokens: 0, cost: 0 },
        events: 0,
      });
    });
    let seq = 0;
    const put = (body: Record<string, unknown>) =>
      transcripts.append(o.session, id, { seq: ++seq, at: '2026-12-05T10:00:00Z', key: `k${seq}`, ...body } as never);
    await put({ kind: 'message_chunk', role: 'assistant', text: `Writing file ${i}.` });
    await put({
      kind: 'tool_call',
      id: `t${i}`,
      title: 'write',
      toolName: 'write',
      status: 'completed',
      input: { filePath: `f${i}.txt`, content: o.leak ? secret.text : `body ${i}` },
      output: 'Wrote file',
    });
    await put({ kind: 'message_chunk', role: 'assistant', text: `File ${i} written with ${i * 3} words on topic ${i * 13}.` });
    if (o.finished !== false) await put({ kind: 'finished', stopReason: 'end_turn' });
  };
  await store.update((d) => {
    const session = (id: string, cwd: string) => newSession({ id, tenantId: 'local', goal: 'g', cwd, nowMs: 1 });
    d.sessions.push({ ...session('sA', '/repos/alpha'), applied: { at: 1, files: ['f1.txt'] } });
    d.sessions.push(session('sB', '/repos/beta'));
    d.tasks.push({ ...newTask({ id: 'taskA1', tenantId: 'local', sessionId: 'sA', title: 'A', prompt: 'p', nowMs: 1 }), runId: 'run1' });
  });
  return { dir, store, service, secret, addRun };
}

test('selects runs by filters, with provenance from the store (repository of the session, applied, task id)', async () => {
  const { service, addRun } = await setup();
  await addRun(1, { session: 'sA' });
  await addRun(2, { session: 'sB' });
  await addRun(3, { session: 'sB', state: 'failed' });
  await addRun(4, { session: 'run-x', agent: 'other' });
  const all = service.selectRuns();
  assert.deepEqual(
    all.map((r) => r.run.id),
    ['run4', 'run1', 'run2'],
  );
  assert.deepEqual(all[1]!.provenance, {
    sessionId: 'sA',
    taskId: 'taskA1',
    runId: 'run1',
    repo: '/repos/alpha',
    agent: 'opencode',
    model: 'demo/scripted',
    outcome: 'succeeded',
    applied: true,
    createdAt: '2026-12-02T10:00:01Z',
  });
  assert.equal(all[0]!.provenance.repo, '/work/run-x/wt-4');
  assert.deepEqual(
    service.selectRuns({ applied: true }).map((r) => r.run.id),
    ['run1'],
  );
  assert.deepEqual(
    service.selectRuns({ outcomes: ['failed'] }).map((r) => r.run.id),
    ['run3'],
  );
  assert.deepEqual(
    service.selectRuns({ agents: ['other'] }).map((r) => r.run.id),
    ['run4'],
  );
  assert.deepEqual(
    service.selectRuns({ since: '2026-12-03T00:00:00Z' }).map((r) => r.run.id),
    ['run2'],
  );
  assert.throws(() => service.selectRuns({ since: 'yesterday' }), /^DomainError: filter\.since: must be an ISO time/);
});

test('create writes one folder: manifest, records, examples, each format; secrets never reach it; same content is idempotent', async () => {
  const { dir, service, secret, addRun } = await setup();
  for (let i = 1; i <= 8; i++) await addRun(i, { session: i % 2 ? 'sA' : 'sB', leak: i === 3 });
  await addRun(9, { session: 'sB', finished: false });
  const s = await service.create({ name: 'first', options: { validationFraction: 0.5, groupBy: ['session'] } });
  assert.match(s.id, /^sha256:[0-9a-f]{64}$/);
  assert.equal(s.stats.candidates, 9);
  assert.equal(s.stats.kept, 8);
  assert.deepEqual(s.stats.dropped, { build: 1 });
  assert.equal(s.stats.validation.examples, 4);
  assert.equal(s.tokenizer, 'o200k_base');
  const folder = path.join(dir, 'datasets', 'first');
  assert.equal(s.folder, folder);
  const files = readdirSync(folder, { recursive: true }).map(String).sort();
  assert.deepEqual(files, [
    'examples.jsonl',
    'manifest.json',
    'mlx',
    'mlx/train.jsonl',
    'mlx/valid.jsonl',
    'openai',
    'openai/train.jsonl',
    'openai/validation.jsonl',
    'records.jsonl',
    'sharegpt',
    'sharegpt/axolotl.yaml',
    'sharegpt/train.jsonl',
    'sharegpt/validation.jsonl',
  ]);
  const records = readFileSync(path.join(folder, 'records.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const run9 = records.find((r) => r.source === 'run9');
  assert.deepEqual(
    [run9.status, run9.stage, run9.reason],
    ['dropped', 'build', 'truncated: the run has no finished event (it did not end)'],
  );
  const run3 = records.find((r) => r.source === 'run3');
  assert.ok(
    run3.redactions.some(
      (x: { kind: string; field: string }) => x.kind === 'database-connection-string' && x.field.endsWith('.function.arguments.content'),
    ),
  );
  const scanner = new SecretlintScanner();
  for (const f of files.filter((x) => x.includes('.'))) {
    const text = readFileSync(path.join(folder, f), 'utf8');
    assert.ok(!text.includes(secret.secret), f);
    assert.deepEqual(await scanner.scan(text), [], f);
  }
  const again = await service.create({ name: 'first', options: { validationFraction: 0.5, groupBy: ['session'] } });
  assert.deepEqual(again, s);
  assert.deepEqual(
    s.files.filter((f) => f.format === 'mlx').map((f) => path.relative(folder, f.path)),
    ['mlx/train.jsonl', 'mlx/valid.jsonl'],
  );
  assert.deepEqual(await service.exportPaths('first', 'openai'), [
    path.join(folder, 'openai', 'train.jsonl'),
    path.join(folder, 'openai', 'validation.jsonl'),
  ]);
  const recs = await service.records('first');
  assert.deepEqual(
    recs.map((r) => [r.source, r.status]),
    records.map((r) => [r.source, r.status]),
  );
  assert.deepEqual(
    (await service.list()).map((x) => x.name),
    ['first'],
  );
});

test('bad input: clear errors, nothing written', async () => {
  const { dir, service, addRun } = await setup();
  await addRun(1, { session: 'sA' });
  const bad = async (input: Parameters<DatasetService['create']>[0], reason: string, message: RegExp) =>
    assert.rejects(service.create(input), (e: unknown) => DomainError.is(e) && e.reason === reason && message.test(e.message));
  await bad({ name: 'no/slash' }, 'bad_input', /^name: must match/);
  await bad({ name: 'x', formats: ['csv' as never] }, 'bad_input', /^formats: must list some of openai, sharegpt, mlx/);
  await bad({ name: 'x', options: { maxTokens: -1 } }, 'bad_input', /^options\.maxTokens: must be a positive integer/);
  await bad({ name: 'x', options: { validationFraction: 1 } }, 'bad_input', /^options\.validationFraction/);
  await bad({ name: 'x', filter: { outcomes: ['cancelled'] } }, 'bad_input', /^filter: no agent runs match it/);
  assert.ok(!existsSync(path.join(dir, 'datasets')) || readdirSync(path.join(dir, 'datasets')).length === 0);
  await service.create({ name: 'taken' });
  await bad(
    { name: 'taken', options: { seed: 'another' } },
    'conflict',
    /^name: a dataset named "taken" already exists with other content/,
  );
  assert.deepEqual(readdirSync(path.join(dir, 'datasets')), ['taken']);
});
