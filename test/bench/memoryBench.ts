/**
 * Memory figure for `npm run bench` (`ORCH_BENCH_ONLY=memory`): RSS of the real built server
 * (dist/server.js, its demo scripted model, the real OpenCode binary) after BENCH_MEMORY_RUNS single-turn
 * runs (default 500; `run/start` on OpenCode, each writing one file) against its RSS after the first 10,
 * in the same process. Before each sample the bench asks the server's V8 to collect garbage through the
 * inspector (`--inspect` on a loopback port, `HeapProfiler.collectGarbage`; no hook in the product); RSS
 * is then read from /proc and the minimum of a few settled samples is kept. Runs go BENCH_MEMORY_CONCURRENCY at a time (default 4) in as many
 * repositories. Prints one `BENCH_ROWS` JSON line.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { runDidUpdate, runStart, type RunView } from '../../protocol/run';
import { startServer, tempDir } from '../integration/serverProcess';

const total = Number(process.env.BENCH_MEMORY_RUNS ?? 500);
const concurrency = Number(process.env.BENCH_MEMORY_CONCURRENCY ?? 4);
const baselineAt = 10;
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

function repo(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'orch-bench-mem-'));
  const git = (...a: string[]) => execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@b', ...a], { cwd: d, stdio: 'ignore' });
  git('init', '-q');
  writeFileSync(path.join(d, 'README.md'), '# bench\n');
  git('add', '-A');
  git('commit', '-qm', 'init');
  return d;
}

/** The inspector session of the server process: `collectGarbage()` runs a full GC there. */
async function inspector(stderr: () => string): Promise<{ collectGarbage(): Promise<void>; close(): void }> {
  const end = Date.now() + 10_000;
  let url: string | undefined;
  while (!(url = /Debugger listening on (ws:\/\/\S+)/.exec(stderr())?.[1])) {
    if (Date.now() > end) throw new Error(`the server's inspector did not start: ${stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let id = 0;
  return {
    collectGarbage: () =>
      new Promise<void>((resolve, reject) => {
        const mine = ++id;
        const deadline = setTimeout(() => reject(new Error('HeapProfiler.collectGarbage took more than 30 s')), 30_000);
        const onMessage = (data: WebSocket.RawData) => {
          if ((JSON.parse(data.toString()) as { id?: number }).id !== mine) return;
          clearTimeout(deadline);
          ws.off('message', onMessage);
          resolve();
        };
        ws.on('message', onMessage);
        ws.send(JSON.stringify({ id: mine, method: 'HeapProfiler.collectGarbage' }));
      }),
    close: () => ws.close(),
  };
}

async function main() {
  const s = await startServer(tempDir('orch-bench-mem-data-'), {}, { wrap: ([node, ...rest]) => [node, '--inspect=127.0.0.1:0', ...rest] });
  const pid = s.child.pid!;
  const v8 = await inspector(s.stderr);
  // run id → resolver; the notification list is drained as it is read, so the bench itself stays flat.
  const waiting = new Map<string, (v: RunView) => void>();
  const finished = new Map<string, RunView>();
  const drain = setInterval(() => {
    for (const n of s.notifications.splice(0)) {
      if (n.method !== runDidUpdate.method) continue;
      const run = (n.params as { run: RunView }).run;
      if (['running', 'pending'].includes(run.state)) continue;
      const w = waiting.get(run.id);
      if (w) w(run);
      else finished.set(run.id, run);
    }
  }, 5);
  const turn = async (i: number, cwd: string) => {
    const { runId } = await s.request(runStart, {
      agent: 'opencode',
      cwd,
      prompt: `[[script:write_file mem-${i}.txt]] memory bench run ${i}`,
    });
    const done = await new Promise<RunView>((resolve, reject) => {
      const early = finished.get(runId);
      if (early) return resolve(early);
      const deadline = setTimeout(() => reject(new Error(`run ${i} (${runId}) did not finish within 120 s`)), 120_000);
      waiting.set(runId, (v) => {
        clearTimeout(deadline);
        resolve(v);
      });
    });
    waiting.delete(runId);
    finished.delete(runId);
    if (done.state !== 'succeeded') throw new Error(`run ${i} ${done.state}: ${JSON.stringify(done.error)}`);
  };
  const repos = Array.from({ length: concurrency }, () => repo());
  let next = 0;
  const runUpTo = async (n: number) => {
    await Promise.all(
      repos.map(async (cwd) => {
        while (next < n) await turn(next++, cwd);
      }),
    );
  };
  /** Settled RSS: a full GC in the server, then the minimum of 5 samples. */
  const settled = async () => {
    const xs: number[] = [];
    for (let i = 0; i < 5; i++) {
      await v8.collectGarbage();
      await new Promise((r) => setTimeout(r, 300));
      xs.push(rssMb(pid));
    }
    return Math.min(...xs);
  };
  const t0 = performance.now();
  await runUpTo(baselineAt);
  const at10 = await settled();
  await runUpTo(total);
  const atN = await settled();
  const wall = performance.now() - t0;
  clearInterval(drain);
  v8.close();
  await s.stop();
  process.stderr.write(
    `memory bench: ${total} runs in ${(wall / 1000).toFixed(0)} s; RSS ${at10.toFixed(1)} MB after ${baselineAt}, ${atN.toFixed(1)} MB after ${total}\n`,
  );
  const rows = [
    [
      `server RSS after ${total} single-turn runs (settled, after GC)`,
      atN,
      NaN,
      at10,
      `RSS after ${baselineAt} runs (goal: ratio ≤ 1.2)`,
      'MB',
    ],
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
