/**
 * Acceptance: a corpus of realistic secret formats planted in transcripts (prompts, assistant text, tool
 * inputs and tool outputs) never reaches an exported file, in any format; each redaction is recorded by
 * kind and place, never with the secret.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exportDataset, exportFormats } from '../../domain/dataset/exporters';
import { buildExample } from '../../domain/dataset/fromTranscript';
import { curate, type Candidate } from '../../domain/dataset/pipeline';
import { GptTokenCounter } from '../tokens/gptTokenCounter';
import { secretCorpus } from './secretCorpus';
import { SecretlintScanner } from './secretlintScanner';

const scanner = new SecretlintScanner();
const tokens = new GptTokenCounter();

function plantedRun(i: number, line: string, where: number) {
  let seq = 0;
  const ev = (body: Record<string, unknown>) => ({ seq: ++seq, at: '2026-12-05T00:00:00Z', key: `k${seq}`, ...body });
  const prompt = where === 0 ? `Set up deployment ${i}. Use this:\n${line}` : `Set up deployment number ${i} for service ${i * 7}.`;
  const events = [
    ev({
      kind: 'message_chunk',
      role: 'assistant',
      text: where === 1 ? `I found this in the config:\n${line}\n` : `Checking the config of service ${i}.`,
    }),
    ev({ kind: 'tool_call', id: `c${i}`, title: 'bash', toolName: 'bash', status: 'pending' }),
    ev({
      kind: 'tool_call',
      id: `c${i}`,
      title: 'bash',
      toolName: 'bash',
      status: 'completed',
      input: { command: where === 2 ? line : `cat deploy/${i}.env`, description: `read env ${i}` },
      output: where === 3 ? `${line}\nPORT=${3000 + i}` : `PORT=${3000 + i}`,
    }),
    ev({
      kind: 'message_chunk',
      role: 'assistant',
      text: `Deployment ${i} is configured on port ${3000 + i}; contact ops-${i}@example.com.`,
    }),
    ev({ kind: 'finished', stopReason: 'end_turn' }),
  ];
  return { prompt, events };
}

test('no planted secret reaches any export; redactions are recorded by kind and place', async () => {
  await tokens.ready();
  const corpus = secretCorpus(11);
  const candidates: Candidate[] = [];
  corpus.forEach((p, i) => {
    for (let where = 0; where < 4; where++) {
      const n = i * 4 + where;
      const built = buildExample(plantedRun(n, p.text, where));
      assert.ok(built.ok);
      candidates.push({
        source: `run-${n}`,
        provenance: { sessionId: `s-${n}`, runId: `run-${n}`, repo: `/r/${n % 5}`, agent: 'opencode', outcome: 'succeeded', applied: true },
        row: built.example,
      });
    }
  });
  const r = await curate(
    candidates,
    { validationFraction: 0.2, groupBy: ['session'], minHash: { numHashes: 64, bands: 16, shingleSize: 5, threshold: 0.99 } },
    {
      countTokens: (t) => tokens.count(t),
      scanSecrets: (t) => scanner.scan(t),
    },
  );
  assert.equal(r.examples.length, candidates.length, JSON.stringify(r.records.filter((x) => x.status === 'dropped')));
  assert.ok(r.stats.validation.examples > 0);

  let secretsInExports = 0;
  let leaked: string[] = [];
  for (const format of exportFormats) {
    for (const f of exportDataset(r.examples, format)) {
      secretsInExports += (await scanner.scan(f.content)).length;
      leaked = leaked.concat(
        corpus
          .filter((p) => f.content.includes(p.secret) || f.content.includes(p.secret.slice(-16)))
          .map((p) => `${format}/${f.path}: ${p.kind}`),
      );
    }
  }
  assert.deepEqual(leaked, []);
  assert.equal(secretsInExports, 0);
  console.log(
    `planted ${corpus.length} secret formats × 4 places = ${candidates.length} examples; secretlint findings in exports: ${secretsInExports}`,
  );

  // Every example had one planted secret: each record names at least one secret redaction, by kind and field only.
  const records = JSON.stringify(r.records);
  for (const p of corpus) assert.ok(!records.includes(p.secret.slice(-16)), `${p.kind} not in records`);
  for (const rec of r.records) {
    const secretKinds = rec.redactions.filter((x) => !['email', 'phone', 'ip'].includes(x.kind));
    assert.ok(secretKinds.length >= 1, `${rec.source}: ${JSON.stringify(rec.redactions)}`);
    for (const x of rec.redactions) assert.deepEqual(Object.keys(x).sort(), ['end', 'field', 'kind', 'start']);
  }
  assert.ok(r.stats.redactions.email! >= candidates.length);
  assert.ok(r.records.some((x) => x.redactions.some((y) => y.field.includes('.function.arguments.command'))));
});
