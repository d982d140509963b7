/** `serve --workers` options (`teamWorkers.ts`): what goes together and what is refused, naming the option. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkWorkersOptions } from './teamWorkers';

const pg = 'postgres://u:p@127.0.0.1:5432/team';

test('without --workers nothing changes; its options alone are refused', () => {
  assert.equal(checkWorkersOptions({ workers: false, remote: undefined, storeUrl: pg }), undefined);
  assert.throws(() => checkWorkersOptions({ workers: false, remote: '/r.git', storeUrl: pg }), /go with --workers/);
  assert.throws(() => checkWorkersOptions({ workers: false, remote: undefined, tenant: 'acme', storeUrl: pg }), /go with --workers/);
});

test('--workers needs the PostgreSQL store, --remote and --workers-tenant; the warning comes before the deadline', () => {
  const t = { tenant: 'acme' };
  assert.throws(() => checkWorkersOptions({ workers: true, remote: '/r.git', storeUrl: undefined, ...t }), /needs --store postgres/);
  assert.throws(() => checkWorkersOptions({ workers: true, remote: undefined, storeUrl: pg, ...t }), /needs --remote GIT_URL/);
  // One remote and one worker clone per tenant: two tenants' sessions never share them.
  assert.throws(() => checkWorkersOptions({ workers: true, remote: '/r.git', storeUrl: pg }), /needs --workers-tenant ID/);
  assert.throws(
    () => checkWorkersOptions({ workers: true, remote: '/r.git', storeUrl: pg, warnSeconds: 60, pickupSeconds: 60, ...t }),
    /--worker-warn-seconds must be below --worker-deadline-seconds/,
  );
  assert.deepEqual(checkWorkersOptions({ workers: true, remote: '/r.git', storeUrl: pg, warnSeconds: 5, ...t }), {
    remote: '/r.git',
    tenant: 'acme',
    warnSeconds: 5,
    pickupSeconds: undefined,
  });
});
