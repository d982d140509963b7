/**
 * Dataset curation figures for `npm run bench`: 10,000 synthetic examples (agent runs with tool calls;
 * 10 % exact and 10 % near duplicates; secrets and PII planted in 5 %) through exact + MinHash dedup,
 * through secret (secretlint) + PII redaction, and through the whole pipeline; each phase in its own
 * process so its peak RSS is its own. Baseline, measured in the same run: JSON.parse + JSON.stringify of
 * every example. Prints a table and one `BENCH_ROWS` JSON line: [name, value, baseline, what, unit].
 *   node --import tsx test/bench/curationBench.ts            (all phases)
 *   BENCH_EXAMPLES=2000 node --import tsx test/bench/curationBench.ts
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { secretCorpus } from '../../server/src/adapters/secrets/secretCorpus';
import { SecretlintScanner } from '../../server/src/adapters/secrets/secretlintScanner';
import { GptTokenCounter } from '../../server/src/adapters/tokens/gptTokenCounter';
import { conversationText, type Example } from '../../server/src/domain/dataset/example';
import { nearDuplicates } from '../../server/src/domain/dataset/minhash';
import { curate, messagesHash, type Candidate } from '../../server/src/domain/dataset/pipeline';
import { redactExample } from '../../server/src/domain/dataset/redact';

const N = Number(process.env.BENCH_EXAMPLES ?? 10_000);
const phases = ['baseline', 'dedup', 'redact', 'pipeline'] as const;
type Phase = (typeof phases)[number];

const words =
  'parse config loader plugin cache router request handler error retry queue worker test module session lease merge branch commit diff file path token budget'.split(
    ' ',
  );

function rng(seed: number) {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

/** Deterministic synthetic examples: a prompt, two tool calls with outputs, a final answer (~1.5 KB each). */
export function syntheticExamples(n: number): Example[] {
  const r = rng(42);
  const sentence = (len: number) => Array.from({ length: len }, () => words[Math.floor(r() * words.length)]).join(' ');
  const secrets = secretCorpus(5);
  const out: Example[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 10 === 9) {
      out.push(structuredClone(out[i - 5]!)); // exact duplicate
      continue;
    }
    const planted = i % 20 === 3 ? `\n${secrets[i % secrets.length]!.text}\nmail dev${i}@example.com, host 10.0.${i % 250}.7` : '';
    const prompt = `Task ${i}: ${sentence(25)}${planted}`;
    const answer = i % 10 === 8 ? (out[i - 3]!.messages[5]!.content as string).replace(/\w+$/, 'done') : `Done ${i}: ${sentence(60)}`;
    const base = i % 10 === 8 ? out[i - 3]! : undefined; // near duplicate of an earlier one (one word changed)
    out.push({
      messages: [
        { role: 'user', content: base ? (base.messages[0]!.content as string) : prompt },
        {
          role: 'assistant',
          content: base ? (base.messages[1]!.content as string) : `I will ${sentence(12)}.`,
          tool_calls: [
            {
              id: `a${i}`,
              type: 'function',
              function: { name: 'bash', arguments: JSON.stringify({ command: `rg ${words[i % words.length]} src/` }) },
            },
            {
              id: `b${i}`,
              type: 'function',
              function: { name: 'read', arguments: JSON.stringify({ filePath: `src/${words[(i * 7) % words.length]}.ts` }) },
            },
          ],
        },
        { role: 'tool', tool_call_id: `a${i}`, content: base ? (base.messages[2]!.content as string) : sentence(80) },
        { role: 'tool', tool_call_id: `b${i}`, content: base ? (base.messages[3]!.content as string) : sentence(80) },
        { role: 'assistant', content: base ? (base.messages[4]!.content as string) : sentence(30) },
        { role: 'assistant', content: answer },
      ],
      tools: [],
    });
  }
  return out;
}

async function runPhase(phase: Phase): Promise<{ ms: number; detail: string }> {
  const examples = syntheticExamples(N);
  const tokens = new GptTokenCounter();
  // Loading the encoding (~0.5 s) and secretlint's rules is start-up, not curation.
  if (phase === 'pipeline') await tokens.ready();
  if (phase === 'redact' || phase === 'pipeline') await new SecretlintScanner().scan('warm up');
  global.gc?.();
  const t = performance.now();
  let detail: string;
  if (phase === 'baseline') {
    let bytes = 0;
    for (const e of examples) bytes += JSON.stringify(JSON.parse(JSON.stringify(e))).length;
    detail = `${(bytes / 1e6).toFixed(1)} MB of JSON`;
  } else if (phase === 'dedup') {
    const hashes = new Set<string>();
    const unique = examples.filter((e) => {
      const h = messagesHash(e);
      return hashes.has(h) ? false : (hashes.add(h), true);
    });
    const near = nearDuplicates(unique.map((e) => conversationText(e.messages)));
    detail = `${examples.length - unique.length} exact, ${near.filter((x) => x.duplicateOf !== -1).length} near duplicates`;
  } else if (phase === 'redact') {
    const scanner = new SecretlintScanner();
    let n = 0;
    for (const e of examples) n += (await redactExample(e, (s) => scanner.scan(s), true)).redactions.length;
    detail = `${n} redactions`;
  } else {
    const scanner = new SecretlintScanner();
    const candidates: Candidate[] = examples.map((row, i) => ({
      source: `run-${i}`,
      provenance: {
        sessionId: `s-${i % 500}`,
        runId: `run-${i}`,
        repo: `/r/${i % 37}`,
        agent: 'opencode',
        outcome: 'succeeded',
        applied: true,
      },
      row,
    }));
    const r = await curate(
      candidates,
      { groupBy: ['session'] },
      { countTokens: (s) => tokens.count(s), scanSecrets: (s) => scanner.scan(s) },
    );
    detail = `${r.stats.kept} kept (${r.stats.train.examples} train / ${r.stats.validation.examples} validation)`;
  }
  return { ms: performance.now() - t, detail };
}

async function main(): Promise<void> {
  const only = process.argv[2] as Phase | undefined;
  if (only) {
    const r = await runPhase(only);
    process.stdout.write(`PHASE ${JSON.stringify({ ...r, peakRssMb: process.resourceUsage().maxRSS / 1024 })}\n`);
    return;
  }
  const self = fileURLToPath(import.meta.url);
  const results = {} as Record<Phase, { ms: number; detail: string; peakRssMb: number }>;
  for (const p of phases) {
    const out = execFileSync(process.execPath, ['--import', 'tsx', self, p], {
      encoding: 'utf8',
      timeout: 600_000,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    results[p] = JSON.parse(
      out
        .split('\n')
        .find((l) => l.startsWith('PHASE '))!
        .slice('PHASE '.length),
    );
  }
  const base = results.baseline;
  const perSec = (ms: number) => N / (ms / 1000);
  const rows: [string, number, number, string, string][] = [];
  for (const p of ['dedup', 'redact', 'pipeline'] as const) {
    const label = { dedup: 'exact + MinHash dedup', redact: 'secretlint + PII redaction', pipeline: 'whole curation pipeline' }[p];
    rows.push([
      `curation: ${label}, ${N} examples: examples/s`,
      perSec(results[p].ms),
      perSec(base.ms),
      'JSON parse+stringify of the same examples',
      'ex/s',
    ]);
    rows.push([`curation: ${label}: peak RSS MB`, results[p].peakRssMb, base.peakRssMb, 'peak RSS of the baseline process', 'MB']);
  }
  console.log(`\ncuration bench (node ${process.version}, ${N} synthetic examples)\n`);
  for (const p of phases)
    console.log(
      `${p.padEnd(9)} ${results[p].ms.toFixed(0).padStart(7)} ms  ${perSec(results[p].ms).toFixed(0).padStart(9)} ex/s  peak RSS ${results[p].peakRssMb.toFixed(0)} MB  (${results[p].detail})`,
    );
  console.log('');
  for (const [name, value, b, , unit] of rows)
    console.log(
      `${name.padEnd(64)} ${value.toFixed(1).padStart(10)} ${unit.padEnd(4)} baseline ${b.toFixed(1).padStart(10)}  ratio ${(value / b).toFixed(3)}`,
    );
  process.stdout.write(`BENCH_ROWS ${JSON.stringify(rows)}\n`);
}

const invoked = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invoked)
  main().then(
    () => process.exit(0),
    (e: unknown) => {
      process.stderr.write(`${(e as Error).stack ?? e}\n`);
      process.exit(1);
    },
  );
