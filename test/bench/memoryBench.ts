/**
 * Memory figure for `npm run bench` (`ORCH_BENCH_ONLY=memory`): RSS of the real built server
 * (dist/server.js) after BENCH_MEMORY_RUNS single-turn runs (default 150, the full row is 500; `run/start`, each writing one
 * file after a permission ask) against its RSS after the first 10, in the same process. The agent is
 * BENCH_MEMORY_AGENT: `acp` (default: the project's fixture ACP agent, a real process per run over the
 * real ACP client, git-snapshot diffs; the cheapest real turn) or `opencode` (the real OpenCode binary
 * with the demo scripted model; ~10 s a turn on a loaded 2-core machine, so use fewer runs). Before each sample the bench asks the server's V8 to collect garbage through the
 * inspector (`--inspect` on a loopback port, `HeapProfiler.collectGarbage`; no hook in the product); RSS
 * is then read from /proc and the minimum of a few settled samples is kept. Runs go BENCH_MEMORY_CONCURRENCY at a time (default 4) in as many
 * repositories. Prints one `BENCH_ROWS` JSON line.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { runDidUpdate, runStart, type RunView } from '../../protocol/run';
import { startServer, tempDir, withDeadline } from '../integration/serverProcess';

const agent = process.env.BENCH_MEMORY_AGENT ?? 'acp';
const descriptor = {
  id: 'bench-acp',
  name: 'Bench fixture agent',
  version: '1.0.0',
  description: 'The project-owned ACP fixture agent',
  _meta: {
    orchestrator: {
      command: { path: 'node', args: [path.resolve(__dirname, '../fixtures/acp/fixtureAgent.mjs')] },
      capabilities: ['fixture'],
    },
  },
};
const agentId = agent === 'opencode' ? 'opencode' : descriptor.id;
const promptOf = (i: number) =>
  agent === 'opencode' ? `[[script:write_file mem-${i}.txt]] memory bench run ${i}` : `WRITE mem-${i}.txt memory bench run ${i}`;

// 150 by default keeps `npm run bench` under ~3 min on a loaded 2-core machine; BENCH_MEMORY_RUNS=500 is the row (~8 min).
const total = Number(process.env.BENCH_MEMORY_RUNS ?? 150);
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

/** BENCH_MEMORY_SNAPSHOTS=<dir>: the server writes a heap snapshot there after each sample (to find what grows). */
const snapshots = process.env.BENCH_MEMORY_SNAPSHOTS;
const snapshotArgs = snapshots ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapshots}`] : [];

/** Signals the server to write a heap snapshot and waits (up to 2 min) until the file stops growing. */
async function heapSnapshot(pid: number, dir: string): Promise<void> {
  const count = () => readdirSync(dir).filter((f) => f.endsWith('.heapsnapshot')).length;
  const size = () => {
    const newest = readdirSync(dir)
      .filter((f) => f.endsWith('.heapsnapshot'))
      .sort()
      .at(-1);
    return newest ? statSync(path.join(dir, newest)).size : 0;
  };
  const before = count();
  process.kill(pid, 'SIGUSR2');
  const end = Date.now() + 120_000;
  let last = -1;
  while (Date.now() < end) {
    await new Promise((r) => setTimeout(r, 2000));
    if (count() > before && size() > 0 && size() === last) return;
    last = size();
  }
  throw new Error('the heap snapshot was not written within 2 min');
}

async function main() {
  const init = agent === 'opencode' ? {} : { agents: { acpAgents: [{ descriptor, commandPath: process.execPath }] } };
  const s = await startServer(tempDir('orch-bench-mem-data-'), init, {
    wrap: ([node, ...rest]) => [node, '--inspect=127.0.0.1:0', ...snapshotArgs, ...rest],
  });
  const pid = s.child.pid!;
  const v8 = await inspector(s.stderr);
  // run id → resolver; the notification list is drained as it is read, so the bench itself stays flat.
  const waiting = new Map<string, (v: RunView) => void>();
  const finished = new Map<string, RunView>();
  const drain = setInterval(() => {
    for (const n of s.notifications.splice(0)) {
      if (process.env.BENCH_TRACE) process.stderr.write(`${n.method} ${JSON.stringify(n.params).slice(0, 200)}\n`);
      if (n.method !== runDidUpdate.method) continue;
      const run = (n.params as { run: RunView }).run;
      if (['running', 'pending'].includes(run.state)) continue;
      const w = waiting.get(run.id);
      if (w) w(run);
      else finished.set(run.id, run);
    }
  }, 5);
  const turn = async (i: number, cwd: string) => {
    // A longer deadline than the test helper's 10 s: on a loaded 2-core machine run/start (git check + store write) can take longer.
    const { runId } = (await withDeadline(
      s.connection.sendRequest(runStart.method, { agent: agentId, cwd, prompt: promptOf(i) }),
      60_000,
      runStart.method,
    )) as { runId: string };
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
        while (next < n) {
          const i = next++;
          await turn(i, cwd);
          if ((i + 1) % 50 === 0) process.stderr.write(`memory bench: ${i + 1} runs, RSS ${rssMb(pid).toFixed(1)} MB\n`);
        }
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
    if (snapshots) await heapSnapshot(pid, snapshots);
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
      `server RSS after ${total} single-turn ${agent} runs (after GC)`,
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
