import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PermissionRequest } from '../ports/agentRuntime';
import { askPolicy } from './policyAsk';

const req: PermissionRequest = { runId: 'r', permission: 'bash', patterns: ['ls'], cwd: '/w' };

test('the policy decides, with its note', async () => {
  assert.deepEqual(await askPolicy(async () => 'allow', req, 1000), { decision: 'allow', by: 'policy' });
  assert.deepEqual(await askPolicy(async () => ({ decision: 'deny', note: 'secret place' }), req, 1000), {
    decision: 'deny',
    by: 'policy',
    note: 'secret place',
  });
});

test('no policy, a throwing policy and a policy past its deadline all deny, and say which', async () => {
  assert.deepEqual(await askPolicy(undefined, req, 1000), { decision: 'deny', by: 'no_policy' });
  assert.deepEqual(
    await askPolicy(
      async () => {
        throw new Error('boom');
      },
      req,
      1000,
    ),
    { decision: 'deny', by: 'policy_error' },
  );
  const t0 = Date.now();
  const late = await askPolicy(() => new Promise(() => undefined), req, 50);
  assert.equal(late.decision, 'deny');
  assert.equal(late.by, 'timeout');
  assert.match(late.note ?? '', /no answer within 0 s: denied/);
  assert.ok(Date.now() - t0 < 1000, 'the deadline ended the wait');
});

test('an abandoned ask (the turn was cancelled) denies without waiting for the policy', async () => {
  const v = await askPolicy(() => new Promise(() => undefined), req, 60_000, Promise.resolve());
  assert.deepEqual(v, { decision: 'deny', by: 'no_policy', abandoned: true });
});
