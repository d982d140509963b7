/**
 * Dataset curation from real sessions: the real server and OpenCode binary with the scripted model run a
 * session (one task line carries a database URL with a password and an e-mail address), the session is
 * applied, then DatasetService reads the server's own store and transcripts and writes a dataset folder.
 * The secret and the address never reach the exported files; every run has a record with its provenance.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { sessionApply, sessionApprove, sessionStart } from '../../protocol/session';
import { DatasetFolders } from '../../server/src/adapters/fs/datasetFolders';
import { JsonlTranscripts } from '../../server/src/adapters/fs/jsonlTranscript';
import { LowdbStore } from '../../server/src/adapters/lowdb/lowdbStore';
import { secretCorpus } from '../../server/src/adapters/secrets/secretCorpus';
import { SecretlintScanner } from '../../server/src/adapters/secrets/secretlintScanner';
import { GptTokenCounter } from '../../server/src/adapters/tokens/gptTokenCounter';
import { validateExample } from '../../server/src/domain/dataset/validate';
import type { Logger } from '../../server/src/ports/logger';
import { DatasetService } from '../../server/src/services/datasetService';
import { startServer, tempDir, type ServerHandle } from './serverProcess';
import { ended, sampleRepo, waitSession } from './sessionHelpers';

const quiet: Logger = { error() {}, warn() {}, info() {}, debug() {} };
let server: ServerHandle | undefined;
const dataDir = tempDir('orch-ds-it-');
before(async () => {
  server = await startServer(dataDir);
});
after(async () => {
  await server?.stop();
});

test('a session run with the demo model is curated into a dataset folder, secrets and PII removed', async () => {
  const cwd = sampleRepo();
  const db = secretCorpus(21).find((s) => s.kind === 'postgres-url')!;
  const goal = [
    'Write the config notes',
    `- [a] Alpha {files: a.txt}: [[script:write_file a.txt]] connect with ${db.secret} and page ops-oncall@example.com`,
    '- [b] Beta {files: b.txt}: [[script:write_file b.txt]] beta notes for the release',
    '- [c] Gamma (after: a) {files: c.txt}: [[script:write_file c.txt]] gamma summary of the rollout',
  ].join('\n');
  const draft = await server!.request(sessionStart, { goal, cwd });
  await server!.request(sessionApprove, { sessionId: draft.id });
  const v = await waitSession(server!, draft.id, ended);
  assert.equal(v.state, 'completed', JSON.stringify(v.tasks.map((t) => [t.planId, t.state, t.lastError])));
  await server!.request(sessionApply, { sessionId: draft.id });
  await server!.stop();
  server = undefined;

  const store = new LowdbStore(path.join(dataDir, 'store.json'), quiet);
  await store.load({ readOnly: true });
  const service = new DatasetService({
    store,
    transcripts: new JsonlTranscripts(path.join(dataDir, 'transcripts'), quiet),
    folders: new DatasetFolders(path.join(dataDir, 'datasets')),
    secrets: new SecretlintScanner(),
    tokens: new GptTokenCounter(),
    now: () => new Date(),
    logger: quiet,
  });
  const runs = service.selectRuns({ applied: true, sessionIds: [draft.id] });
  assert.equal(runs.length, 3);
  const s = await service.create({
    name: 'demo-session',
    filter: { applied: true, sessionIds: [draft.id] },
    options: { validationFraction: 0.34, groupBy: ['session'] },
  });
  assert.equal(s.stats.candidates, 3);
  assert.equal(s.stats.kept, 3, JSON.stringify(s.stats));
  assert.equal(s.stats.train.examples, 3);
  assert.deepEqual(s.warnings, ['no validation examples: the smallest of the 1 group(s) is larger than the 1 wanted']);
  assert.ok((s.stats.redactions['database-connection-string'] ?? 0) >= 1, JSON.stringify(s.stats.redactions));
  assert.ok((s.stats.redactions.email ?? 0) >= 1);

  const folder = s.folder!;
  const records = readFileSync(path.join(folder, 'records.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  for (const r of records) {
    assert.equal(r.status, 'kept');
    assert.equal(r.provenance.sessionId, draft.id);
    assert.equal(r.provenance.repo, cwd);
    assert.equal(r.provenance.applied, true);
    assert.equal(r.provenance.outcome, 'succeeded');
    assert.ok(r.provenance.taskId && r.tokens > 0);
  }
  const examples = readFileSync(path.join(folder, 'openai', 'train.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(examples.length, 3);
  for (const [i, row] of examples.entries()) {
    const { parallel_tool_calls: _p, ...rest } = row;
    const ex = validateExample(rest, i + 1);
    assert.equal(ex.messages[0]!.role, 'user');
    const call = ex.messages.find((m) => m.role === 'assistant' && m.tool_calls)!;
    assert.equal(call.role === 'assistant' && call.tool_calls![0]!.function.name, 'write');
    assert.equal(ex.messages[ex.messages.length - 1]!.role, 'assistant');
  }
  const scanner = new SecretlintScanner();
  for (const f of readdirSync(folder, { recursive: true })
    .map(String)
    .filter((x) => x.includes('.'))) {
    const text = readFileSync(path.join(folder, f), 'utf8');
    assert.ok(!text.includes(db.secret) && !text.includes('ops-oncall@example.com'), f);
    assert.deepEqual(await scanner.scan(text), [], f);
    assert.ok(!text.includes(dataDir), `${f} holds no worktree path`);
  }
});
