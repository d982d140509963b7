/**
 * Moves finished sessions out of the hot store once they have been finished for `afterMs` (default ten
 * minutes), so the cost of a store write stays the size of the live work. Runs on start (which moves what
 * a migrated store already held) and then every `everyMs`; a failed move is logged and tried again later.
 */
import { defaultArchiveAfterMs, sessionsToArchive } from '../domain/sessionArchive';
import type { Logger } from '../ports/logger';
import type { StorePort } from '../ports/store';
import type { SessionRecords } from './sessionRecords';

export interface SessionArchiverDeps {
  store: StorePort;
  records: SessionRecords;
  logger: Logger;
  now(): number;
  afterMs?: number;
  /** How often to look (default: a tenth of `afterMs`, between 1 s and 1 min). */
  everyMs?: number;
  /** Sessions with work in flight in the runner (never moved). */
  busy?(): ReadonlySet<string>;
  /** At most this many sessions per sweep (one store write each sweep). */
  batch?: number;
}

export class SessionArchiver {
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<string[]> | undefined;
  readonly afterMs: number;

  constructor(private readonly d: SessionArchiverDeps) {
    this.afterMs = d.afterMs ?? defaultArchiveAfterMs;
  }

  start(): void {
    if (this.timer || !this.d.store.archiveSessions) return;
    const every = this.d.everyMs ?? Math.min(60_000, Math.max(1_000, Math.floor(this.afterMs / 10)));
    void this.sweep();
    this.timer = setInterval(() => void this.sweep(), every);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One pass; returns the ids moved. Never rejects (a failure is logged; the next pass tries again). */
  sweep(): Promise<string[]> {
    this.sweeping ??= this.sweepNow().finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  private async sweepNow(): Promise<string[]> {
    const archive = this.d.store.archiveSessions?.bind(this.d.store);
    if (!archive) return [];
    const busy = new Set([...this.d.records.busyIds(), ...(this.d.busy?.() ?? [])]);
    const ids = sessionsToArchive(this.d.store.read(), this.d.now(), this.afterMs, busy).slice(0, this.d.batch ?? 500);
    if (!ids.length) return [];
    try {
      const moved = await archive(ids);
      if (moved.length) this.d.logger.info(`archived ${moved.length} finished session(s) out of the hot store`);
      return moved;
    } catch (e) {
      this.d.logger.warn(`archiving finished sessions failed (tried again later): ${(e as Error).message}`);
      return [];
    }
  }
}
