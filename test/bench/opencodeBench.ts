/**
 * OpenCode figures for `npm run bench`: a turn through the orchestrator (dist/server.js over JSON-RPC,
 * task/run → final task/didUpdate) against the same scripted prompt sent straight to an `opencode serve`
 * over its HTTP API (session.create + sync session.prompt), in the same run; cold start to first event;
 * RSS of our server and of its OpenCode. Prints one JSON line: the rows for run.mjs's table.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveOpencodeBinary } from '../../server/src/adapters/opencode/binary';
import { buildConfig, buildEnv, prepareHome } from '../../server/src/adapters/opencode/home';
import { randomPassword, ServerProcess } from '../../server/src/adapters/opencode/serverProcess';
import { startScriptedModel } from '../../server/src/adapters/scriptedModel/scriptedModel';
import { runDidUpdate, runStart, type RunView } from '../../protocol/run';
import { startServer, tempDir } from '../integration/serverProcess';
import { turnTrace } from '../../server/src/adapters/turnTrace';

const turns = Number(process.env.BENCH_TURNS ?? 8);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

function repo(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'orch-bench-repo-'));
  execFileSync('git', ['init', '-q'], { cwd: d });
  writeFileSync(path.join(d, 'README.md'), '# bench\n');
  execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@b', 'add', '-A'], { cwd: d });
  execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-qm', 'init'], { cwd: d });
  return d;
}
const prompt = (i: number, who: string) => `[[script:write_file ${who}-${i}.txt]] bench turn ${i}`;
/** A turn whose model streams slowly (~2 s), as a hosted model does; OpenCode then mostly waits. */
const slowPrompt = (i: number, who: string) => `[[script:slow_write ${who}-slow-${i}.txt 120]] bench turn ${i}`;

async function orchestrator(cwd: string, env?: Record<string, string>) {
  const s = await startServer(tempDir(), {}, env ? { env } : {});
  const waitDone = (runId: string, onFirstEvent?: () => void) =>
    new Promise<RunView>((resolve, reject) => {
      const deadline = setTimeout(() => {
        clearInterval(tick);
        reject(new Error(`bench turn ${runId} did not finish within 120 s`));
      }, 120_000);
      let seen = false;
      // Each waiter reads the shared notification list with its own cursor (two turns may wait at once).
      let cursor = 0;
      const tick = setInterval(() => {
        const fresh = s.notifications.slice(cursor);
        cursor = s.notifications.length;
        for (const n of fresh) {
          if (n.method !== runDidUpdate.method) continue;
          const u = n.params as { run: RunView; event?: unknown };
          if (u.run.id !== runId) continue;
          if (u.event && !seen) {
            seen = true;
            onFirstEvent?.();
          }
          if (!['running', 'pending'].includes(u.run.state)) {
            clearInterval(tick);
            clearTimeout(deadline);
            resolve(u.run);
          }
        }
      }, 1);
    });
  const turn = async (i: number, onFirstEvent?: () => void, dir = cwd, text = prompt(i, 'orch')) => {
    const sent = performance.timeOrigin + performance.now();
    const r = await s.request(runStart, { agent: 'opencode', cwd: dir, prompt: text });
    turnTrace(r.runId, `client: run/start answered (sent at ${sent.toFixed(1)})`);
    const done = await waitDone(r.runId, onFirstEvent);
    turnTrace(r.runId, 'client: final run/didUpdate');
    if (done.state !== 'succeeded') throw new Error(`orchestrator turn ${i} ${done.state}: ${JSON.stringify(done.error)}`);
  };
  const rss = () => {
    const serverPid = s.child.pid!;
    const ocPid = Number(
      execFileSync('pgrep', ['-P', String(serverPid), '-f', 'opencode'], { encoding: 'utf8' })
        .trim()
        .split('\n')[0],
    );
    return { server: rssMb(serverPid), opencode: ocPid ? rssMb(ocPid) : NaN };
  };
  return { turn, rss, stop: () => s.stop() };
}

async function direct(cwd: string) {
  const model = await startScriptedModel();
  const home = prepareHome(tempDir(), '1.18.33');
  const password = randomPassword();
  const config = buildConfig({ providers: [{ id: 'demo', baseURL: model.url, models: { scripted: {} } }], defaultModel: 'demo/scripted' });
  const sp = new ServerProcess({
    binary: resolveOpencodeBinary(),
    cwd,
    env: buildEnv(home, config, password),
    password,
    startTimeoutMs: 60_000,
    pidDir: home.root,
  });
  await sp.start();
  const { createOpencodeClient } = await import('@opencode-ai/sdk/v2');
  const client = createOpencodeClient({ baseUrl: sp.url, directory: cwd, headers: { Authorization: sp.authHeader } });
  const turn = async (i: number) => {
    turnTrace(`direct${i}`, 'direct: start');
    const { data: session } = await client.session.create({ title: `direct ${i}` }, { throwOnError: true });
    turnTrace(`direct${i}`, 'direct: session created');
    await client.session.prompt({ sessionID: session.id, parts: [{ type: 'text', text: prompt(i, 'direct') }] }, { throwOnError: true });
    turnTrace(`direct${i}`, 'direct: prompt answered');
  };
  return {
    turn,
    stop: async () => {
      await sp.stop();
      await model.close();
    },
  };
}

async function main() {
  const cwd = repo();
  const o = await orchestrator(cwd);
  let cold = 0;
  const t0 = performance.now();
  await o.turn(0, () => {
    cold = performance.now() - t0;
  });
  const d = await direct(repo());
  for (let i = 1; i <= 2; i++) {
    await o.turn(-i);
    await d.turn(-i);
  } // warm-up both
  // BENCH_OC_AB=1: a third side, the same server with the turn levers off (BENCH_OC_OFF, default
  // ORCH_OPENCODE_OVERLAP=0), interleaved in the same run; its own repo so both servers see a warm folder.
  const offEnv =
    process.env.BENCH_OC_AB === '1'
      ? (Object.fromEntries(
          (process.env.BENCH_OC_OFF ?? 'ORCH_OPENCODE_OVERLAP=0')
            .split(/\s+/)
            .filter(Boolean)
            .map((kv) => kv.split('=')),
        ) as Record<string, string>)
      : undefined;
  const offCwd = offEnv ? repo() : undefined;
  const off = offEnv ? await orchestrator(offCwd!, offEnv) : undefined;
  for (let i = 1; i <= 2 && off; i++) await off.turn(-i, undefined, offCwd, prompt(-i, 'off'));
  const ot: number[] = [];
  const dt: number[] = [];
  const ft: number[] = [];
  // Interleaved, so both sides see the same machine noise.
  for (let i = 1; i <= turns; i++) {
    let t = performance.now();
    await o.turn(i);
    ot.push(performance.now() - t);
    t = performance.now();
    await d.turn(i);
    dt.push(performance.now() - t);
    if (off) {
      t = performance.now();
      await off.turn(i, undefined, offCwd, prompt(i, 'off'));
      ft.push(performance.now() - t);
    }
  }
  if (off) {
    await off.stop();
    process.stderr.write(
      `BENCH_OC_AB on ${median(ot).toFixed(0)} off ${median(ft).toFixed(0)} direct ${median(dt).toFixed(0)} ms (medians of ${turns})\n`,
    );
  }
  if (process.env.BENCH_OC_TURNS_ONLY === '1') {
    await o.stop();
    await d.stop();
    return;
  }
  // Two tasks in two (warm) repos at once on the one OpenCode server, against one task alone.
  const other = repo();
  await o.turn(100, undefined, other);
  const singles: number[] = [];
  const pairs: number[] = [];
  for (let i = 0; i < 3; i++) {
    let t = performance.now();
    await o.turn(200 + i);
    singles.push(performance.now() - t);
    t = performance.now();
    await Promise.all([o.turn(300 + i), o.turn(400 + i, undefined, other)]);
    pairs.push(performance.now() - t);
  }
  const slowSingles: number[] = [];
  const slowPairs: number[] = [];
  for (let i = 0; i < 3; i++) {
    let t = performance.now();
    await o.turn(500 + i, undefined, cwd, slowPrompt(500 + i, 'orch'));
    slowSingles.push(performance.now() - t);
    t = performance.now();
    await Promise.all([
      o.turn(600 + i, undefined, cwd, slowPrompt(600 + i, 'orch')),
      o.turn(700 + i, undefined, other, slowPrompt(700 + i, 'orch')),
    ]);
    slowPairs.push(performance.now() - t);
  }
  const rss = o.rss();
  await o.stop();
  await d.stop();
  const om = median(ot);
  const dm = median(dt);
  const rows = [
    [`turn through the orchestrator (median of ${turns})`, om, dm, 'same prompt straight to OpenCode HTTP'],
    ['overhead per turn (orchestrator − direct)', om - dm, 50, 'goal: ≤ 50 ms (or ratio above ≤ 1.05)'],
    ['cold start: task/run → first event', cold, dm, 'one warm direct turn'],
    ['two tasks in two repos at once: wall (median of 3)', median(pairs), median(singles), 'one task alone (goal: ratio < 1.3)'],
    ['same, model streaming ~2 s per turn', median(slowPairs), median(slowSingles), 'one such task alone (goal: ratio < 1.3)'],
    ['RSS of our server (MB)', rss.server, rss.opencode, 'RSS of its OpenCode (MB)'],
  ];
  process.stdout.write(`BENCH_ROWS ${JSON.stringify(rows)}\n`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
