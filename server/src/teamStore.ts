/**
 * The team server's store choice (`orchestrator serve --store`): lowdb files per tenant folder (the
 * default) or one PostgreSQL database for every tenant, each tenant's rows scoped by its id.
 */
import { PgStore } from './adapters/postgres/pgStore';
import { CliUsageError } from './cliArgs';
import { localTenantId } from './domain/storeSchema';
import type { Logger } from './ports/logger';

/** `--store` → undefined (lowdb files under the data folder) or a PostgreSQL URL. */
export function parseStoreOption(value: string | undefined): string | undefined {
  if (value === undefined || value === 'lowdb') return undefined;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || !['postgres:', 'postgresql:'].includes(url.protocol) || !url.hostname)
    throw new CliUsageError(
      `serve --store takes lowdb or postgres://USER:PASSWORD@HOST:PORT/DATABASE (got ${JSON.stringify(value.replace(/:[^:@/]*@/, ':***@'))})`,
      'serve',
    );
  return value;
}

/**
 * One tenant's PostgreSQL store. Its rows and its records carry the tenant's id (the team server's
 * services write it); records an earlier version wrote with `local` are read as the tenant's.
 */
export function tenantPgStore(url: string, tenantId: string, logger: Logger): PgStore {
  return new PgStore({ connectionString: url, tenantId, legacyRecordTenantId: localTenantId }, logger);
}
