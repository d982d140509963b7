/**
 * Team server figures for `npm run bench` (issue 15): request latency over WebSocket against the real team
 * server (`dist/cli.js serve --listen 127.0.0.1:0`, one tenant, a developer key made with the admin CLI),
 * `session/list` round trips (each client sends its next request when the last is answered): p50 and p95
 * with 50 concurrent clients against the same with 1 client, in the same run and the same server.
 * Prints one JSON line: the rows for run.mjs's table (`[name, median, p95, baseline, baseline is]`).
 */
import { performance } from 'node:perf_hooks';
import { tempDir } from '../integration/serverProcess';
import { connected, startTeamServer, userWithKey, type RpcClient } from '../integration/teamClient';

const clients = Number(process.env.BENCH_TEAM_CLIENTS ?? 50);
const perClient = Number(process.env.BENCH_TEAM_CALLS ?? 100);
const single = Number(process.env.BENCH_TEAM_SINGLE_CALLS ?? 1000);
const method = 'session/list';

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const pct = (xs: number[], p: number) => sorted(xs)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

async function loop(c: RpcClient, n: number, into: number[]): Promise<void> {
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await c.call(method, {});
    into.push(performance.now() - t);
  }
}

async function main(): Promise<void> {
  const dataDir = tempDir('orch-bench-team-');
  const { key } = userWithKey(dataDir, 'bench', 'dev', 'developer');
  // The per-key request limit (6000 a minute) would throttle 50 clients sharing one key.
  const server = await startTeamServer(dataDir, ['--max-requests-per-minute', '10000000', '--log-level', 'warn']);
  const conns: RpcClient[] = [];
  try {
    for (let i = 0; i < clients; i++) conns.push(await connected(server.url, key));
    // Warm-up: every connection once (the tenant opens on the first), then the single client.
    await Promise.all(conns.map((c) => loop(c, 5, [])));
    const one: number[] = [];
    await loop(conns[0], 50, []);
    await loop(conns[0], single, one);
    const many: number[] = [];
    await Promise.all(conns.map((c) => loop(c, perClient, many)));
    const p50one = pct(one, 50);
    const p95one = pct(one, 95);
    const p50many = pct(many, 50);
    const p95many = pct(many, 95);
    const rows = [
      [`team ${method} p50, ${clients} WS clients`, p50many, p95many, p50one, `p50 with 1 client (${single} calls, same run)`],
      [
        `team ${method} p95, ${clients} WS clients`,
        p95many,
        p95many,
        p95one,
        `p95 with 1 client (${clients}×${perClient} calls at ${clients})`,
      ],
    ];
    if (!server.alive()) throw new Error(`the team server died: ${server.stderr().slice(-2000)}`);
    console.log(`BENCH_ROWS ${JSON.stringify(rows)}`);
  } finally {
    for (const c of conns) await c.close().catch(() => undefined);
    await server.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
