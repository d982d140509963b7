/**
 * The embedded default store: lowdb over one JSON file, with our own adapter so that every write is
 * atomic (temp + fsync + rename) and every read is migrated and validated.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Low, type Adapter } from 'lowdb';
import type { StoreStatus } from '../../../../protocol/server';
import { DomainError } from '../../domain/errors';
import { currentSchemaVersion, emptyStore, parseStore, type StoreData } from '../../domain/storeSchema';
import type { Logger } from '../../ports/logger';
import type { StorePort } from '../../ports/store';
import { backupFile, writeFileAtomic, type AtomicFs } from '../fs/atomicFile';

export interface LowdbStoreOptions {
  now?: () => Date;
  /** The file system for writes (tests pass a failing or spying one). */
  fs?: AtomicFs;
  /** Told about every failed write (ENOSPC, EIO, EACCES, …) after the temp file was removed. */
  onWriteError?: (e: unknown) => void;
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

  async write(data: StoreData): Promise<void> {
    await writeFileAtomic(this.file, `${JSON.stringify(data, null, 2)}\n`, this.fs);
  }
}

export class LowdbStore implements StorePort {
  private readonly adapter: ValidatingJsonFile;
  private readonly db: Low<StoreData>;
  private current: StoreStatus;
  private writes: Promise<void> = Promise.resolve();

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
        await this.db.write();
      } else {
        // Creates the file on first run; rewrites the same content otherwise.
        await fs.access(this.file).catch(() => this.db.write());
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

  update(mutate: (data: StoreData) => void | boolean): Promise<void> {
    if (!this.writable && this.current.state !== 'corrupt') {
      return Promise.reject(
        new DomainError(
          'store_read_only',
          `the store at ${this.file} is read-only here: ${this.current.error ?? 'opened for reading only'}`,
        ),
      );
    }
    if (this.current.state === 'corrupt') {
      return Promise.reject(
        new DomainError('store_read_only', `the store at ${this.file} is read-only because it failed to load: ${this.current.error}`),
      );
    }
    // Serialise writes so two updates never interleave their temp files and renames.
    const next = this.writes.then(async () => {
      const draft = structuredClone(this.db.data);
      if (mutate(draft) === false) return;
      // Persist first: memory only changes once the new state is on disk.
      try {
        await this.adapter.write(draft);
      } catch (e) {
        this.opts.onWriteError?.(e);
        throw e;
      }
      this.db.data = draft;
    });
    this.writes = next.catch(() => undefined);
    return next;
  }
}
