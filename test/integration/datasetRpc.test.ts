/**
 * `dataset/*` over the real server process: a session and single runs with the real OpenCode binary and
 * the scripted demo model, their prompts and tool calls carrying a corpus of realistic planted secrets
 * (an AWS key pair, GitHub, Slack and OpenAI tokens, a password in a URL, a private key block), then
 * `dataset/candidates`, `dataset/create`, `dataset/list`, `dataset/get` and `dataset/export` as a client
 * calls them. Every exported file is read from disk: no planted secret is in any (the count is printed),
 * every format parses, every dropped candidate says why, and bad input changes nothing on disk.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ResponseError } from 'vscode-jsonrpc/node';
import { datasetCandidates, datasetCreate, datasetExport, datasetGet, datasetList, type DatasetView } from '../../protocol/dataset';
import { errorCodes } from '../../protocol/errors';
import type { ParamsOf, RequestDef, ResultOf } from '../../protocol/messages';
import { permissionRequest, runGet, runStart, type RunView } from '../../protocol/run';
import { sessionApply, sessionApprove, sessionStart } from '../../protocol/session';
import { secretCorpus } from '../../server/src/adapters/secrets/secretCorpus';
import { SecretlintScanner } from '../../server/src/adapters/secrets/secretlintScanner';
import { startServer, tempDir, withDeadline, type ServerHandle } from './serverProcess';
import { ended, sampleRepo, waitSession } from './sessionHelpers';

let server: ServerHandle;
const dataDir = tempDir('orch-dsrpc-');
const datasetsDir = path.join(dataDir, 'datasets');

before(async () => {
  server = await startServer(dataDir);
  server.connection.onRequest(permissionRequest.method, () => ({ decision: 'allow' }));
});
after(async () => {
  await server?.stop();
});

/** A request with a longer deadline than the harness's 10 s (curation loads secretlint and the tokenizer). */
const call = <D extends RequestDef<string, unknown, unknown>>(def: D, params: ParamsOf<D>, ms = 60_000): Promise<ResultOf<D>> =>
  withDeadline(server.connection.sendRequest(def.method, params), ms, def.method) as Promise<ResultOf<D>>;

/** The error a request was refused with (it must be refused). */
async function refused(method: string, params: unknown): Promise<ResponseError<unknown>> {
  const err = await withDeadline(server.connection.sendRequest(method, params), 60_000, method).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof ResponseError, `${method} ${JSON.stringify(params)} was refused`);
  return err;
}

async function finished(runId: string, ms = 90_000): Promise<RunView> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const r = await server.request(runGet, { runId });
    if (!['pending', 'running'].includes(r.state)) return r;
    await new Promise((res) => setTimeout(res, 200));
  }
  throw new Error(`run ${runId} did not finish within ${ms} ms`);
}

async function singleRun(cwd: string, prompt: string): Promise<RunView> {
  const { runId } = await server.request(runStart, { agent: 'opencode', cwd, prompt });
  const r = await finished(runId);
  assert.equal(r.state, 'succeeded', JSON.stringify(r.error));
  return r;
}

/** Every file under a folder (relative paths), with size and modification time: what "unchanged" compares. */
function snapshot(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true })
    .map(String)
    .sort()
    .map((f) => {
      const st = statSync(path.join(dir, f));
      return `${f} ${st.isDirectory() ? 'dir' : st.size} ${st.mtimeMs}`;
    });
}

const jsonl = (file: string): Record<string, unknown>[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l, i) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        throw new Error(`${file}:${i + 1} is not JSON`);
      }
    });

const corpus = secretCorpus(42);
const planted = (kind: string) => corpus.find((s) => s.kind === kind)!;
const lineKinds = ['aws-access-key-id', 'aws-secret-access-key', 'github-classic', 'slack-bot', 'openai-project', 'basic-auth-url'];
const privateKey = planted('private-key');
/** What must never reach an export: each secret whole, and each line of the key block's body. */
const needles = [
  ...lineKinds.map((k) => ({ kind: k, text: planted(k).secret })),
  { kind: 'private-key', text: privateKey.secret },
  ...privateKey.secret
    .split('\n')
    .filter((l) => !l.startsWith('-----'))
    .map((text) => ({ kind: 'private-key body line', text })),
];

let demo: DatasetView;
let sessionId = '';

test('runs with planted secrets are listed as candidates with their reasons and token counts', { timeout: 400_000 }, async () => {
  const cwd = sampleRepo();
  const goal = [
    'Write the deployment notes',
    `- [a] Alpha {files: a.txt}: [[script:write_file a.txt]] aws setup: ${planted('aws-access-key-id').text} and ${planted('aws-secret-access-key').text}`,
    `- [b] Beta {files: b.txt}: [[script:write_file b.txt]] release tokens ${planted('github-classic').text} then ${planted('slack-bot').text}`,
    `- [c] Gamma {files: c.txt}: [[script:write_file c.txt]] model access ${planted('openai-project').text} plus registry ${planted('basic-auth-url').text}`,
  ].join('\n');
  const draft = await server.request(sessionStart, { goal, cwd });
  sessionId = draft.id;
  await server.request(sessionApprove, { sessionId });
  const v = await waitSession(server, sessionId, ended);
  assert.equal(v.state, 'completed', JSON.stringify(v.tasks.map((t) => [t.planId, t.state, t.lastError])));
  await server.request(sessionApply, { sessionId });

  // In parallel, each in its own repository: a private key block (several lines: only a single run's prompt
  // can carry it); the same request twice (one example, one duplicate); an example far longer than allowed.
  const dupPrompt = '[[script:write_file notes.txt]] remember to rotate the staging certificates every quarter';
  const words = Array.from({ length: 2500 }, (_, i) => `w${(i * 7919) % 10007}x${i % 97}`).join(' ');
  const [, dup1, dup2, long] = await Promise.all([
    singleRun(sampleRepo(), `[[script:write_file key.pem]] ${privateKey.text}\nstore it for the deploy job`),
    singleRun(sampleRepo(), dupPrompt),
    singleRun(sampleRepo(), dupPrompt),
    singleRun(sampleRepo(), `[[script:write_file long.txt]] ${words}`),
  ]);

  // The raw material really holds the secrets (the store keeps prompts): otherwise the export check proves nothing.
  const raw = readFileSync(path.join(dataDir, 'store.json'), 'utf8');
  const inStore = needles.filter((n) => raw.includes(JSON.stringify(n.text).slice(1, -1))).length;
  console.log(`planted secret strings found in the server's store (the curation input): ${inStore} of ${needles.length}`);
  assert.ok(inStore >= lineKinds.length, 'the planted secrets are in the runs the dataset is built from');

  const all = (await call(datasetCandidates, {})).candidates;
  assert.equal(all.length, 7, JSON.stringify(all.map((c) => [c.runId, c.provenance.outcome])));
  for (const c of all) {
    assert.equal(c.provenance.outcome, 'succeeded');
    assert.deepEqual(c.reasons, ['outcome succeeded (taken: succeeded)']);
    assert.ok(c.tokens! > 0 && c.problem === undefined, JSON.stringify(c));
  }
  assert.ok(all.find((c) => c.runId === long.id)!.tokens! > 5000, 'the long example is counted as long');
  assert.equal(all.find((c) => c.runId === dup1.id)!.tokens, all.find((c) => c.runId === dup2.id)!.tokens);

  const applied = (await call(datasetCandidates, { filter: { applied: true } })).candidates;
  assert.deepEqual(
    applied.map((c) => [c.provenance.sessionId, c.provenance.repo, c.reasons[1]]),
    [0, 1, 2].map(() => [sessionId, cwd, "the session's diff was applied"]),
  );
  const later = (await call(datasetCandidates, { filter: { since: new Date(Date.now() + 60_000).toISOString() } })).candidates;
  assert.deepEqual(later, []);
  const bad = await refused(datasetCandidates.method, { filter: { since: 'last tuesday' } });
  assert.equal(bad.code, errorCodes.invalidParams);
  assert.match(bad.message, /filter\.since: must be an ISO 8601 time/);
});

test(
  'dataset/create curates the runs: no planted secret in any export, every format parses, drops say why',
  { timeout: 120_000 },
  async () => {
    demo = await call(datasetCreate, { name: 'demo', options: { maxTokens: 4000, validationFraction: 0.3 } });
    assert.match(demo.id, /^sha256:[0-9a-f]{64}$/);
    assert.equal(demo.folder, path.join(datasetsDir, 'demo'));
    assert.equal(demo.stats.candidates, 7);
    assert.equal(demo.stats.kept, 5, JSON.stringify(demo.stats));
    // The two runs differ only in their tool call ids: a near duplicate (exact when the ids happen to match).
    const { quality, ...dedup } = demo.stats.dropped;
    assert.equal(quality, 1, JSON.stringify(demo.stats.dropped));
    assert.ok(
      [{ near_dedup: 1 }, { exact_dedup: 1 }].some((d) => JSON.stringify(d) === JSON.stringify(dedup)),
      JSON.stringify(dedup),
    );
    assert.equal(demo.stats.train.examples + demo.stats.validation.examples, 5);
    assert.ok(demo.stats.validation.examples >= 1, JSON.stringify(demo.stats));

    // Every file of the version, read from disk.
    const files = readdirSync(demo.folder, { recursive: true })
      .map(String)
      .filter((f) => statSync(path.join(demo.folder, f)).isFile());
    assert.deepEqual(demo.files.map((f) => path.relative(demo.folder, f.path)).sort(), files.filter((f) => f.includes('/')).sort());
    const scanner = new SecretlintScanner();
    let found = 0;
    const scanned: string[] = [];
    for (const f of files) {
      const text = readFileSync(path.join(demo.folder, f), 'utf8');
      for (const n of needles) {
        if (text.includes(n.text) || text.includes(JSON.stringify(n.text).slice(1, -1))) {
          found++;
          console.log(`LEAK: ${n.kind} in ${f}`);
        }
      }
      for (const x of await scanner.scan(text)) scanned.push(`${x.kind} in ${f}`);
    }
    console.log(`planted secrets found in the dataset's files: ${found} (${files.length} files, ${needles.length} secret strings)`);
    assert.equal(found, 0);
    assert.deepEqual(scanned, [], 'secretlint finds nothing in the exports either');
    assert.ok(Object.values(demo.stats.redactions).reduce((a, b) => a + b, 0) >= needles.length - 6, JSON.stringify(demo.stats.redactions));

    // OpenAI chat-with-tools JSONL.
    const roles = new Set(['system', 'user', 'assistant', 'tool']);
    const openai = [
      ...jsonl(path.join(demo.folder, 'openai', 'train.jsonl')),
      ...jsonl(path.join(demo.folder, 'openai', 'validation.jsonl')),
    ];
    assert.equal(jsonl(path.join(demo.folder, 'openai', 'train.jsonl')).length, demo.stats.train.examples);
    assert.equal(openai.length, 5);
    let calls = 0;
    for (const row of openai) {
      const messages = row.messages as Record<string, unknown>[];
      const ids = new Set<string>();
      for (const m of messages) {
        assert.ok(roles.has(m.role as string), `role ${String(m.role)}`);
        if (m.role === 'assistant') {
          assert.ok(m.weight === 0 || m.weight === 1);
          for (const c of (m.tool_calls as { id: string; function: { name: string; arguments: string } }[] | undefined) ?? []) {
            const args: unknown = JSON.parse(c.function.arguments);
            assert.ok(args && typeof args === 'object' && !Array.isArray(args), 'tool call arguments are a JSON object');
            ids.add(c.id);
            calls++;
          }
        }
        if (m.role === 'tool') assert.ok(ids.has(m.tool_call_id as string), 'a tool result answers an earlier call');
      }
      assert.equal(messages[0]!.role, 'user');
      assert.equal(messages[messages.length - 1]!.role, 'assistant');
      assert.equal(typeof row.parallel_tool_calls, 'boolean');
    }
    assert.ok(calls >= 5, 'each example carries its write call');

    // ShareGPT / axolotl.
    const froms = new Set(['system', 'human', 'gpt', 'function_call', 'observation']);
    const sharegpt = [
      ...jsonl(path.join(demo.folder, 'sharegpt', 'train.jsonl')),
      ...jsonl(path.join(demo.folder, 'sharegpt', 'validation.jsonl')),
    ];
    assert.equal(sharegpt.length, 5);
    for (const row of sharegpt)
      for (const t of row.conversations as { from: string; value: string }[]) {
        assert.ok(froms.has(t.from), t.from);
        if (t.from === 'function_call') {
          const v = JSON.parse(t.value) as { name: string; arguments: unknown };
          assert.ok(v.name && typeof v.arguments === 'object');
        }
      }
    assert.match(readFileSync(path.join(demo.folder, 'sharegpt', 'axolotl.yaml'), 'utf8'), /type: chat_template/);

    // mlx-lm: train.jsonl + valid.jsonl, no weight.
    const mlxTrain = jsonl(path.join(demo.folder, 'mlx', 'train.jsonl'));
    const mlxValid = jsonl(path.join(demo.folder, 'mlx', 'valid.jsonl'));
    assert.deepEqual([mlxTrain.length, mlxValid.length], [demo.stats.train.examples, demo.stats.validation.examples]);
    for (const row of [...mlxTrain, ...mlxValid])
      for (const m of row.messages as Record<string, unknown>[]) assert.ok(!('weight' in m) && roles.has(m.role as string));
  },
);

test('dataset/get names why each dropped candidate was dropped; list, get and export agree', { timeout: 60_000 }, async () => {
  const { dataset, records } = await call(datasetGet, { name: 'demo' });
  assert.deepEqual(dataset, demo);
  assert.deepEqual(await call(datasetList, {}), [demo]);
  assert.equal(records.length, 7);
  const dropped = records.filter((r) => r.status === 'dropped');
  assert.equal(dropped.length, 2);
  for (const r of dropped) {
    assert.ok(r.reason && r.reason.length > 10, `a reason for ${r.source}: ${r.reason}`);
    assert.ok(r.provenance.runId === r.source && r.provenance.agent === 'opencode');
  }
  const dup = dropped.find((r) => r.stage === 'exact_dedup' || r.stage === 'near_dedup')!;
  assert.ok(
    records.some((r) => r.source === dup.duplicateOf && r.status === 'kept'),
    'the duplicate names the kept example',
  );
  assert.match(dropped.find((r) => r.stage === 'quality')!.reason!, /4000/);
  for (const r of records.filter((x) => x.status === 'kept')) assert.ok(r.split && r.tokens! > 0);
  assert.equal(records.filter((r) => r.provenance.sessionId === sessionId && r.provenance.applied).length, 3);

  for (const format of ['openai', 'sharegpt', 'mlx'] as const) {
    const ex = await call(datasetExport, { name: 'demo', format });
    assert.deepEqual(
      ex.files,
      demo.files.filter((f) => f.format === format).map((f) => f.path),
    );
    for (const f of ex.files) {
      assert.ok(f.startsWith(`${demo.folder}${path.sep}`) && existsSync(f), f);
    }
  }

  // The same name with the same content: the existing version, nothing written.
  const before = snapshot(datasetsDir);
  assert.deepEqual(await call(datasetCreate, { name: 'demo', options: { maxTokens: 4000, validationFraction: 0.3 } }), demo);
  assert.deepEqual(snapshot(datasetsDir), before);
});

test('bad input gets a clear error naming what is wrong and the datasets folder is unchanged', { timeout: 120_000 }, async () => {
  const only = await call(datasetCreate, { name: 'openai-only', formats: ['openai'], options: { maxTokens: 4000 } });
  assert.deepEqual(
    only.files.map((f) => path.relative(only.folder, f.path)),
    [path.join('openai', 'train.jsonl'), path.join('openai', 'validation.jsonl')],
  );
  const before = snapshot(datasetsDir);
  const cases: { method: string; params: unknown; code: number; message: RegExp; field?: string }[] = [
    { method: datasetCreate.method, params: { name: 'x', formats: ['csv'] }, code: errorCodes.invalidParams, message: /formats\.0/ },
    {
      method: datasetCreate.method,
      params: { name: 'x', filter: { since: '2026-02-31 noonish' } },
      code: errorCodes.invalidParams,
      message: /filter\.since/,
    },
    { method: datasetCreate.method, params: { name: '' }, code: errorCodes.invalidParams, message: /\bname\b/ },
    { method: datasetCreate.method, params: { name: '../escape' }, code: errorCodes.invalidParams, message: /\bname\b/ },
    {
      method: datasetCreate.method,
      params: { name: 'x', options: { validationFraction: 1 } },
      code: errorCodes.invalidParams,
      message: /options\.validationFraction/,
    },
    {
      method: datasetCreate.method,
      params: { name: 'x', filter: { agents: ['nobody'] } },
      code: errorCodes.invalidParams,
      message: /^filter: no agent runs match it/,
    },
    {
      method: datasetCreate.method,
      params: { name: 'demo', options: { maxTokens: 4000, seed: 'another-split' } },
      code: errorCodes.conflict,
      message: /^name: a dataset named "demo" already exists with other content/,
      field: 'name',
    },
    { method: datasetExport.method, params: { name: 'demo', format: 'csv' }, code: errorCodes.invalidParams, message: /\bformat\b/ },
    {
      method: datasetExport.method,
      params: { name: 'openai-only', format: 'mlx' },
      code: errorCodes.conflict,
      message: /created without mlx/,
      field: 'format',
    },
    {
      method: datasetExport.method,
      params: { name: 'missing', format: 'openai' },
      code: errorCodes.notFound,
      message: /no dataset named "missing"/,
    },
    { method: datasetGet.method, params: { name: 'missing' }, code: errorCodes.notFound, message: /no dataset named "missing"/ },
  ];
  for (const c of cases) {
    const err = await refused(c.method, c.params);
    assert.equal(err.code, c.code, `${c.method} ${JSON.stringify(c.params)}: ${err.message}`);
    assert.match(err.message, c.message, `${c.method} ${JSON.stringify(c.params)}`);
    if (c.field) assert.equal((err.data as { field?: string }).field, c.field);
  }
  assert.deepEqual(snapshot(datasetsDir), before, 'nothing was written, not even a temporary folder');
  assert.deepEqual(
    (await call(datasetList, {})).map((d) => d.name),
    ['demo', 'openai-only'],
  );
});
