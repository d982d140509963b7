/**
 * Dispatch figures for `npm run bench` (issue 13), real `dist/server.js`, real OpenCode, real git; the model is
 * the scripted OpenAI-compatible server configured as a provider, streaming each turn over ~1.5 s
 * (`slow_write … 70`). Warm: one run first, so `opencode serve` is up.
 *  - task dispatch (the task's `startedAt`) → first request of its turn at the model, a one-task session, against
 *    the same prompt sent straight to an `opencode serve` in a folder it already opened (session.create +
 *    prompt_async → first request);
 *  - first wave after approve: `session/start` with `approve` of 6 independent tasks at concurrency 4 → the 4th
 *    first request at the model (goal ≤ 2 s on an idle machine); the same session's 5th and 6th tasks waited for a
 *    slot: their dispatch → first request (what a pre-warm would act on);
 *  - goal → first agent event: `session/start` with `approve` → the first `run/didUpdate` with an event (goal 1.5 s).
 * Prints one `BENCH_ROWS` JSON line: [name, median, p95, baseline, what].
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveOpencodeBinary } from '../../server/src/adapters/opencode/binary';
import { buildConfig, buildEnv, prepareHome } from '../../server/src/adapters/opencode/home';
import { randomPassword, ServerProcess } from '../../server/src/adapters/opencode/serverProcess';
import { startScriptedModel, type ScriptedModel } from '../../server/src/adapters/scriptedModel/scriptedModel';
import { runDidUpdate, runStart, type RunView } from '../../protocol/run';
import { sessionApprove, sessionGet, sessionStart, type SessionView } from '../../protocol/session';
import { startServer, tempDir, type ServerHandle } from '../integration/serverProcess';

const samples = Number(process.env.BENCH_DISPATCH_SAMPLES ?? 3);
const chunkMs = Number(process.env.BENCH_DISPATCH_CHUNK_MS ?? 70);
const deadlineMs = 180_000;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(0.95 * xs.length))];
const ended = (v: SessionView) => ['completed', 'partially_completed', 'failed', 'cancelled', 'timed_out'].includes(v.state);

function repo(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'orch-bench-dispatch-'));
  const git = (...a: string[]) => execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@b', ...a], { cwd: d, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  writeFileSync(path.join(d, 'README.md'), '# bench\n');
  git('add', '-A');
  git('commit', '-qm', 'init');
  return d;
}

/** Epoch ms of the first request at the model whose messages mention `tag` (polls; deadline). */
async function firstRequest(model: ScriptedModel, tag: string): Promise<number> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    const r = model.requests.find((x) => x.url.includes('chat') && JSON.stringify(x.body?.messages ?? []).includes(tag));
    if (r) return Date.parse(r.at);
    await new Promise((res) => setTimeout(res, 5));
  }
  throw new Error(`no request mentioning ${tag} reached the model within ${deadlineMs} ms`);
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, every = 100): Promise<T> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((res) => setTimeout(res, every));
  }
  throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
}

const writeTask = (id: string, tag: string) => `- [${id}] Task ${id} {files: ${id}.txt}: [[script:slow_write ${id}.txt ${chunkMs}]] ${tag}`;

async function session(s: ServerHandle, goal: string): Promise<{ view: SessionView; sentAt: number }> {
  const sentAt = Date.now();
  const view = await s.request(sessionStart, { goal, cwd: repo(), approve: true, planner: 'template' });
  return { view, sentAt };
}

async function finished(s: ServerHandle, id: string): Promise<SessionView> {
  const v = await until(`session ${id} to end`, async () => {
    const x = await s.request(sessionGet, { sessionId: id });
    return ended(x) ? x : undefined;
  });
  if (v.state !== 'completed') throw new Error(`bench session ${id} ended ${v.state}: ${JSON.stringify(v.tasks.map((t) => t.lastError))}`);
  return v;
}

/** OpenCode's snapshot repositories under the server's data dir (one per folder it opened and snapshotted). */
function snapshotRepos(dataDir: string): number {
  const root = path.join(dataDir, 'agents', 'opencode', 'opencode-home', 'data', 'opencode', 'snapshot');
  if (!existsSync(root)) return 0;
  return readdirSync(root).reduce((n, p) => n + readdirSync(path.join(root, p)).length, 0);
}

async function orchestrator(model: ScriptedModel, dataDir = tempDir()) {
  const s = await startServer(dataDir, {
    agents: { providers: [{ id: 'local', baseURL: model.url, models: { m1: {} } }], model: 'local/m1' },
  });
  // Warm: `opencode serve` up and one turn done.
  const warm = await s.request(runStart, { agent: 'opencode', cwd: repo(), prompt: `[[script:write_file warm.txt]] warm` });
  await until('the warm-up run', () => {
    const n = s.notifications.find(
      (x) =>
        x.method === runDidUpdate.method &&
        (x.params as { run: RunView }).run.id === warm.runId &&
        !['running', 'pending'].includes((x.params as { run: RunView }).run.state),
    );
    return n ? true : undefined;
  });
  return s;
}

async function direct(model: ScriptedModel) {
  const cwd = repo();
  const home = prepareHome(tempDir(), '1.18.33');
  const password = randomPassword();
  const config = buildConfig({ providers: [{ id: 'local', baseURL: model.url, models: { m1: {} } }], defaultModel: 'local/m1' });
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
  /**
   * Session + async prompt in the already-open folder (or in `dir`, a folder OpenCode has not opened yet); resolves
   * with ms from the call to the first model request.
   */
  const turn = async (tag: string, dir?: string) => {
    const t0 = Date.now();
    const o = dir ? { directory: dir } : {};
    const { data: session } = await client.session.create({ title: tag, ...o }, { throwOnError: true });
    const done = client.session.prompt(
      { sessionID: session.id, parts: [{ type: 'text', text: `[[script:slow_write ${tag}.txt ${chunkMs}]] ${tag}` }], ...o },
      { throwOnError: true },
    );
    const first = await firstRequest(model, tag);
    await done;
    return first - t0;
  };
  await turn('direct-warm'); // the folder's instance is open from here on
  return { turn, stop: () => sp.stop() };
}

async function main() {
  const model = await startScriptedModel();
  const dataDir = tempDir();
  const o = await orchestrator(model, dataDir);
  const d = await direct(model);
  const orch: number[] = [];
  const straight: number[] = [];
  const straightNew: number[] = [];
  const straightWave: number[] = [];
  // Interleaved, so both sides see the same machine noise.
  for (let i = 0; i < samples; i++) {
    const tag = `one-${i}-${Date.now()}`;
    const { view } = await session(o, writeTask('a', tag));
    const first = await firstRequest(model, tag);
    const v = await finished(o, view.id);
    orch.push(first - Date.parse(v.tasks[0].startedAt!));
    straight.push(await d.turn(`direct-${i}-${Date.now()}`));
    // What OpenCode alone costs in a folder it has not opened (its per-folder instance start)…
    straightNew.push(await d.turn(`direct-new-${i}-${Date.now()}`, repo()));
    // …and in four such folders at once (a first wave without the orchestrator).
    const four = await Promise.all(Array.from({ length: 4 }, (_, k) => d.turn(`direct-wave-${i}-${k}-${Date.now()}`, repo())));
    straightWave.push(Math.max(...four));
  }
  // First wave after approve, pre-warmed second wave, goal → first agent event.
  const waves: number[] = [];
  const warmed: number[] = [];
  const firstEvents: number[] = [];
  for (let i = 0; i < samples; i++) {
    const tags = Array.from({ length: 6 }, (_, k) => `wave-${i}-${k}-${Date.now()}`);
    const cursor = o.notifications.length;
    const { view, sentAt } = await session(o, tags.map((tag, k) => writeTask(`t${k}`, tag)).join('\n'));
    const firstEvent = until(
      'the first agent event',
      () => {
        const n = o.notifications
          .slice(cursor)
          .find(
            (x) =>
              x.method === runDidUpdate.method &&
              (x.params as { run: RunView; event?: unknown }).event &&
              (x.params as { run: RunView }).run.sessionId === view.id,
          );
        return n ? Date.now() : undefined;
      },
      5,
    );
    const firsts = await Promise.all(tags.map((tag) => firstRequest(model, tag)));
    firstEvents.push((await firstEvent) - sentAt);
    const v = await finished(o, view.id);
    const byPlan = new Map(v.tasks.map((t) => [t.planId, Date.parse(t.startedAt!)]));
    const order = [...tags.keys()].sort((a, b) => byPlan.get(`t${a}`)! - byPlan.get(`t${b}`)!);
    waves.push(Math.max(...order.slice(0, 4).map((k) => firsts[k])) - sentAt);
    for (const k of order.slice(4)) warmed.push(firsts[k] - byPlan.get(`t${k}`)!);
  }
  // First wave after approving a draft the user looked at: the plan exists first (a draft), its first wave's
  // worktrees and OpenCode folders are pre-warmed meanwhile (the default; with `ORCH_PREWARM_TASKS=0` nothing to wait for).
  const reviewed: number[] = [];
  const prewarmOn = process.env.ORCH_PREWARM_TASKS !== '0';
  for (let i = 0; i < samples; i++) {
    const tags = Array.from({ length: 4 }, (_, k) => `draft-${i}-${k}-${Date.now()}`);
    const snapshots = snapshotRepos(dataDir);
    const view = await o.request(sessionStart, {
      goal: tags.map((tag, k) => writeTask(`t${k}`, tag)).join('\n'),
      cwd: repo(),
      planner: 'template',
    });
    if (prewarmOn) {
      await until('the first wave pre-warmed', () =>
        tags.every((_, k) => existsSync(path.join(dataDir, 'worktrees', view.id, `t${k}`, '.git'))) &&
        snapshotRepos(dataDir) >= snapshots + 4
          ? true
          : undefined,
      );
    }
    const approvedAt = Date.now();
    await o.request(sessionApprove, { sessionId: view.id });
    const firsts = await Promise.all(tags.map((tag) => firstRequest(model, tag)));
    reviewed.push(Math.max(...firsts) - approvedAt);
    await finished(o, view.id);
  }
  await o.stop();
  await d.stop();
  await model.close();
  const dm = median(straight);
  const rows = [
    [
      `dispatch → first request at the model (median of ${samples})`,
      median(orch),
      p95(orch),
      dm,
      'same prompt straight to OpenCode, folder already open (goal: ratio ≤ 1.2)',
    ],
    [
      'same, a task that waited for a slot (5th, 6th of the wave session)',
      median(warmed),
      p95(warmed),
      dm,
      'same prompt straight to OpenCode, folder already open',
    ],
    ['straight to OpenCode, a folder it has not opened', median(straightNew), p95(straightNew), dm, 'same, folder already open'],
    ['first wave after approve (4 tasks: approve → 4th first request)', median(waves), p95(waves), 2000, 'goal: 2 s (on an idle machine)'],
    [
      'straight to OpenCode, 4 new folders at once → 4th first request',
      median(straightWave),
      p95(straightWave),
      2000,
      'goal of the row above: 2 s',
    ],
    [
      `first wave after approving a draft (4 tasks; pre-warm ${prewarmOn ? 'on' : 'off'}: approve → 4th first request)`,
      median(reviewed),
      p95(reviewed),
      2000,
      'goal: 2 s (on an idle machine)',
    ],
    ['goal → first agent event, warm server', median(firstEvents), p95(firstEvents), 1500, 'goal: 1.5 s'],
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
