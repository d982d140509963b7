/**
 * Append-only JSON-lines files of a tenant's data folder: the audit log (`audit.jsonl`: admin actions,
 * quota and roots changes, permission answers, alias moves, refusals) and the token usage ledger
 * (`usage.jsonl`: the tokens each ended run used, for the tenant's token window). An append resolves after
 * fdatasync; a torn last line is skipped when read. `owners.jsonl` says which user started each run and
 * session, so a usage line names who used the tokens.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { UsageLine } from '../../domain/auth/usageReport';
import { redactValue } from '../../domain/redact';

export interface AuditEntry {
  at: string;
  tenantId: string;
  /**
   * Who: `cli` for the admin command line, `server` for an answer the server gave by itself (`by`: the
   * permission policy, a remembered rule, a deadline, no one to ask), else the user and key of a connection.
   */
  actor: { kind: 'cli' } | { kind: 'server'; by: string } | { kind: 'user'; userId: string; userName: string; keyId: string; role: string };
  action: string;
  details?: Record<string, unknown>;
}

/** A line of `usage.jsonl` (older lines carry only atMs, runId and tokens). */
export type UsageEntry = UsageLine;

export function tenantFolder(dataDir: string, tenantId: string): string {
  return path.join(dataDir, 'tenants', tenantId);
}

async function append(file: string, value: unknown): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const h = await fs.open(file, 'a', 0o600);
  try {
    await h.write(`${JSON.stringify(value)}\n`);
    await h.datasync();
  } finally {
    await h.close();
  }
}

async function readLines<T>(file: string): Promise<T[]> {
  const text = await fs.readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return '';
    throw e;
  });
  const out: T[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // A torn line (a crash mid-append) is skipped.
    }
  }
  return out;
}

export class AuditLog {
  readonly file: string;
  constructor(dataDir: string, tenantId: string) {
    this.file = path.join(tenantFolder(dataDir, tenantId), 'audit.jsonl');
  }
  /** The details pass through secret redaction: a permission ask's command line may carry a token. */
  append(e: Omit<AuditEntry, 'at'> & { at?: string }): Promise<void> {
    const details = e.details === undefined ? undefined : redactValue(e.details);
    return append(this.file, { at: e.at ?? new Date().toISOString(), ...e, ...(details ? { details } : {}) });
  }
  /** Newest first. */
  async list(limit = 100): Promise<AuditEntry[]> {
    return (await readLines<AuditEntry>(this.file)).reverse().slice(0, limit);
  }
}

export class UsageLedger {
  readonly file: string;
  private entries: UsageEntry[] | undefined;
  private readonly seen = new Set<string>();
  constructor(folder: string) {
    this.file = path.join(folder, 'usage.jsonl');
  }
  async load(): Promise<void> {
    this.entries = await readLines<UsageEntry>(this.file);
    for (const e of this.entries) this.seen.add(e.runId);
  }
  /** Records an ended run once. */
  async record(e: UsageEntry): Promise<void> {
    if (this.seen.has(e.runId)) return;
    this.seen.add(e.runId);
    (this.entries ??= []).push(e);
    await append(this.file, e);
  }
  all(): readonly UsageEntry[] {
    return this.entries ?? [];
  }
  has(runId: string): boolean {
    return this.seen.has(runId);
  }
}

export interface OwnerEntry {
  kind: 'run' | 'session';
  id: string;
  userId: string;
  userName: string;
  /** The API key it came with (absent in lines written before per-key quotas). */
  keyId?: string;
}

/** Who started each run and session of a tenant (`owners.jsonl`), for the usage ledger's user column. */
export class OwnerLog {
  readonly file: string;
  private readonly owners = new Map<string, OwnerEntry>();
  constructor(folder: string) {
    this.file = path.join(folder, 'owners.jsonl');
  }
  async load(): Promise<void> {
    for (const e of await readLines<OwnerEntry>(this.file)) this.owners.set(`${e.kind}:${e.id}`, e);
  }
  /** Known at once (before the append settles), so a run that ends quickly is still attributed. */
  async record(e: OwnerEntry): Promise<void> {
    const k = `${e.kind}:${e.id}`;
    if (this.owners.has(k)) return;
    this.owners.set(k, e);
    await append(this.file, e);
  }
  /** The user who started a session. */
  ofSession(sessionId: string): OwnerEntry | undefined {
    return this.owners.get(`session:${sessionId}`);
  }
  /** The user who started the run, or else its session. */
  of(run: { id: string; sessionId?: string }): OwnerEntry | undefined {
    return this.owners.get(`run:${run.id}`) ?? (run.sessionId ? this.owners.get(`session:${run.sessionId}`) : undefined);
  }
}

/** The tenant's usage ledger as written (the admin CLI reads it without opening the tenant). */
export function readUsage(folder: string): Promise<UsageEntry[]> {
  return readLines<UsageEntry>(path.join(folder, 'usage.jsonl'));
}
