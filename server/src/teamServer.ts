/**
 * Composition root of the team server (`orchestrator serve`): the same handlers as the stdio server,
 * served over WebSocket to clients authenticated by API key, each request authorised by role
 * (`handlers/authorize.ts`). Every tenant has its own data folder `<data>/tenants/<tenantId>/` with its
 * own store, transcripts, worktrees and services, so one tenant's sessions, runs and datasets are not
 * reachable from another's connection: there is no code path between them.
 */
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import type { MessageConnection } from 'vscode-jsonrpc/node';
import { ResponseError } from 'vscode-languageserver/node';
import { agentDidChange } from '../../protocol/agent';
import { errorCodes } from '../../protocol/errors';
import { describeIssues, sendNotification, sendRequest, type RpcEndpoint } from '../../protocol/messages';
import { permissionAnswer, permissionRequest, runDidUpdate } from '../../protocol/run';
import { sessionDidChange } from '../../protocol/session';
import { AuthFile } from './adapters/auth/authFile';
import { AuditLog, OwnerLog, UsageLedger } from './adapters/auth/tenantLog';
import { registerAuditHandlers } from './handlers/audit';
import { registerQuotaHandlers } from './handlers/quota';
import { registerUsageHandlers } from './handlers/usage';
import { TenantGuard } from './teamGuards';
import { startWsServer, type UpgradeDecision } from './adapters/ws/wsServer';
import type { AgentSettings } from './agents';
import { createRunServices, createServices, type RunServices, type Services } from './compose';
import { tenantPgStore } from './teamStore';
import type { Principal } from './domain/auth/accounts';
import { RateLimiter } from './domain/auth/rateLimit';
import { admit, authorizedEndpoint, type Gate } from './handlers/authorize';
import { registerDatasetHandlers } from './handlers/dataset';
import { registerFineTuneHandlers } from './handlers/finetune';
import { createFineTuneServices, type FineTuneServices } from './fineTuneComposition';
import { finetuneDidChange } from '../../protocol/finetune';
import { registerMarketplaceHandlers } from './handlers/marketplace';
import { registerRunHandlers } from './handlers/run';
import { registerServerHandlers } from './handlers/server';
import { registerAgentHandlers, registerSessionHandlers } from './handlers/session';
import type { Logger } from './ports/logger';
import { openTeamWorkers, workerUsageLine, type TeamWorkersOptions } from './teamWorkers';

export interface TeamServerOptions {
  dataDir: string;
  host: string;
  port: number;
  logger: Logger;
  agentSettings: AgentSettings;
  /** Largest frame in bytes (default 1 MiB). */
  maxPayload?: number;
  /** Requests per key per minute (default 6000). */
  maxRequestsPerMinute?: number;
  /** Failed sign-ins per remote address per minute before 429 (default 10). */
  maxFailedAuthPerMinute?: number;
  /** `postgres://…`: every tenant's store in this PostgreSQL database (`adapters/postgres`); default: lowdb files. */
  storeUrl?: string;
  /** Session tasks run on workers (`serve --workers`, needs `storeUrl`); default: in this server. */
  workers?: TeamWorkersOptions;
}

interface Client {
  connection: MessageConnection;
  principal: Principal;
}

interface Tenant {
  guard: TenantGuard;
  services: Services;
  run: RunServices;
  fineTune: FineTuneServices;
  clients: Set<Client>;
}

export interface TeamServer {
  port: number;
  close(): Promise<void>;
}

function bearer(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  const m = typeof h === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(h) : null;
  return m?.[1];
}

export async function startTeamServer(opts: TeamServerOptions): Promise<TeamServer> {
  const { logger } = opts;
  const auth = new AuthFile(opts.dataDir);
  const accounts = await auth.read(); // A broken auth.json stops the start with its reason.
  // A mistyped workers tenant would silently run that tenant's agents here: refused at start.
  if (opts.workers && !accounts.tenants.some((t) => t.id === opts.workers?.tenant))
    throw new Error(
      `--workers-tenant ${JSON.stringify(opts.workers.tenant)} is not a tenant of this server (orchestrator admin create-tenant)`,
    );
  const failed = new RateLimiter(opts.maxFailedAuthPerMinute ?? 10, 60_000);
  const requests = new RateLimiter(opts.maxRequestsPerMinute ?? 6000, 60_000);
  const tenants = new Map<string, Promise<Tenant>>();
  const workers = opts.workers && opts.storeUrl ? await openTeamWorkers(opts.storeUrl, opts.dataDir, opts.workers, logger) : undefined;

  function tenant(id: string): Promise<Tenant> {
    let t = tenants.get(id);
    if (!t) {
      t = openTenant(id);
      tenants.set(id, t);
      t.catch(() => tenants.delete(id));
    }
    return t;
  }

  async function openTenant(id: string): Promise<Tenant> {
    const services = await createServices({
      dataDir: path.join(opts.dataDir, 'tenants', id),
      mode: 'listen',
      logger,
      store: opts.storeUrl ? () => tenantPgStore(opts.storeUrl!, id, logger) : undefined,
      // On PostgreSQL every record carries the tenant's id. A lowdb tenant's records keep `local`: its data
      // folder is the tenant, and folders written by earlier versions hold `local` records.
      ...(opts.storeUrl ? { tenantId: id } : {}),
    });
    const clients = new Set<Client>();
    const all = (send: (c: MessageConnection) => void) => clients.forEach((c) => send(c.connection));
    const ledger = new UsageLedger(services.dataDir);
    await ledger.load();
    const owners = new OwnerLog(services.dataDir);
    await owners.load();
    const guard = new TenantGuard({ tenantId: id, auth, store: services.store, ledger, owners, audit: new AuditLog(opts.dataDir, id) });
    await guard.quotas();
    await guard.reconcile();
    // Workers' turns count like local runs: one ledger line per outcome, for the session's owner.
    workers?.dispatch.onUsage(id, (e) => ledger.record(workerUsageLine(e, guard.usage.sessionOwner(e.sessionId))));
    const run = await createRunServices(services, {
      agentSettings: opts.agentSettings,
      logger,
      maxActiveTasks: () => guard.maxActiveTasks(),
      maxTasksPerOwner: () => guard.maxTasksPerOwner(),
      sessionOwners: (sessionId) => guard.sessionOwners(sessionId),
      // Only the workers' tenant: its sessions share the workers' one remote (others run here).
      ...(workers && workers.tenant === id ? { workers: workers.dispatch } : {}),
      publish: (u) => {
        // Reconciled: an ended run's tokens count against the tenant's window.
        guard
          .runEnded(u.run)
          .catch((e: unknown) => logger.error(`team server: recording the usage of run ${u.run.id} failed: ${String(e)}`));
        all((c) => sendNotification(c, runDidUpdate, u));
      },
      publishSession: (v) => all((c) => sendNotification(c, sessionDidChange, v)),
      publishAgents: (agents) => all((c) => sendNotification(c, agentDidChange, { agents })),
      // The policy's own answers (and remembered rules', deadlines') go to the audit log without holding the turn.
      permissionAnswered: (a) => {
        guard.autoAnswered(a).catch((e: unknown) => logger.error(`team server: auditing a permission answer failed: ${String(e)}`));
      },
      // A permission question goes to one connected developer or admin of the tenant; with none, it is denied.
      askUser: async (ask) => {
        const to = [...clients].find((c) => c.principal.role !== 'viewer');
        if (!to) return 'deny';
        const parsed = permissionAnswer.safeParse(await sendRequest(to.connection, permissionRequest, ask));
        if (!parsed.success) logger.warn(`permission/request: the answer was not understood (${describeIssues(parsed.error)}); denied`);
        const answer = parsed.success ? parsed.data : 'deny';
        await guard
          .answered(to.principal, ask, answer)
          .catch((e: unknown) => logger.error(`team server: auditing a permission answer failed: ${String(e)}`));
        return answer;
      },
    });
    const fineTune = await createFineTuneServices(services, {
      logger,
      publish: (v) => all((c) => sendNotification(c, finetuneDidChange, v)),
      serving: run.serving,
      actor: `tenant:${id}`,
    });
    logger.info(`team server: tenant ${id} opened at ${services.dataDir}`);
    return { guard, services, run, fineTune, clients };
  }

  async function authenticate(req: IncomingMessage): Promise<UpgradeDecision<Principal>> {
    const from = req.socket.remoteAddress ?? 'unknown';
    const now = Date.now();
    const block = failed.blocked(from, now);
    if (!block.allowed)
      return { ok: false, status: 429, message: 'too many failed sign-ins; try again later', retryAfterMs: block.retryAfterMs };
    const key = bearer(req);
    const check = key ? await auth.check(key, now) : undefined;
    if (check?.ok) return { ok: true, principal: check.principal };
    failed.hit(from, now);
    const why = !check
      ? 'no API key (send Authorization: Bearer <key>)'
      : check.reason === 'revoked' || check.reason === 'expired'
        ? `this API key is ${check.reason}`
        : 'the API key is not valid';
    logger.warn(`team server: refused a connection from ${from}: ${why}`);
    return { ok: false, status: 401, message: why };
  }

  async function connect(connection: MessageConnection, principal: Principal): Promise<void> {
    const gate: Gate = {
      principal,
      rate: () => requests.hit(principal.keyId, Date.now()),
      recheck: () => auth.recheck(principal.keyId),
    };
    const t = await tenant(principal.tenantId);
    // Authorisation first, then the tenant's guards (paths, quotas, audit), then the handler.
    const endpoint: RpcEndpoint = t.guard.endpoint(authorizedEndpoint(connection, gate), principal);
    // A method with no handler still meets the authorisation layer first: not in the table → forbidden.
    connection.onRequest(async (method: string) => {
      await admit(method, gate);
      throw new ResponseError(errorCodes.methodNotFound, `unknown method ${method}`);
    });
    const client: Client = { connection, principal };
    t.clients.add(client);
    const { tenantId, userId, userName, role, keyId } = principal;
    const unsubscribe = registerServerHandlers(endpoint, t.services.status, logger, () => ({ tenantId, userId, userName, role, keyId }));
    registerRunHandlers(endpoint, t.run.runs, logger);
    registerSessionHandlers(endpoint, t.run.sessions, t.run.liveSession, logger);
    registerAgentHandlers(endpoint, t.run.agentViews, logger);
    registerMarketplaceHandlers(endpoint, t.run.marketplace, logger);
    registerDatasetHandlers(endpoint, t.services.datasets, logger);
    registerFineTuneHandlers(endpoint, t.fineTune.fineTunes, t.fineTune.models, logger);
    registerAuditHandlers(endpoint, (limit) => t.guard.auditList(limit), logger);
    registerUsageHandlers(endpoint, (p) => t.guard.usageReport(principal, p), logger);
    registerQuotaHandlers(
      endpoint,
      {
        get: () => t.guard.quotaGet(principal),
        set: async (p) => {
          const r = await t.guard.quotaSet(principal, p);
          // A raised limit lets held tasks start now, not at the next tick.
          t.run.runner.pump();
          return r;
        },
      },
      logger,
    );
    connection.onClose(() => {
      t.clients.delete(client);
      unsubscribe();
    });
    logger.info(`team server: ${principal.userName} (${principal.role}, tenant ${principal.tenantId}, key ${principal.keyId}) connected`);
  }

  const server = await startWsServer<Principal>({
    host: opts.host,
    port: opts.port,
    maxPayload: opts.maxPayload ?? 1024 * 1024,
    logger,
    authenticate,
    onConnection: connect,
  });
  return {
    port: server.port,
    close: async () => {
      await server.close();
      for (const t of tenants.values()) {
        const open = await t.catch(() => undefined);
        await open?.run.dispose().catch(() => undefined);
        await open?.fineTune.dispose().catch(() => undefined);
        await open?.services.release().catch(() => undefined);
      }
      await workers?.close();
    },
  };
}
