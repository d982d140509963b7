/**
 * Profile of OpenCode's first prompt in a folder it has not opened (issue 13): a warm `opencode serve`, then for
 * each new folder: `GET /project/current` (instance start), `session.create`, `prompt_async` → first request at
 * the (scripted, streaming) model; and the same in a folder already open. `BENCH_OC_EXTRA` (JSON) adds
 * top-level OpenCode config (e.g. `{"snapshot":false}`) to compare start-up features. DEBUG log to
 * `BENCH_OC_LOG` when set.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveOpencodeBinary } from '../../server/src/adapters/opencode/binary';
import { buildConfig, buildEnv, prepareHome } from '../../server/src/adapters/opencode/home';
import { randomPassword, ServerProcess } from '../../server/src/adapters/opencode/serverProcess';
import { startScriptedModel, type ScriptedModel } from '../../server/src/adapters/scriptedModel/scriptedModel';

const n = Number(process.env.BENCH_OC_FOLDERS ?? 3);
const extra = process.env.BENCH_OC_EXTRA ? (JSON.parse(process.env.BENCH_OC_EXTRA) as Record<string, unknown>) : {};
const logFile = process.env.BENCH_OC_LOG;
const envExtra = process.env.BENCH_OC_ENV ? (JSON.parse(process.env.BENCH_OC_ENV) as Record<string, string>) : {};

function repo(base?: string): string {
  const git = (cwd: string, ...a: string[]) =>
    execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@b', ...a], { cwd, stdio: 'ignore' });
  if (base) {
    const d = path.join(mkdtempSync(path.join(os.tmpdir(), 'orch-ocprof-wt-')), 'w');
    git(base, 'worktree', 'add', '-q', '-b', `b${Date.now()}${Math.random().toString(36).slice(2, 6)}`, d);
    return d;
  }
  const d = mkdtempSync(path.join(os.tmpdir(), 'orch-ocprof-'));
  git(d, 'init', '-q', '-b', 'main');
  writeFileSync(path.join(d, 'README.md'), '# bench\n');
  git(d, 'add', '-A');
  git(d, 'commit', '-qm', 'init');
  return d;
}

async function firstRequest(model: ScriptedModel, tag: string): Promise<number> {
  const end = Date.now() + 180_000;
  while (Date.now() < end) {
    const r = model.requests.find((x) => x.url.includes('chat') && JSON.stringify(x.body?.messages ?? []).includes(tag));
    if (r) return Date.parse(r.at);
    await new Promise((res) => setTimeout(res, 5));
  }
  throw new Error(`no request for ${tag}`);
}

async function main() {
  const model = await startScriptedModel();
  const main = repo();
  const home = prepareHome(mkdtempSync(path.join(os.tmpdir(), 'orch-ocprof-home-')), '1.18.33');
  const password = randomPassword();
  const config = buildConfig({ providers: [{ id: 'local', baseURL: model.url, models: { m1: {} } }], defaultModel: 'local/m1', extra });
  const sp = new ServerProcess({
    binary: resolveOpencodeBinary(),
    cwd: main,
    env: buildEnv(home, config, password, envExtra),
    password,
    startTimeoutMs: 60_000,
    pidDir: home.root,
    ...(logFile ? { logLevel: 'DEBUG' as const, log: (l: string) => appendFileSync(logFile, `${new Date().toISOString()} ${l}\n`) } : {}),
  });
  await sp.start();
  const { createOpencodeClient } = await import('@opencode-ai/sdk/v2');
  const client = createOpencodeClient({ baseUrl: sp.url, headers: { Authorization: sp.authHeader } });
  const turn = async (dir: string, tag: string, open: boolean) => {
    const t0 = Date.now();
    if (open) await client.project.current({ directory: dir }, { throwOnError: true });
    const t1 = Date.now();
    const { data: s } = await client.session.create({ directory: dir, title: tag }, { throwOnError: true });
    const t2 = Date.now();
    await client.session.promptAsync(
      { sessionID: s.id, directory: dir, parts: [{ type: 'text', text: `[[script:slow_write ${tag}.txt 70]] ${tag}` }] },
      { throwOnError: true },
    );
    const t3 = Date.now();
    const first = await firstRequest(model, tag);
    return { open: t1 - t0, create: t2 - t1, promptCall: t3 - t2, toFirst: first - t2, total: first - t0 };
  };
  const warmMode = process.env.BENCH_OC_WARM ?? 'all';
  const prewarm = async (dir: string) => {
    const t0 = Date.now();
    const o = { directory: dir };
    const { data: s } = await client.session.create({ ...o, title: 'warm' }, { throwOnError: true });
    const calls: Promise<unknown>[] = [];
    if (warmMode.includes('noreply') || warmMode === 'all')
      calls.push(
        client.session.prompt({ sessionID: s.id, ...o, noReply: true, parts: [{ type: 'text', text: 'warm' }] }, { throwOnError: true }),
      );
    if (warmMode.includes('vcs') || warmMode === 'all')
      calls.push(client.vcs.get(o, { throwOnError: true }), client.vcs.status(o, { throwOnError: true }));
    if (warmMode.includes('find') || warmMode === 'all') calls.push(client.find.files({ ...o, query: 'README' }, { throwOnError: true }));
    if (warmMode.includes('diff') || warmMode === 'all') calls.push(client.session.diff({ sessionID: s.id, ...o }, { throwOnError: true }));
    await Promise.all(calls);
    if (warmMode.includes('revert')) {
      const { data: m } = await client.session.prompt(
        { sessionID: s.id, ...o, noReply: true, parts: [{ type: 'text', text: 'warm' }] },
        { throwOnError: true },
      );
      await client.session.revert({ sessionID: s.id, ...o, messageID: (m as { info: { id: string } }).info.id }, { throwOnError: true });
    }
    await client.session.delete({ sessionID: s.id, ...o }, { throwOnError: true });
    return Date.now() - t0;
  };
  const out: Record<string, unknown>[] = [];
  out.push({ what: 'warm main', ...(await turn(main, `w-${Date.now()}`, false)) });
  for (let i = 0; i < n; i++) {
    out.push({ what: 'open folder', ...(await turn(main, `o-${i}-${Date.now()}`, false)) });
    out.push({ what: 'new worktree', ...(await turn(repo(main), `n-${i}-${Date.now()}`, false)) });
    out.push({ what: 'new worktree, project/current first', ...(await turn(repo(main), `p-${i}-${Date.now()}`, true)) });
    const w = repo(main);
    const warmMs = await prewarm(w);
    await new Promise((r) => setTimeout(r, 1000));
    out.push({ what: `new worktree, pre-warmed (${warmMode}) ${warmMs} ms`, ...(await turn(w, `q-${i}-${Date.now()}`, false)) });
  }
  for (const r of out) process.stdout.write(`${JSON.stringify(r)}\n`);
  await sp.stop();
  await model.close();
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
