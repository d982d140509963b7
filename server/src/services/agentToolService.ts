/**
 * The tools our MCP server gives agents, enforced here: each run gets a bearer token bound to its
 * session, task and worktree (`open`), the transport resolves a request's token to that grant
 * (`authenticate`), and every call is decided by the pure rules of `domain/orchestration/agentTools.ts`
 * against the store, never by what the agent claims. Lease changes are one store update each (read and
 * decided inside it), so they cannot race the scheduler. Tokens are never logged.
 */
import { DomainError } from '../domain/errors';
import {
  budgetView,
  checkProgress,
  claimLease,
  releaseLease,
  taskContextView,
  type AgentToolName,
  type ClaimResult,
  type ReleaseResult,
} from '../domain/orchestration/agentTools';
import { leaseOf } from '../domain/orchestration/lease';
import type {
  AgentToolBackend,
  AgentToolGrants,
  AgentToolServerPort,
  OpenGrant,
  ProgressReport,
  ToolGrant,
  ToolOutcome,
} from '../ports/agentTools';
import type { Logger } from '../ports/logger';
import type { StorePort } from '../ports/store';
import type { WorkspacePort } from '../ports/workspace';

export interface AgentToolServiceDeps {
  store: StorePort;
  workspace: Pick<WorkspacePort, 'changedFiles' | 'dirtyFiles'>;
  server: AgentToolServerPort;
  /** The scheduler's lease time to live (claimed paths expire and are renewed with the task's lease). */
  leaseTtlMs: number;
  /** A fresh unguessable token (32 random bytes, base64url). */
  newToken(): string;
  now(): number;
  logger: Logger;
  /** The name agents see the server under. */
  serverName?: string;
}

interface Held {
  grant: ToolGrant;
  onProgress: (p: ProgressReport) => boolean;
}

const notSession = (tool: string): ToolOutcome => ({
  ok: false,
  reason: `${tool}: this run is not a task of an orchestrated session (a single run has no leases or budget)`,
});

export class AgentToolService implements AgentToolBackend, AgentToolGrants {
  private readonly grants = new Map<string, Held>();
  private url: Promise<string | undefined> | undefined;

  constructor(private readonly d: AgentToolServiceDeps) {}

  /** Starts the transport on first use; a failure is logged once and leaves agents without tools. */
  private endpoint(): Promise<string | undefined> {
    this.url ??= this.d.server.start(this).catch((e: unknown) => {
      this.d.logger.error(`the agent tools (MCP) server did not start; agents run without its tools: ${String(e)}`);
      return undefined;
    });
    return this.url;
  }

  async open(grant: ToolGrant, onProgress: (p: ProgressReport) => boolean): Promise<OpenGrant | undefined> {
    const url = await this.endpoint();
    if (!url) return undefined;
    const token = this.d.newToken();
    this.grants.set(token, { grant: { ...grant }, onProgress });
    return {
      attachment: { name: this.d.serverName ?? 'orchestrator', url, headers: { Authorization: `Bearer ${token}` } },
      close: () => void this.grants.delete(token),
    };
  }

  authenticate(token: string): ToolGrant | undefined {
    const held = this.grants.get(token);
    return held ? { ...held.grant } : undefined;
  }

  async call(grant: ToolGrant, tool: AgentToolName, args: Record<string, unknown>): Promise<ToolOutcome> {
    const held = [...this.grants.values()].find((h) => h.grant.runId === grant.runId);
    if (!held) return { ok: false, reason: 'this run has ended; its tools are closed' };
    const g = held.grant;
    try {
      switch (tool) {
        case 'report_progress': {
          const p = checkProgress(args.message, args.percent);
          if (!p.ok) return p;
          if (!held.onProgress({ message: p.message, ...(p.percent === undefined ? {} : { percent: p.percent }) }))
            return { ok: false, reason: 'the turn has ended; progress is no longer recorded' };
          return { ok: true, data: { recorded: true } };
        }
        case 'task_context':
          return await this.taskContext(g);
        case 'budget':
          return this.budget(g);
        case 'claim_lease':
          return await this.claim(g, args);
        case 'release_lease':
          return await this.release(g, args);
      }
    } catch (e) {
      if (DomainError.is(e)) return { ok: false, reason: e.message };
      throw e;
    }
  }

  private sessionOf(g: ToolGrant) {
    const data = this.d.store.read();
    const session = g.sessionId ? data.sessions.find((s) => s.id === g.sessionId) : undefined;
    const task = g.taskId ? data.tasks.find((t) => t.id === g.taskId && t.sessionId === g.sessionId) : undefined;
    return { data, session, task };
  }

  private async taskContext(g: ToolGrant): Promise<ToolOutcome> {
    const { data, session, task } = this.sessionOf(g);
    if (!session || !task) {
      const run = data.runs.find((r) => r.id === g.runId);
      return { ok: true, data: { goal: session?.goal ?? null, task: null, prompt: run?.prompt ?? '', dependencies: [], changedFiles: [] } };
    }
    const changed = new Set<string>();
    if (task.baseSha) for (const f of await this.d.workspace.changedFiles(g.cwd, task.baseSha).catch(() => [])) changed.add(f.path);
    for (const f of await this.d.workspace.dirtyFiles(g.cwd).catch(() => [])) changed.add(f);
    return {
      ok: true,
      data: taskContextView({
        goal: session.goal,
        task,
        tasks: data.tasks.filter((t) => t.sessionId === session.id),
        changedFiles: [...changed],
        lease: leaseOf(data.leases, task.id),
      }),
    };
  }

  private budget(g: ToolGrant): ToolOutcome {
    const { session } = this.sessionOf(g);
    if (!session) return notSession('budget');
    return { ok: true, data: { sessionId: session.id, ...budgetView(session.budget, this.d.now()) } };
  }

  private async claim(g: ToolGrant, args: Record<string, unknown>): Promise<ToolOutcome> {
    if (!g.sessionId || !g.taskId) return notSession('claim_lease');
    let result: ClaimResult = { ok: false, reason: `task ${g.taskId} is not in the store`, holders: [] };
    await this.d.store.update((d) => {
      const session = d.sessions.find((s) => s.id === g.sessionId);
      const task = d.tasks.find((t) => t.id === g.taskId && t.sessionId === g.sessionId);
      if (!session || !task) return false;
      const titles = new Map(d.tasks.filter((t) => t.sessionId === session.id).map((t) => [t.id, t.title]));
      result = claimLease({
        table: d.leases,
        repo: session.cwd,
        sessionState: session.state,
        task,
        titles,
        paths: args.paths,
        mode: args.mode,
        nowMs: this.d.now(),
        ttlMs: this.d.leaseTtlMs,
      });
      if (!result.ok) return false;
      d.leases = result.table;
    });
    const r = result as ClaimResult;
    this.d.logger.info(`run ${g.runId}: claim_lease ${JSON.stringify(args.paths)} → ${r.ok ? 'granted' : `refused (${r.reason})`}`);
    if (!r.ok) return { ok: false, reason: r.reason };
    return {
      ok: true,
      data: {
        granted: true,
        mode: r.lease.mode,
        paths: r.lease.globs,
        added: r.added,
        expiresAt: new Date(r.lease.expiresAt).toISOString(),
      },
    };
  }

  private async release(g: ToolGrant, args: Record<string, unknown>): Promise<ToolOutcome> {
    if (!g.sessionId || !g.taskId) return notSession('release_lease');
    let result: ReleaseResult = { ok: false, reason: `task ${g.taskId} is not in the store` };
    await this.d.store.update((d) => {
      const task = d.tasks.find((t) => t.id === g.taskId && t.sessionId === g.sessionId);
      if (!task) return false;
      result = releaseLease({ table: d.leases, task, paths: args.paths });
      if (!result.ok || !result.released.length) return false;
      d.leases = result.table;
    });
    const r = result as ReleaseResult;
    if (!r.ok) return r;
    const { table: _table, ...data } = r;
    return {
      ok: true,
      data: {
        ...data,
        ...(r.kept.length ? { note: `${r.kept.join(', ')}: planned for this task; released when the task ends` } : {}),
      },
    };
  }
}
