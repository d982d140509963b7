/**
 * The store port. The embedded default is lowdb (adapters/lowdb); PostgreSQL comes with team mode.
 */
import type { StoreStatus } from '../../../protocol/server';
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
}
