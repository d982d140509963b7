/**
 * ACP figures for `npm run bench` (issue 12): one ACP turn through the orchestrator (dist/server.js over
 * JSON-RPC, `run/start` on a registered ACP agent → the run's final `run/didUpdate`) against the same prompt
 * sent straight to the same agent over ACP by a minimal client (one warm agent process, `session/new` +
 * `session/prompt` per turn, permissions allowed, `fs/write_text_file` written), in the same run, interleaved.
 * The agent is the project's fixture ACP agent (test/fixtures/acp/fixtureAgent.mjs, a real process on the
 * SDK's agent side); each turn asks a permission and writes one file through `fs/write_text_file`, and, with
 * the second prompt, streams for ~1 s the way a model would.
 * Prints one JSON line: the rows for run.mjs's table (`[name, median, p95, baseline, baseline is]`).
 */
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { runDidUpdate, runStart, type RunView } from '../../protocol/run';
import { loadAcp } from '../../server/src/adapters/acp/sdk';
import { startServer, tempDir } from '../integration/serverProcess';

const turns = Number(process.env.BENCH_ACP_TURNS ?? 15);
const fixture = path.resolve(__dirname, '../fixtures/acp/fixtureAgent.mjs');
const descriptor = {
  id: 'bench-acp',
  name: 'Bench fixture agent',
  version: '1.0.0',
  description: 'The project-owned ACP fixture agent',
  _meta: { orchestrator: { command: { path: 'node', args: [fixture] }, capabilities: ['fixture'] } },
};

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const pct = (xs: number[], p: number) => sorted(xs)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

function repo(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'orch-bench-acp-'));
  const git = (...a: string[]) => execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@b', ...a], { cwd: d, stdio: 'ignore' });
  git('init', '-q');
  // A small project, so the worktree has something in it (20 files in 4 folders).
  for (let i = 0; i < 20; i++) {
    mkdirSync(path.join(d, `src${i % 4}`), { recursive: true });
    writeFileSync(path.join(d, `src${i % 4}`, `f${i}.ts`), `export const x${i} = ${i};\n`.repeat(50));
  }
  writeFileSync(path.join(d, 'README.md'), '# bench\n');
  git('add', '-A');
  git('commit', '-qm', 'init');
  return d;
}

/** `env` switches levers off for the same-run comparison (`BENCH_ACP_AB=1`). */
async function orchestrator(env: Record<string, string> = {}) {
  const s = await startServer(tempDir(), { agents: { acpAgents: [{ descriptor, commandPath: process.execPath }] } }, { env });
  /** Resolves at the run's final state; `answer` is when its `finished` event (the answer's end) was published. */
  const waitDone = (runId: string) =>
    new Promise<{ run: RunView; answer: number }>((resolve, reject) => {
      const deadline = setTimeout(() => {
        clearInterval(tick);
        reject(new Error(`bench ACP turn ${runId} did not finish within 60 s`));
      }, 60_000);
      let cursor = 0;
      let answer = NaN;
      const tick = setInterval(() => {
        const fresh = s.notifications.slice(cursor);
        cursor = s.notifications.length;
        for (const n of fresh) {
          if (n.method !== runDidUpdate.method) continue;
          const u = n.params as { run: RunView; event?: { kind: string } };
          if (u.run.id !== runId) continue;
          if (u.event?.kind === 'finished' && Number.isNaN(answer)) answer = performance.now();
          if (['running', 'pending'].includes(u.run.state)) continue;
          clearInterval(tick);
          clearTimeout(deadline);
          resolve({ run: u.run, answer: Number.isNaN(answer) ? performance.now() : answer });
        }
      }, 1);
    });
  /** Milliseconds from `run/start` to the answer (`finished` published) and to the final state (with its diff). */
  const turn = async (cwd: string, text: string): Promise<{ answer: number; complete: number }> => {
    const t = performance.now();
    const r = await s.request(runStart, { agent: descriptor.id, cwd, prompt: text });
    const { run: done, answer } = await waitDone(r.runId);
    const complete = performance.now() - t;
    if (done.state !== 'succeeded') throw new Error(`orchestrator ACP turn ${done.state}: ${JSON.stringify(done.error)}`);
    if (!done.diff?.length && /^WRITE/.test(text)) throw new Error(`orchestrator ACP turn reported no diff: ${JSON.stringify(done)}`);
    return { answer: answer - t, complete };
  };
  return { turn, stop: () => s.stop() };
}

/** A minimal ACP client: what any editor does to send a prompt, with nothing of ours around it. */
async function direct() {
  const acp = await loadAcp();
  const child = spawn(process.execPath, [fixture], { stdio: ['pipe', 'pipe', 'inherit'] });
  const stream = acp.ndJsonStream(
    Writable.toWeb(child.stdin!) as WritableStream<Uint8Array>,
    Readable.toWeb(child.stdout!) as ReadableStream<Uint8Array>,
  );
  const conn = acp
    .client({ name: 'bench-direct' })
    .onRequest(acp.methods.client.session.requestPermission, () => ({ outcome: { outcome: 'selected', optionId: 'yes' } }))
    .onRequest(acp.methods.client.fs.readTextFile, () => ({ content: '' }))
    .onRequest(acp.methods.client.fs.writeTextFile, ({ params }) => {
      mkdirSync(path.dirname(params.path), { recursive: true });
      writeFileSync(params.path, params.content);
      return {};
    })
    .onNotification(acp.methods.client.session.update, () => undefined)
    .connect(stream);
  await conn.agent.request(acp.methods.agent.initialize, {
    protocolVersion: acp.PROTOCOL_VERSION,
    clientCapabilities: { fs: { readTextFile: true, writeTextFile: true }, terminal: false },
  });
  const turn = async (cwd: string, text: string) => {
    const { sessionId } = await conn.agent.request(acp.methods.agent.session.new, { cwd, mcpServers: [] });
    const r = await conn.agent.request(acp.methods.agent.session.prompt, { sessionId, prompt: [{ type: 'text', text }] });
    if (r.stopReason !== 'end_turn') throw new Error(`direct ACP turn ended ${r.stopReason}`);
  };
  return {
    turn,
    stop: () => {
      conn.close();
      child.kill('SIGKILL');
    },
  };
}

/** The levers the off side switches off: all of them, or those `BENCH_ACP_OFF` names (`A=0,B=0`). */
const offEnv = (): Record<string, string> =>
  process.env.BENCH_ACP_OFF
    ? Object.fromEntries(process.env.BENCH_ACP_OFF.split(',').map((kv) => kv.split('=') as [string, string]))
    : { ORCH_ACP_SNAPSHOT_PROOF: '0', ORCH_GIT_SPAWNER: '0', ORCH_ACP_EARLY_FINISH: '0', ORCH_TRANSCRIPT_PIPELINE: '0' };

async function main() {
  const o = await orchestrator();
  const d = await direct();
  // BENCH_ACP_AB=1: a third side, the orchestrator with this pass's turn levers off (the in-process snapshot
  // proof, the git spawner helper, the answer's end published before the diff, the transcript appends issued as
  // events arrive; or those BENCH_ACP_OFF names), interleaved in the same run.
  const off = process.env.BENCH_ACP_AB === '1' ? await orchestrator(offEnv()) : undefined;
  const [ocwd, dcwd, fcwd] = [repo(), repo(), repo()];
  const write = (who: string, i: number) => `WRITE notes/${who}-${i}.txt bench turn ${i}`;
  // Warm-up: the first turn of each side pays one-off costs (the server's first run, module loading).
  for (let i = 0; i < 2; i++) {
    await o.turn(ocwd, write('orch-warm', i));
    await d.turn(dcwd, write('direct-warm', i));
    await off?.turn(fcwd, write('off-warm', i));
  }
  const ft: { quick: number[]; slow: number[] } = { quick: [], slow: [] };
  const measure = async (prompt: (who: string, i: number) => string, n: number, into: number[]) => {
    const ot: number[] = [];
    const oc: number[] = [];
    const dt: number[] = [];
    // Interleaved, so both sides see the same machine noise.
    for (let i = 0; i < n; i++) {
      const o1 = await o.turn(ocwd, prompt('orch', i));
      ot.push(o1.answer);
      oc.push(o1.complete);
      const t = performance.now();
      await d.turn(dcwd, prompt('direct', i));
      dt.push(performance.now() - t);
      if (off) into.push((await off.turn(fcwd, prompt('off', i))).answer);
    }
    return { ot, oc, dt };
  };
  const quick = await measure(write, turns, ft.quick);
  // A turn that streams for ~1 s (a chunk every 100 ms) and changes no file: closer to a model's turn.
  const slowTurns = Math.max(3, Math.round(turns / 3));
  const slow = await measure((who, i) => `SLOW 1000 ${who}-${i}`, slowTurns, ft.slow);
  o.stop();
  d.stop();
  off?.stop();
  const om = pct(quick.ot, 50);
  const dm = pct(quick.dt, 50);
  const sm = pct(slow.ot, 50);
  const sd = pct(slow.dt, 50);
  const goal = 'goal: ≤ 50 ms (or ratio above ≤ 1.05)';
  // The answer: run/start until the run's `finished` event is published (what the user waits for; the run's
  // final state, with its diff, follows and is its own row).
  const rows: (string | number)[][] = [
    [
      `ACP turn through the orchestrator, the answer (${turns} turns)`,
      om,
      pct(quick.ot, 95),
      dm,
      'same prompt straight to the agent over ACP',
    ],
    ['ACP overhead per turn (orchestrator − direct)', om - dm, pct(quick.ot, 95) - pct(quick.dt, 95), 50, goal],
    [
      'ACP turn through the orchestrator, final state with its diff',
      pct(quick.oc, 50),
      pct(quick.oc, 95),
      dm,
      'same prompt straight to the agent over ACP',
    ],
    [`ACP turn streaming ~1 s, the answer (${slowTurns} turns)`, sm, pct(slow.ot, 95), sd, 'same prompt straight to the agent over ACP'],
    ['ACP overhead per ~1 s turn (orchestrator − direct)', sm - sd, pct(slow.ot, 95) - pct(slow.dt, 95), 50, goal],
  ];
  if (off)
    rows.push(
      [`ACP turn, the answer, turn levers off (${turns} turns)`, pct(ft.quick, 50), pct(ft.quick, 95), dm, 'same run, levers off'],
      ['ACP turn streaming ~1 s, the answer, levers off', pct(ft.slow, 50), pct(ft.slow, 95), sd, 'same run, levers off'],
    );
  process.stdout.write(`BENCH_ROWS ${JSON.stringify(rows)}\n`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
