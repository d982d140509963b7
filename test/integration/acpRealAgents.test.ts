/**
 * Two real ACP agents from npm besides OpenCode, Gemini CLI (`@google/gemini-cli`) and Claude Code (its ACP
 * adapter `@agentclientprotocol/claude-agent-acp`), installed through the real `marketplace/install` from a
 * local index (`test/fixtures/acp-index/real-agents.json`: registry entries whose `_meta.orchestrator` points
 * each agent at a project-owned scripted model API) and driven end to end by the real server: a session task
 * writes a file (the edit allowed by the permission policy), one runs a command (asked to the user, allowed),
 * one is cancelled while the model streams.
 *
 * Everything runs in a loopback-only network namespace (loopbackNamespace.ts): the server, npm, the agents, the
 * scripted Gemini and Anthropic APIs and a DNS sink. The packages come from an npm cache outside the repository,
 * filled from the registry once (tools/prefetchAcpAgents.mjs, run by `npm test` before the integration layer)
 * before the namespace is entered; inside it npm runs offline.
 * No outbound connection is possible, and none is attempted: the DNS sink sees no lookup at all.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { agentList } from '../../protocol/agent';
import { marketplaceGet, marketplaceInstall, marketplaceList, type MarketplaceDetails } from '../../protocol/marketplace';
import { permissionRequest, type PermissionAsk } from '../../protocol/run';
import { sessionApply, sessionApprove, sessionStart, type SessionView } from '../../protocol/session';
import { taskCancel } from '../../protocol/task';
import { checkLoopbackNamespace, inLoopbackNamespace, namespaceLog } from './loopbackNamespace';
import { repoRoot, startServer, tempDir, withDeadline, type ServerHandle } from './serverProcess';
import { ended, sampleRepo, task, waitSession } from './sessionHelpers';

const indexFile = path.resolve(__dirname, '../fixtures/acp-index/real-agents.json');
const agents = [
  { id: 'gemini', cap: 'gemini', spec: '@google/gemini-cli@0.61.0', api: 'gemini' as const },
  { id: 'claude-acp', cap: 'claude', spec: '@agentclientprotocol/claude-agent-acp@0.101.0', api: 'anthropic' as const },
];

let tmp: string;
let nsDir: string;
let server: ServerHandle;
const asks: PermissionAsk[] = [];
const t0 = Date.now();
const note = (s: string) => console.log(`[acpReal +${((Date.now() - t0) / 1000).toFixed(1)} s] ${s}`);

/** The npm cache holding both agents (`npm test` fills it before the integration layer; idempotent). */
function prefetch(): string {
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'tools', 'prefetchAcpAgents.mjs')], { encoding: 'utf8', timeout: 9 * 60_000 });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0) throw new Error(`the agents could not be fetched into the npm cache: ${r.stderr || r.stdout}`);
  if (r.stdout.includes('fetched')) note(r.stdout.trim());
  return (JSON.parse(last) as { cache: string }).cache;
}

before(async () => {
  // No namespace, no test: this fails (it never skips) with what is missing.
  checkLoopbackNamespace();
  const cache = prefetch();
  tmp = tempDir('orch-acp-real-');
  nsDir = path.join(tmp, 'ns');
  server = await startServer(
    path.join(tmp, 'data'),
    {
      agents: {
        marketplace: { indexes: [indexFile] },
        // Only the installed agents take the tasks.
        disabled: ['opencode'],
        timeouts: { idleMs: 120_000, turnMs: 240_000, permissionMs: 60_000 },
      },
    },
    {
      wrap: (argv) => inLoopbackNamespace(nsDir, argv),
      env: { npm_config_cache: cache, npm_config_offline: 'true', npm_config_update_notifier: 'false' },
    },
  );
  server.connection.onRequest(permissionRequest.method, (ask: PermissionAsk) => {
    asks.push(ask);
    return { decision: 'allow' };
  });
});

after(async () => {
  await server?.stop();
  if (process.env.ACP_REAL_KEEP) console.log(`kept ${tmp}`);
  else if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

async function install(id: string): Promise<MarketplaceDetails> {
  const shown = await server.request(marketplaceGet, { id });
  return withDeadline(
    server.connection.sendRequest(marketplaceInstall.method, { id, consent: true, consentToken: shown.consentToken }),
    300_000,
    `install ${id}`,
  ) as Promise<MarketplaceDetails>;
}

const describeTasks = (v: SessionView) => JSON.stringify(v.tasks.map((t) => [t.planId, t.state, t.agentId, t.lastError]));

test('both agents install through marketplace/install from the local index, at their pinned versions, offline', async () => {
  const { problems } = await server.request(marketplaceList, {});
  assert.deepEqual(
    problems.filter((p) => p.source === indexFile),
    [],
    'the local index is valid',
  );
  const shown = await server.request(marketplaceGet, { id: 'gemini' });
  assert.deepEqual(shown.source, { kind: 'file', label: indexFile });
  assert.equal(shown.plan?.kind, 'npx');
  assert.match(
    shown.plan?.steps[0] ?? '',
    /^npm install --prefix \S+\/marketplace\/agents\/gemini\/0\.61\.0 @google\/gemini-cli@0\.61\.0$/,
  );
  assert.ok(shown.plan?.env.set.includes('GOOGLE_GEMINI_BASE_URL'), 'the consent shows the environment it sets');
  const t = Date.now();
  const installed = await Promise.all(agents.map((a) => install(a.id)));
  note(`both installed in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  for (const [i, d] of installed.entries()) {
    assert.equal(d.installed?.version, agents[i].spec.split('@').pop());
    assert.equal(d.installed?.enabled, true);
    assert.ok(d.runs?.command && fs.existsSync(d.runs.command), `${d.id} runs ${d.runs?.command}`);
  }
  const listed = await server.request(agentList, {});
  for (const a of agents) {
    const entry = listed.find((x) => x.id === a.id);
    assert.equal(entry?.availability.state, 'ready', `${a.id}: ${JSON.stringify(entry?.availability)}`);
    assert.deepEqual(entry?.capabilities, [a.cap]);
  }
});

for (const a of agents) {
  test(`${a.id}: a session writes a file (the policy allows the edit) and runs a command (the user allows it)`, async () => {
    const repo = sampleRepo();
    const before = asks.length;
    const draft = await server.request(sessionStart, {
      goal: [
        `Real ${a.id}`,
        `- [w] Write {files: hello.txt} {caps: ${a.cap}}: WRITE hello.txt written by ${a.id}`,
        `- [b] Shell (after: w) {files: ran.txt} {caps: ${a.cap}}: BASH echo ran-by-${a.id} > ran.txt`,
      ].join('\n'),
      cwd: repo,
    });
    await server.request(sessionApprove, { sessionId: draft.id });
    const v = await waitSession(server, draft.id, ended, 240_000);
    assert.equal(v.state, 'completed', `${describeTasks(v)}\n${server.stderr()}`);
    assert.equal(task(v, 'w').agentId, a.id);
    assert.equal(task(v, 'b').agentId, a.id);
    await server.request(sessionApply, { sessionId: draft.id });
    assert.equal(fs.readFileSync(path.join(repo, 'hello.txt'), 'utf8'), `written by ${a.id}\n`);
    assert.equal(fs.readFileSync(path.join(repo, 'ran.txt'), 'utf8'), `ran-by-${a.id}\n`);
    // The write was the policy's to allow (an edit inside the task's worktree); the command was asked.
    const mine = asks.slice(before);
    assert.ok(
      mine.some((x) => x.permission === 'bash' && JSON.stringify(x).includes(`echo ran-by-${a.id}`)),
      `the command was asked: ${JSON.stringify(mine)}`,
    );
    assert.ok(!mine.some((x) => x.permission === 'edit'), `no edit was asked: ${JSON.stringify(mine)}`);
    // The agent reached its scripted model API, and only it.
    const calls = namespaceLog(nsDir, a.api).filter((l) => l.decision);
    assert.ok(calls.length >= 4, `${a.api} API calls: ${calls.length}`);
  });

  test(`${a.id}: task/cancel while the model streams ends the task cancelled and the agent drops the stream`, async () => {
    const repo = sampleRepo();
    const draft = await server.request(sessionStart, {
      goal: `Slow ${a.id}\n- [s] Slow {files: s.txt} {caps: ${a.cap}}: SLOW 60`,
      cwd: repo,
    });
    await server.request(sessionApprove, { sessionId: draft.id });
    const streaming = () => namespaceLog(nsDir, a.api).filter((l) => (l.decision as { kind?: string } | undefined)?.kind === 'slow');
    const end = Date.now() + 120_000;
    while (!streaming().length && Date.now() < end) await new Promise((r) => setTimeout(r, 250));
    assert.ok(streaming().length, `${a.id} never asked its model for the slow turn`);
    await new Promise((r) => setTimeout(r, 1500));
    const t = Date.now();
    await server.request(taskCancel, { sessionId: draft.id, taskId: task(await waitSession(server, draft.id, () => true), 's').id });
    const v = await waitSession(server, draft.id, ended, 60_000);
    note(`${a.id} cancelled in ${Date.now() - t} ms`);
    assert.equal(task(v, 's').state, 'cancelled', describeTasks(v));
    const id = streaming().at(-1)!.id;
    const until = Date.now() + 15_000;
    const aborted = () => namespaceLog(nsDir, a.api).some((l) => l.id === id && l.event === 'aborted');
    while (!aborted() && Date.now() < until) await new Promise((r) => setTimeout(r, 250));
    assert.ok(aborted(), `the ${a.api} stream of request ${String(id)} was never closed`);
  });
}

test('no outbound connection was attempted: no host name was looked up, every model call went to the scripted APIs', () => {
  assert.deepEqual(namespaceLog(nsDir, 'dns'), [], 'DNS lookups attempted in the namespace');
  for (const a of agents) {
    const unknown = namespaceLog(nsDir, a.api).filter((l) => l.unknown);
    assert.deepEqual(unknown, [], `${a.api}: requests the scripted API does not serve`);
  }
});
