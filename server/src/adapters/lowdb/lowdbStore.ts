/**
 * The embedded default store: lowdb over one JSON file, with our own adapter so that every write is
 * atomic (temp + fsync + rename) and every read is migrated and validated.
 *
 * Group commit: updates that arrive while a write is in flight (or in the same tick) are applied in order
 * to one draft and persisted by one atomic write; each caller resolves only after the fsync that holds its
 * change, and a failed write fails every caller of its group and leaves memory as it was.
 *
 * Finished sessions move out to `store-archive/<id>.json` (`archiveSessions`), so the hot file, and the
 * cost of a write, stays the size of the live work; `archived(id)` reads them back. Their index (`archive`
 * in memory) is persisted in `store-archive/.index.json`, written only when it changes, never in
 * `store.json`; a draft shares the (frozen) index instead of copying it. The index is written before
 * the hot file: after a crash between the two, a session in both is hot (the hot file wins on load).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Low, type Adapter } from 'lowdb';
import type { StoreStatus } from '../../../../protocol/server';
import { DomainError } from '../../domain/errors';
import { collectSessions, removeArchived, restoreArchived } from '../../domain/sessionArchive';
import type { ArchivedSession, StoredRun } from '../../domain/storeEntities';
import { currentSchemaVersion, emptyStore, parseStore, type StoreData } from '../../domain/storeSchema';
import type { Logger } from '../../ports/logger';
import type { StorePort } from '../../ports/store';
import { backupFile, writeFileAtomic, type AtomicFs } from '../fs/atomicFile';
import { SessionArchiveFiles } from './sessionArchive';

export interface LowdbStoreOptions {
  now?: () => Date;
  /** The file system for writes (tests pass a failing or spying one). */
  fs?: AtomicFs;
  /** Told about every failed write (ENOSPC, EIO, EACCES, …) after the temp file was removed. */
  onWriteError?: (e: unknown) => void;
  /** Where archived sessions go (default `<store folder>/store-archive`). */
  archiveDir?: string;
}

interface Pending {
  mutate: (data: StoreData) => void | boolean;
  resolve: () => void;
  reject: (e: unknown) => void;
}

class ValidatingJsonFile implements Adapter<StoreData> {
  migratedFrom: number | undefined;
  constructor(
    private readonly file: string,
    private readonly fs?: AtomicFs,
  ) {}

  async read(): Promise<StoreData | null> {
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new DomainError('store_corrupt', `${this.file} could not be read (${(e as Error).message})`);
    }
    const { data, migratedFrom } = parseStore(text, this.file);
    this.migratedFrom = migratedFrom;
    return data;
  }

  /** The hot file: everything but the archive index (which has its own file). */
  async write(data: StoreData): Promise<void> {
    await writeFileAtomic(this.file, `${JSON.stringify({ ...data, archive: [] }, null, 2)}\n`, this.fs);
  }
}

export class LowdbStore implements StorePort {
  private readonly adapter: ValidatingJsonFile;
  private readonly db: Low<StoreData>;
  private current: StoreStatus;
  /** Writes (groups, archive moves) run one at a time in this chain. */
  private chain: Promise<void> = Promise.resolve();
  private queue: Pending[] = [];
  private flushScheduled = false;
  /** Archives reported corrupt once (a list reads them again and again). */
  private readonly reported = new Set<string>();
  readonly archiveFiles: SessionArchiveFiles;

  private readonly now: () => Date;

  constructor(
    private readonly file: string,
    private readonly logger: Logger,
    private readonly opts: LowdbStoreOptions = {},
  ) {
    this.now = opts.now ?? (() => new Date());
    this.adapter = new ValidatingJsonFile(file, opts.fs);
    this.db = new Low<StoreData>(this.adapter, emptyStore(this.now().toISOString()));
    this.current = { kind: 'lowdb', path: file, schemaVersion: currentSchemaVersion, state: 'ok' };
    this.archiveFiles = new SessionArchiveFiles(opts.archiveDir ?? path.join(path.dirname(file), 'store-archive'), opts.fs);
  }

  /** False when opened for reading only, or when another process owns the file. */
  writable = true;

  /**
   * `readOnly`: never write (not even to create or migrate the file). `lockedBy`: another live process
   * owns the file; read it, report `locked`, refuse writes.
   */
  async load(opts: { lockedBy?: string; readOnly?: boolean } = {}): Promise<StoreStatus> {
    this.writable = !opts.lockedBy && !opts.readOnly;
    try {
      await this.db.read();
      // A store written before the index had its own file still holds it: moved out on the first write.
      const legacyIndex = this.db.data.archive.length > 0;
      if (!legacyIndex) this.db.data.archive = this.archiveFiles.readIndex() ?? [];
      const hot = new Set(this.db.data.sessions.map((x) => x.id));
      this.db.data.archive = Object.freeze(this.db.data.archive.filter((e) => !hot.has(e.id))) as StoreData['archive'];
      if (!this.writable) {
        this.current = opts.lockedBy
          ? { kind: 'lowdb', path: this.file, schemaVersion: currentSchemaVersion, state: 'locked', error: opts.lockedBy }
          : { kind: 'lowdb', path: this.file, schemaVersion: currentSchemaVersion, state: 'ok' };
        return this.current;
      }
      if (this.adapter.migratedFrom !== undefined) {
        // Keep the pre-migration file before the first write in the new shape.
        const backup = await backupFile(this.file, `pre-migration-v${this.adapter.migratedFrom}-${this.now().toISOString()}`);
        this.logger.info(
          `store migrated from schema version ${this.adapter.migratedFrom} to ${currentSchemaVersion}; the old file is kept at ${backup}`,
        );
        await this.commit(this.db.data, true);
      } else if (legacyIndex) {
        await this.commit(this.db.data, true);
        this.logger.info(`the archive index moved from ${this.file} to ${this.archiveFiles.indexFile}`);
      } else {
        // Creates the file on first run; rewrites the same content otherwise.
        await fs.access(this.file).catch(() => this.commit(this.db.data));
      }
      this.current = { kind: 'lowdb', path: this.file, schemaVersion: currentSchemaVersion, state: 'ok' };
    } catch (e) {
      if (!DomainError.is(e, 'store_corrupt')) throw e;
      // One backup per corrupt content, made only by the process that owns the folder: readers
      // (`orchestrator status`, a second window) and later starts report the existing one.
      let backupPath = await this.existingBackup();
      if (!backupPath && this.writable) {
        try {
          backupPath = await backupFile(this.file, `corrupt-${this.now().toISOString()}`);
        } catch (b) {
          this.logger.error(`could not back up the corrupt store ${this.file}: ${(b as Error).message}`);
        }
      }
      this.logger.error(
        `store is corrupt and stays read-only: ${e.message}${backupPath ? `; backup at ${backupPath}` : '; not backed up here (only the server that owns the data folder makes the backup)'}`,
      );
      this.current = {
        kind: 'lowdb',
        path: this.file,
        schemaVersion: currentSchemaVersion,
        state: 'corrupt',
        error: e.message,
        backupPath,
      };
    }
    return this.current;
  }

  /** A `corrupt-*.bak` beside the store with the same bytes as the store, if one exists. */
  private async existingBackup(): Promise<string | undefined> {
    try {
      const dir = path.dirname(this.file);
      const prefix = `${path.basename(this.file)}.corrupt-`;
      const current = await fs.readFile(this.file);
      for (const name of (await fs.readdir(dir)).filter((n) => n.startsWith(prefix) && n.endsWith('.bak')).sort()) {
        if ((await fs.readFile(path.join(dir, name))).equals(current)) return path.join(dir, name);
      }
    } catch {
      // Unreadable folder or file: no backup to report.
    }
    return undefined;
  }

  status(): StoreStatus {
    return this.current;
  }

  read(): Readonly<StoreData> {
    if (this.current.state === 'corrupt')
      throw new DomainError('store_corrupt', `the store at ${this.file} is corrupt: ${this.current.error}`);
    return this.db.data;
  }

  private refuseWrite(): DomainError | undefined {
    if (this.current.state === 'corrupt')
      return new DomainError('store_read_only', `the store at ${this.file} is read-only because it failed to load: ${this.current.error}`);
    if (!this.writable)
      return new DomainError(
        'store_read_only',
        `the store at ${this.file} is read-only here: ${this.current.error ?? 'opened for reading only'}`,
      );
    return undefined;
  }

  /** Runs `fn` after every earlier write of this store (one writer at a time). */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn);
    this.chain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** A copy to edit: everything but the archive index, which is shared (frozen; edits replace the array). */
  private draft(): StoreData {
    const { archive, ...rest } = this.db.data;
    return { ...structuredClone(rest), archive };
  }

  /**
   * Persists `draft` (temp + fsync + rename; the archive index first when it changed), then makes it the
   * memory; on failure memory is unchanged.
   */
  private async commit(draft: StoreData, writeIndex = draft.archive !== this.db.data.archive): Promise<void> {
    try {
      if (writeIndex) await this.archiveFiles.writeIndex(draft.archive);
      await this.adapter.write(draft);
    } catch (e) {
      this.opts.onWriteError?.(e);
      throw e;
    }
    if (!Object.isFrozen(draft.archive)) draft.archive = Object.freeze(draft.archive) as StoreData['archive'];
    this.db.data = draft;
  }

  update(mutate: (data: StoreData) => void | boolean): Promise<void> {
    const refused = this.refuseWrite();
    if (refused) return Promise.reject(refused);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ mutate, resolve, reject });
      if (this.flushScheduled) return;
      this.flushScheduled = true;
      void this.exclusive(() => this.flush());
    });
  }

  /** One group: every queued update applied in order to one draft, one atomic write for all of them. */
  private async flush(): Promise<void> {
    this.flushScheduled = false;
    let group = this.queue.splice(0);
    for (;;) {
      const draft = this.draft();
      let write = false;
      const failed = group.findIndex((p) => {
        try {
          if (p.mutate(draft) !== false) write = true;
          return false;
        } catch (e) {
          p.reject(e);
          return true;
        }
      });
      if (failed >= 0) {
        // A mutator threw: it alone fails; the others are applied again to a fresh draft.
        group = group.filter((_, i) => i !== failed);
        continue;
      }
      try {
        if (write) await this.commit(draft);
        for (const p of group) p.resolve();
      } catch (e) {
        for (const p of group) p.reject(e);
      }
      return;
    }
  }

  archived(sessionId: string): ArchivedSession | undefined {
    if (!this.db.data.archive.some((e) => e.id === sessionId)) return undefined;
    try {
      return this.archiveFiles.read(sessionId);
    } catch (e) {
      this.reportCorrupt(sessionId, e);
      throw e;
    }
  }

  archivedRun(runId: string): StoredRun | undefined {
    const sessionId = this.archiveFiles.sessionOfRun(runId);
    return sessionId === undefined ? undefined : this.archived(sessionId)?.runs.find((r) => r.id === runId);
  }

  private reportCorrupt(id: string, e: unknown): void {
    if (this.reported.has(id)) return;
    this.reported.add(id);
    this.logger.error(`${(e as Error).message}`);
  }

  archiveSessions(ids: readonly string[]): Promise<string[]> {
    const refused = this.refuseWrite();
    if (refused) return Promise.reject(refused);
    return this.exclusive(async () => {
      const moving = collectSessions(this.db.data, ids);
      if (!moving.length) return [];
      // Files first: a crash before the store write leaves the session hot (the file is written again later).
      try {
        for (const a of moving) await this.archiveFiles.write(a);
        await this.archiveFiles.appendRuns(moving);
      } catch (e) {
        this.opts.onWriteError?.(e);
        throw e;
      }
      const draft = this.draft();
      removeArchived(draft, moving, this.now().getTime());
      await this.commit(draft);
      return moving.map((a) => a.session.id);
    });
  }

  restoreSession(sessionId: string): Promise<void> {
    if (!this.db.data.archive.some((e) => e.id === sessionId)) return Promise.resolve();
    const refused = this.refuseWrite();
    if (refused) return Promise.reject(refused);
    return this.exclusive(async () => {
      if (!this.db.data.archive.some((e) => e.id === sessionId)) return;
      const a = this.archived(sessionId)!;
      const draft = this.draft();
      restoreArchived(draft, a);
      await this.commit(draft);
      // The records are in the hot file now; a file left behind (failed removal) is rewritten on the next archive.
      await this.archiveFiles
        .remove(sessionId)
        .catch((e: unknown) => this.logger.warn(`could not remove the archive of session ${sessionId}: ${(e as Error).message}`));
    });
  }
}
