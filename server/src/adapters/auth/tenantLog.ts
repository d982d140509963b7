/**
 * Append-only JSON-lines files of a tenant's data folder: the audit log (`audit.jsonl`: admin actions,
 * quota and roots changes, permission answers, alias moves, refusals) and the token usage ledger
 * (`usage.jsonl`: the tokens each ended run used, for the tenant's token window). An append resolves after
 * fdatasync; a torn last line is skipped when read.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';

export interface AuditEntry {
  at: string;
  tenantId: string;
  /** Who: `cli` for the admin command line, else the user and key of a connection. */
  actor: { kind: 'cli' } | { kind: 'user'; userId: string; userName: string; keyId: string; role: string };
  action: string;
  details?: Record<string, unknown>;
}

export interface UsageEntry {
  atMs: number;
  runId: string;
  tokens: number;
}

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
  append(e: Omit<AuditEntry, 'at'> & { at?: string }): Promise<void> {
    return append(this.file, { at: e.at ?? new Date().toISOString(), ...e });
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
  async record(runId: string, tokens: number, atMs: number): Promise<void> {
    if (this.seen.has(runId)) return;
    this.seen.add(runId);
    const e = { atMs, runId, tokens };
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
