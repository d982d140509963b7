import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DomainError } from '../errors';
import { buildExample } from './fromTranscript';
import { curate, type Candidate } from './pipeline';
import { goodRow, provenance, transcript } from './testData';
import { datasetVersion } from './version';

const words = (t: string) => t.split(/\s+/).filter(Boolean).length;
const deps = { countTokens: words };

function candidates(): Candidate[] {
  const out: Candidate[] = [];
  const topics = ['parser', 'loader', 'cache', 'router', 'logger', 'scheduler', 'metrics', 'auth', 'storage', 'queue'];
  topics.forEach((t, i) => {
    const row = goodRow();
    row.messages[1] = { role: 'user', content: `Explain how the ${t} module handles errors number ${i} in detail please.` };
    row.messages[4] = { role: 'assistant', content: `The ${t} module wraps each failure ${i} in a typed error and retries ${i} times.` };
    out.push({ source: `run-${t}`, provenance: provenance(`run-${t}`), row });
  });
  out.push({ source: 'run-dup', provenance: provenance('run-dup'), row: out[0]!.row });
  const near = goodRow();
  const long =
    'Explain in detail how the parser module handles every kind of error, which errors it retries, how often, and what it logs for each one of them ';
  near.messages[1] = { role: 'user', content: long + 'today.' };
  out.push({ source: 'run-near1', provenance: provenance('run-near1'), row: near });
  const near2 = goodRow();
  near2.messages[1] = { role: 'user', content: long + 'now.' };
  out.push({ source: 'run-near2', provenance: provenance('run-near2'), row: near2 });
  const built = buildExample({ prompt: 'p', events: transcript({ finished: 'cancelled' }) });
  out.push({
    source: 'run-cancelled',
    provenance: provenance('run-cancelled'),
    dropped: { stage: 'build', reason: built.ok ? '' : built.reason },
  });
  const bad = goodRow();
  (bad.messages[2] as { tool_calls: { function: { arguments: string } }[] }).tool_calls[0]!.function.arguments = 'ls -la';
  out.push({ source: 'run-badargs', provenance: provenance('run-badargs'), row: bad });
  const huge = goodRow();
  huge.messages[4] = { role: 'assistant', content: 'word '.repeat(500) };
  out.push({ source: 'run-huge', provenance: provenance('run-huge'), row: huge });
  const secret = goodRow();
  secret.messages[1] = { role: 'user', content: 'Call me at 555-123-4567 about the flaky scheduler test in module seven.' };
  out.push({ source: 'run-pii', provenance: provenance('run-pii'), row: secret });
  return out;
}

test('every candidate gets a record: kept with split and tokens, or dropped with stage and reason', async () => {
  const r = await curate(candidates(), { maxTokens: 200, validationFraction: 0.25 }, deps);
  const by = new Map(r.records.map((x) => [x.source, x]));
  assert.equal(r.records.length, 17);
  assert.deepEqual([by.get('run-dup')!.stage, by.get('run-dup')!.duplicateOf], ['exact_dedup', 'run-parser']);
  assert.equal(by.get('run-near2')!.stage, 'near_dedup');
  assert.equal(by.get('run-near2')!.duplicateOf, 'run-near1');
  assert.match(by.get('run-near2')!.reason!, /near duplicate of run-near1 \(estimated Jaccard 0\.\d\d ≥ 0\.8\)/);
  assert.deepEqual(
    [by.get('run-cancelled')!.stage, by.get('run-cancelled')!.reason],
    ['build', 'truncated: the run stopped with cancelled, not end_turn'],
  );
  assert.equal(by.get('run-badargs')!.stage, 'validate');
  assert.match(by.get('run-badargs')!.reason!, /messages\[2\]\.tool_calls\[0\]\.function\.arguments: is not valid JSON/);
  assert.equal(by.get('run-huge')!.stage, 'quality');
  assert.match(by.get('run-huge')!.reason!, /^too_long: \d+ tokens > maxTokens 200$/);
  assert.deepEqual(
    by.get('run-pii')!.redactions.map((x) => [x.kind, x.field]),
    [['phone', 'messages[1].content']],
  );
  assert.equal(r.examples.length, 12);
  assert.ok(r.examples.every((e) => e.tokens > 0 && e.provenance.runId === e.source));
  assert.equal(r.stats.train.examples + r.stats.validation.examples, 12);
  assert.equal(r.stats.validation.examples, 3);
  assert.deepEqual(r.stats.dropped, { exact_dedup: 1, near_dedup: 1, build: 1, validate: 1, quality: 1 });
  assert.deepEqual(r.stats.redactions, { phone: 1 });
  assert.equal(
    Object.values(r.stats.tokenHistogram).reduce((a, b) => a + b, 0),
    12,
  );
  for (const rec of r.records) assert.ok(rec.status === 'kept' ? rec.split && !rec.stage : rec.stage && rec.reason, rec.source);
});

test('strict mode: the first bad or over-long row throws naming row and field, and nothing is returned', async () => {
  const c = candidates().filter((x) => !x.dropped);
  await assert.rejects(
    curate(c, { strict: true }, deps),
    (e: unknown) =>
      DomainError.is(e, 'bad_input') && /^row 14: messages\[2\]\.tool_calls\[0\]\.function\.arguments: is not valid JSON/.test(e.message),
  );
  const noBad = c.filter((x) => x.source !== 'run-badargs');
  await assert.rejects(
    curate(noBad, { strict: true, maxTokens: 200 }, deps),
    /^DomainError: row 14: messages: too_long: \d+ tokens > maxTokens 200/,
  );
  await assert.rejects(curate([c[0]!, c[0]!], {}, deps), /source: "run-parser" appears twice/);
  await assert.rejects(curate([], { maxTokens: 0 }, deps), /maxTokens: must be a positive number/);
});

test('a dataset version is identified by its content: same input, same id; any change, another id; frozen', async () => {
  const a = datasetVersion('v1', '2026-12-05T00:00:00Z', await curate(candidates(), { maxTokens: 200 }, deps));
  const b = datasetVersion('other-name', '2027-01-01T00:00:00Z', await curate(candidates(), { maxTokens: 200 }, deps));
  assert.match(a.id, /^sha256:[0-9a-f]{64}$/);
  assert.equal(a.id, b.id);
  const c = datasetVersion('v1', '2026-12-05T00:00:00Z', await curate(candidates(), { maxTokens: 200, seed: 'other' }, deps));
  assert.notEqual(a.id, c.id);
  assert.ok(Object.isFrozen(a) && Object.isFrozen(a.examples[0]!.messages[0]));
  assert.throws(() => (a.examples as unknown as unknown[]).push(1), TypeError);
});
