/**
 * The store port. The embedded default is lowdb (adapters/lowdb); PostgreSQL comes with team mode.
 */
import type { StoreStatus } from '../../../protocol/server';
import type { ArchivedSession, StoredRun } from '../domain/storeEntities';
import type { StoreData } from '../domain/storeSchema';

export interface StorePort {
  /** Load and validate; a corrupt file is kept, backed up and reported, never replaced. */
  load(): Promise<StoreStatus>;
  /** The current state as last reported by `load`. */
  status(): StoreStatus;
  /** Read-only view of the data. Throws DomainError('store_corrupt') when the load failed. */
  read(): Readonly<StoreData>;
  /**
   * Apply a mutation and persist it atomically. A mutator returning `false` changed nothing: no write.
   * Refused (DomainError 'store_read_only') after a corrupt load.
   */
  update(mutate: (data: StoreData) => void | boolean): Promise<void>;
  /**
   * The records of a session moved out of the hot store (`read().archive` lists them); undefined when
   * `sessionId` is not archived. Throws DomainError('store_corrupt') naming the file when it cannot be read.
   */
  archived?(sessionId: string): ArchivedSession | undefined;
  /** A run moved out with its archived session (undefined when there is none). */
  archivedRun?(runId: string): StoredRun | undefined;
  /** Moves these sessions (with their tasks and runs) out of the hot store; returns the ids moved. */
  archiveSessions?(ids: readonly string[]): Promise<string[]>;
  /** Brings an archived session back into the hot store before a change to it; a no-op when it is not archived. */
  restoreSession?(sessionId: string): Promise<void>;
}
