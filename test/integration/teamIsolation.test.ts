/**
 * Team server isolation and roles, against the real `dist/cli.js serve` over WebSocket:
 * - the role matrix: every role × every request method of `protocol/methods.ts`, with well-formed params,
 *   is allowed or refused (`forbidden`, naming the required role) exactly as `domain/auth/permissions.ts` says;
 * - isolation: tenant acme has a finished session (task, run, transcript, worktree, dataset); every method,
 *   called by each role of tenant globex with acme's ids and acme's repository as `cwd`, is denied or finds
 *   nothing. A leak is an answer that carries acme's data, or a change to acme's session. Printed: methods ×
 *   roles tried, leaks found (must be 0);
 * - workspace roots: `cwd` outside the tenant's roots, with `..`, through a symlink, missing, or with no
 *   roots at all is refused and audited; inside, the session runs on the real path.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, realpathSync, renameSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AuditEntryView } from '../../protocol/audit';
import { errorCodes } from '../../protocol/errors';
import { requests } from '../../protocol/methods';
import type { SessionView } from '../../protocol/session';
import { minimumRole, roles, type Role } from '../../server/src/domain/auth/permissions';
import { tempDir } from './serverProcess';
import { sampleRepo } from './sessionHelpers';
import { admin, connected, startTeamServer, userWithKey, type RpcClient, type RpcReply, type TeamServer } from './teamClient';
import { extraProbes, probeParams } from './teamProbes';

const rank = (r: Role) => roles.indexOf(r);
const allowedByTable = (role: Role, method: string) => {
  const required = minimumRole.get(method);
  return required !== undefined && rank(role) >= rank(required);
};
const roleRefusal = (r: RpcReply) =>
  r.error?.code === errorCodes.forbidden && (r.error.data as { required?: string } | undefined)?.required !== undefined;

async function waitState(c: RpcClient, sessionId: string, done: (v: SessionView) => boolean, ms = 120_000): Promise<SessionView> {
  let v = await c.call<SessionView>('session/get', { sessionId });
  for (const end = Date.now() + ms; Date.now() < end && !done(v);) {
    await new Promise((r) => setTimeout(r, 250));
    v = await c.call<SessionView>('session/get', { sessionId });
  }
  assert.ok(done(v), `session ${sessionId} is ${v.state}: ${JSON.stringify(v.tasks.map((t) => [t.id, t.state]))}`);
  return v;
}

describe('team server: role matrix, isolation, workspace roots', () => {
  let dataDir: string;
  let server: TeamServer;
  const acme = {} as Record<Role, string>;
  const globex = {} as Record<Role, string>;
  const acmeKeyIds = {} as Record<Role, string>;
  let acmeRoot: string;
  let globexRoot: string;
  before(async () => {
    dataDir = tempDir('orch-team-iso-');
    acmeRoot = realpathSync(tempDir('orch-acme-root-'));
    globexRoot = realpathSync(tempDir('orch-globex-root-'));
    for (const r of roles) ({ key: acme[r], keyId: acmeKeyIds[r] } = userWithKey(dataDir, 'acme', `acme-${r}`, r));
    for (const r of roles) globex[r] = userWithKey(dataDir, 'globex', `globex-${r}`, r).key;
    admin(dataDir, 'set-roots', 'acme', acmeRoot);
    admin(dataDir, 'set-roots', 'globex', globexRoot);
    server = await startTeamServer(dataDir);
  });
  after(async () => {
    await server?.stop();
  });

  test('role matrix: every role × every request method gives the allow or deny of the table, on the live server', async () => {
    // Ids that do not exist and a folder inside the roots that is no repository: an allowed call is answered
    // (notFound, InvalidParams, a list…) and changes nothing; a denied one is `forbidden` naming the required role.
    const plain = path.join(acmeRoot, 'plain');
    mkdirSync(plain, { recursive: true });
    const params = probeParams({ sessionId: 's-none', taskId: 't-none', runId: 'r-none', dataset: 'none', cwd: plain });
    assert.deepEqual(
      requests.map((d) => d.method).filter((m) => !(m in params)),
      [],
      'every method has a probe',
    );
    const wrong: string[] = [];
    const rows: string[] = [];
    for (const role of roles) {
      const c = await connected(server.url, acme[role]);
      let allowed = 0;
      for (const def of requests) {
        const r = await c.request(def.method, params[def.method]);
        const expect = allowedByTable(role, def.method);
        if (expect === roleRefusal(r))
          wrong.push(
            `${role} ${def.method}: expected ${expect ? 'allowed' : 'forbidden'}, got ${JSON.stringify(r.error ?? r.result).slice(0, 160)}`,
          );
        if (!expect && (r.error?.data as { required?: string })?.required !== minimumRole.get(def.method))
          wrong.push(`${role} ${def.method}: the refusal names the wrong role`);
        if (expect) allowed++;
      }
      for (const m of ['initialize', 'nope/nothing', 'permission/request'])
        if ((await c.request(m, {})).error?.code !== errorCodes.forbidden) wrong.push(`${role} ${m} not forbidden`);
      rows.push(`${role}: ${allowed} allowed, ${requests.length - allowed} forbidden`);
      await c.close();
    }
    console.log(
      `role matrix: ${roles.length} roles × ${requests.length} methods = ${roles.length * requests.length} calls; ${rows.join('; ')}; ${wrong.length} wrong`,
    );
    assert.deepEqual(wrong, []);
  });

  test('isolation: every method × every role of another tenant, aimed at acme, is denied or finds nothing (0 leaks)', async () => {
    const dev = await connected(server.url, acme.developer);
    const repo = path.join(acmeRoot, 'repo');
    const made = sampleRepo();
    // The repository lives inside acme's root.
    renameSync(made, repo);
    const marker = 'ACME-SECRET-GOAL';
    const draft = await dev.call<SessionView>('session/start', {
      goal: `- [a] Alpha ${marker} {files: a.txt}: [[script:write_file a.txt]] acme alpha`,
      cwd: repo,
    });
    await dev.call('session/approve', { sessionId: draft.id });
    const done = await waitState(dev, draft.id, (v) => ['completed', 'failed'].includes(v.state));
    assert.equal(done.state, 'completed');
    const taskId = done.tasks[0].id;
    const runId = done.tasks[0].runId!;
    const ds = await dev.request('dataset/create', { name: 'acme-ds', options: { validationFraction: 0 } });
    const dataset = 'acme-ds';
    const before = JSON.stringify(await dev.call('session/get', { sessionId: draft.id }));

    // acme's developer's user id and key id: `quota/set` from another tenant must not find them.
    const authFile = path.join(dataDir, 'auth.json');
    const acmeAccounts = () => {
      const a = JSON.parse(readFileSync(authFile, 'utf8')) as {
        users: { id: string; tenantId: string; quotas?: unknown }[];
        keys: { id: string; quotas?: unknown }[];
      };
      return JSON.stringify([a.users.filter((u) => u.tenantId === 'acme'), a.keys.filter((k) => Object.values(acmeKeyIds).includes(k.id))]);
    };
    const acmeUserId = (JSON.parse(readFileSync(authFile, 'utf8')) as { users: { id: string; name: string }[] }).users.find(
      (u) => u.name === 'acme-developer',
    )!.id;
    const accountsBefore = acmeAccounts();
    const target = { sessionId: draft.id, taskId, runId, dataset, cwd: repo, userId: acmeUserId, keyId: acmeKeyIds.developer };
    const params = probeParams(target);
    // In an answer: nothing of acme's. In an error: not acme's data (the ids and path the caller sent may be echoed).
    const anywhere = [marker, 'acme alpha', `tenants${path.sep}acme`, 'acme-developer'];
    const inResults = [...anywhere, draft.id, runId, repo];
    const leaks: string[] = [];
    const rows: string[] = [];
    for (const role of roles) {
      const c = await connected(server.url, globex[role]);
      let denied = 0;
      let empty = 0;
      const calls: [string, unknown][] = [
        ...requests.map((d) => [d.method, params[d.method]] as [string, unknown]),
        ...extraProbes(target),
      ];
      for (const [method, p] of calls) {
        const r = await c.request(method, p);
        if (method === 'quota/set' && !r.error) leaks.push(`${role} quota/set found acme's ${JSON.stringify(p)}`);
        if (r.error) {
          denied++;
          const text = JSON.stringify(r.error);
          for (const m of anywhere) if (text.includes(m)) leaks.push(`${role} ${method}: error carries ${m}: ${text.slice(0, 200)}`);
        } else {
          empty++;
          const text = JSON.stringify(r.result);
          // The caller's own audit log records the path it tried (its own input, not acme's data).
          const own = method === 'audit/list' ? [repo] : [];
          for (const m of inResults)
            if (!own.includes(m) && text.includes(m)) leaks.push(`${role} ${method}: answer carries ${m}: ${text.slice(0, 200)}`);
        }
      }
      rows.push(`${role}: ${calls.length} calls, ${denied} denied, ${empty} answered without acme data`);
      await c.close();
    }
    const after = JSON.stringify(await dev.call('session/get', { sessionId: draft.id }));
    if (after !== before) leaks.push(`acme's session changed: ${before.slice(0, 200)} → ${after.slice(0, 200)}`);
    if (acmeAccounts() !== accountsBefore) leaks.push("acme's users' or keys' quotas changed");
    const acmeAudit = readFileSync(path.join(dataDir, 'tenants', 'acme', 'audit.jsonl'), 'utf8');
    if (acmeAudit.includes('globex-')) leaks.push("a globex user's action is in acme's audit log");
    console.log(
      `isolation: ${requests.length} methods × ${roles.length} roles = ${requests.length * roles.length} cross-tenant calls (${rows.join('; ')}); dataset ${ds.error ? `not created (${ds.error.message})` : 'created'}; leaks: ${leaks.length}`,
    );
    assert.deepEqual(leaks, []);
    assert.equal(leaks.length, 0);
    await dev.close();
  });

  test('workspace roots: outside, "..", a symlink out, missing, none → refused and audited; inside → the real path', async () => {
    const dev = await connected(server.url, acme.developer);
    const outsideRepo = sampleRepo();
    const inside = path.join(acmeRoot, 'inside-repo');
    renameSync(sampleRepo(), inside);
    symlinkSync(outsideRepo, path.join(acmeRoot, 'link-out'));
    symlinkSync(inside, path.join(acmeRoot, 'link-in'));
    const goal = '- [a] Alpha {files: a.txt}: [[script:write_file a.txt]] alpha';
    const attacks: [string, string, number, RegExp][] = [
      ['absolute outside', outsideRepo, errorCodes.forbidden, /outside this tenant's workspace roots/],
      ['.. out of the root', `${acmeRoot}/../${path.basename(outsideRepo)}`, errorCodes.invalidParams, /"\.\."/],
      ['.. staying inside', `${acmeRoot}/inside-repo/../inside-repo`, errorCodes.invalidParams, /"\.\."/],
      ['symlink pointing out', path.join(acmeRoot, 'link-out'), errorCodes.forbidden, /leads to/],
      ['missing', path.join(acmeRoot, 'nope'), errorCodes.invalidParams, /does not exist/],
      ['relative', 'inside-repo', errorCodes.invalidParams, /absolute/],
      ['the root of the machine', '/', errorCodes.forbidden, /outside/],
    ];
    const wrong: string[] = [];
    for (const [what, cwd, code, message] of attacks) {
      for (const [method, p] of [
        ['session/start', { goal, cwd, approve: true }],
        ['run/start', { agent: 'opencode', cwd, prompt: 'hi' }],
      ] as const) {
        const r = await dev.request(method, p);
        if (r.error?.code !== code || !message.test(r.error.message))
          wrong.push(`${what} ${method}: ${JSON.stringify(r.error ?? r.result).slice(0, 200)}`);
      }
    }
    assert.deepEqual(wrong, []);
    // Nothing was created by the refused calls.
    assert.deepEqual(
      (await dev.call<SessionView[]>('session/list', {})).filter((s) => s.cwd !== path.join(acmeRoot, 'repo')),
      [],
    );
    // Inside, through a symlink: the session works on the real path.
    const ok = await dev.call<SessionView>('session/start', { goal, cwd: path.join(acmeRoot, 'link-in'), approve: true });
    assert.equal(ok.cwd, inside);
    await waitState(dev, ok.id, (v) => v.state === 'completed');
    // With no roots, every path is refused, even one that was fine a moment ago; the change is audited.
    admin(dataDir, 'set-roots', 'acme');
    const none = await dev.request('session/start', { goal, cwd: inside });
    assert.equal(none.error?.code, errorCodes.forbidden);
    assert.match(none.error!.message, /no workspace roots.*admin set-roots/);
    admin(dataDir, 'set-roots', 'acme', acmeRoot);
    const adm = await connected(server.url, acme.admin);
    const audit = await adm.call<AuditEntryView[]>('audit/list', { limit: 1000 });
    const refused = audit.filter((e) => e.action === 'path.refused');
    assert.ok(refused.length >= attacks.length * 2 + 1, `path refusals audited (${refused.length})`);
    assert.ok(refused.every((e) => e.actor.kind === 'user' && e.actor.userName === 'acme-developer'));
    const rootChanges = audit.filter((e) => e.action === 'roots.set');
    assert.ok(rootChanges.length >= 3, 'set-roots changes are audited');
    assert.deepEqual(rootChanges[0].details, { before: [], after: [acmeRoot] });
    assert.ok(audit.some((e) => e.action === 'user.create' && e.actor.kind === 'cli'));
    assert.ok(!JSON.stringify(audit).includes('globex'), "only acme's entries");
    await adm.close();
    await dev.close();
  });
});
