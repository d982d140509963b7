/** `serve --workers` options (`teamWorkers.ts`): what goes together and what is refused, naming the option. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkWorkersOptions } from './teamWorkers';

const pg = 'postgres://u:p@127.0.0.1:5432/team';

test('without --workers nothing changes; its options alone are refused', () => {
  assert.equal(checkWorkersOptions({ workers: false, remote: undefined, storeUrl: pg }), undefined);
  assert.throws(() => checkWorkersOptions({ workers: false, remote: '/r.git', storeUrl: pg }), /go with --workers/);
});

test('--workers needs the PostgreSQL store and --remote; the warning comes before the deadline', () => {
  assert.throws(() => checkWorkersOptions({ workers: true, remote: '/r.git', storeUrl: undefined }), /needs --store postgres/);
  assert.throws(() => checkWorkersOptions({ workers: true, remote: undefined, storeUrl: pg }), /needs --remote GIT_URL/);
  assert.throws(
    () => checkWorkersOptions({ workers: true, remote: '/r.git', storeUrl: pg, warnSeconds: 60, pickupSeconds: 60 }),
    /--worker-warn-seconds must be below --worker-deadline-seconds/,
  );
  assert.deepEqual(checkWorkersOptions({ workers: true, remote: '/r.git', storeUrl: pg, warnSeconds: 5 }), {
    remote: '/r.git',
    warnSeconds: 5,
    pickupSeconds: undefined,
  });
});
