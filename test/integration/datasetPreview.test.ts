/**
 * `dataset/preview` and the curator's choices (`curation` on `dataset/create`) over the real server: two
 * single runs with the real OpenCode binary and the scripted demo model, one prompt carrying a GitHub token
 * and an e-mail address. The preview writes nothing, shows the redacted examples and every record; an
 * excluded run is dropped at `curator`, an edit is validated, redacted and recorded (records and manifest),
 * and the export holds exactly the kept, edited example. Bad choices name the edit and write nothing.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ResponseError } from 'vscode-jsonrpc/node';
import { datasetCreate, datasetPreview, type DatasetCuration } from '../../protocol/dataset';
import { errorCodes } from '../../protocol/errors';
import type { ParamsOf, RequestDef, ResultOf } from '../../protocol/messages';
import { runGet, runStart, type RunView } from '../../protocol/run';
import { startServer, tempDir, withDeadline, type ServerHandle } from './serverProcess';
import { sampleRepo } from './sessionHelpers';

let server: ServerHandle;
const dataDir = tempDir('orch-dsprev-');
const token = `ghp_${'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8'}`;

before(async () => {
  server = await startServer(dataDir);
});
after(async () => {
  await server?.stop();
});

const call = <D extends RequestDef<string, unknown, unknown>>(def: D, params: ParamsOf<D>, ms = 60_000): Promise<ResultOf<D>> =>
  withDeadline(server.connection.sendRequest(def.method, params), ms, def.method) as Promise<ResultOf<D>>;

async function singleRun(prompt: string): Promise<RunView> {
  const { runId } = await server.request(runStart, { agent: 'opencode', cwd: sampleRepo(), prompt });
  const end = Date.now() + 90_000;
  while (Date.now() < end) {
    const r = await server.request(runGet, { runId });
    if (!['pending', 'running'].includes(r.state)) {
      assert.equal(r.state, 'succeeded', JSON.stringify(r.error));
      return r;
    }
    await new Promise((res) => setTimeout(res, 200));
  }
  throw new Error(`run ${runId} did not finish within 90 s`);
}

test('preview, exclude, edit, export: the choices are applied, redacted and recorded', { timeout: 300_000 }, async () => {
  const [a, b] = await Promise.all([
    singleRun(`[[script:write_file a.txt]] deploy with ${token} and tell ops@example.com`),
    singleRun('[[script:write_file b.txt]] write the release notes for the parser module'),
  ]);
  const filter = { outcomes: ['succeeded' as const] };

  const p = await call(datasetPreview, { filter });
  assert.equal(p.records.length, 2);
  assert.ok(!existsSync(path.join(dataDir, 'datasets')) || !existsSync(path.join(dataDir, 'datasets', 'picked')), 'preview writes nothing');
  const exA = p.examples.find((e) => e.source === a.id)!;
  const prompt = exA.messages.find((m) => m.role === 'user')!.content!;
  assert.ok(!prompt.includes(token), 'the token is redacted in the preview');
  assert.match(prompt, /\[REDACTED:github\]/);
  assert.match(prompt, /\[REDACTED:email\]/);
  assert.ok(p.records.find((r) => r.source === a.id)!.redactions.length >= 2);

  const userIndex = exA.messages.findIndex((m) => m.role === 'user');
  const curation = {
    exclude: [b.id],
    edits: [{ runId: a.id, message: userIndex, content: 'Write a.txt for the deploy; ask root@example.org' }],
  };
  const q = await call(datasetPreview, { filter, curation });
  const recB = q.records.find((r) => r.source === b.id)!;
  assert.deepEqual([recB.status, recB.stage, recB.reason], ['dropped', 'curator', 'excluded by the curator']);
  assert.deepEqual(q.records.find((r) => r.source === a.id)!.edited, [userIndex]);
  assert.equal(q.examples.length, 1);
  assert.equal(q.examples[0]!.messages[userIndex]!.content, 'Write a.txt for the deploy; ask [REDACTED:email]');

  const v = await call(datasetCreate, { name: 'picked', filter, formats: ['openai'], curation });
  assert.deepEqual(v.curation, { exclude: [b.id], edits: [{ runId: a.id, message: userIndex }] });
  const file = v.files.find((f) => f.path.endsWith('train.jsonl')) ?? v.files[0]!;
  const lines = readFileSync(file.path, 'utf8').split('\n').filter(Boolean);
  const all = v.files.flatMap((f) => readFileSync(f.path, 'utf8').split('\n').filter(Boolean));
  assert.equal(all.length, 1, `one example exported (${lines.length} in ${file.path})`);
  assert.ok(all[0]!.includes('Write a.txt for the deploy; ask [REDACTED:email]'));
  assert.ok(!all[0]!.includes('root@example.org'));
  const manifest = JSON.parse(readFileSync(path.join(v.folder, 'manifest.json'), 'utf8')) as { curation: unknown };
  assert.deepEqual(manifest.curation, v.curation);
  const records = readFileSync(path.join(v.folder, 'records.jsonl'), 'utf8');
  assert.match(records, /"stage":"curator"/);
  assert.match(records, new RegExp(`"edited":\\[${userIndex}\\]`));

  // Bad choices: the field is named and nothing is written.
  const bads: [DatasetCuration, RegExp][] = [
    [{ exclude: ['run-nope'] }, /curation\.exclude\[0\]: run "run-nope" is not a candidate/],
    [{ edits: [{ runId: a.id, message: 99, content: 'x' }] }, /curation\.edits\[0\]\.message: run "[^"]+" has \d+ messages/],
  ];
  for (const [bad, field] of bads) {
    const err = await call(datasetCreate, { name: 'bad-choice', filter, curation: bad }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof ResponseError);
    assert.equal(err.code, errorCodes.invalidParams);
    assert.match(err.message, field);
    assert.ok(!existsSync(path.join(dataDir, 'datasets', 'bad-choice')));
  }
});
