/**
 * The store contract (`../storeContract.ts`) against the lowdb store: one folder per tenant, as the team
 * server lays them out (`<data>/tenants/<id>/store.json`).
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../../ports/logger';
import { storeContract } from '../storeContract';
import { LowdbStore } from './lowdbStore';

const quiet: Logger = { error() {}, warn() {}, info() {}, debug() {} };
const base = mkdtempSync(path.join(os.tmpdir(), 'orch-contract-lowdb-'));

storeContract({
  name: 'lowdb',
  open: (tenant) => new LowdbStore(path.join(base, 'tenants', tenant, 'store.json'), quiet),
  close: async () => {},
  recordTenant: () => 'local',
});
