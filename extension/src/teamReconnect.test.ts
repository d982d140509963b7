import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffMs, checkServerUrl, nextStep } from './teamReconnect';

const base = { url: 'ws://127.0.0.1:7420', attempt: 1, since: 1_000, now: 1_000, deadlineMs: 60_000 };

describe('team server connection rules', () => {
  it('accepts ws:// and wss:// URLs and names what is wrong with others', () => {
    assert.deepEqual(checkServerUrl(' ws://127.0.0.1:7420 '), { ok: true, url: 'ws://127.0.0.1:7420' });
    assert.equal(checkServerUrl('wss://orch.example.com').ok, true);
    assert.match((checkServerUrl('http://x:1') as { reason: string }).reason, /ws:\/\/ or wss:\/\/ \(got http:\/\/\)/);
    assert.match((checkServerUrl('not a url') as { reason: string }).reason, /is not a URL/);
    assert.match((checkServerUrl('ws://me:secret@host:1') as { reason: string }).reason, /not in the URL/);
  });

  it('backs off 0.5 s, 1 s, 2 s … up to 10 s', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 9].map(backoffMs), [500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
  });

  it('a 401 stops at once with the server’s reason and what to do', () => {
    const s = nextStep({ ...base, refusal: { status: 401, message: 'this API key is revoked' } });
    assert.equal(s.retry, false);
    assert.match(
      (s as { reason: string }).reason,
      /refused the API key: this API key is revoked\. Run "Orchestrator: Connect to Team Server…"/,
    );
  });

  it('a 429 waits for Retry-After (and warns) while the deadline allows, else stops with the numbers', () => {
    const r = { status: 429, message: 'too many failed sign-ins; try again later', retryAfterMs: 30_000 };
    assert.deepEqual(nextStep({ ...base, refusal: r }), {
      retry: true,
      delayMs: 30_000,
      warn: 'The team server at ws://127.0.0.1:7420 refused the connection: too many failed sign-ins; try again later (retry in 30 s).',
    });
    const late = nextStep({ ...base, now: 40_000, refusal: r });
    assert.equal(late.retry, false);
    assert.match((late as { reason: string }).reason, /too many failed sign-ins.*retry in 30 s/);
  });

  it('network failures retry with backoff until the deadline, then stop naming the last error', () => {
    assert.deepEqual(nextStep({ ...base, attempt: 3, error: 'ECONNREFUSED' }), { retry: true, delayMs: 2000 });
    const s = nextStep({ ...base, attempt: 8, now: 55_000, error: 'connect ECONNREFUSED 127.0.0.1:7420' });
    assert.equal(s.retry, false);
    assert.match((s as { reason: string }).reason, /within 60 s \(connect ECONNREFUSED 127\.0\.0\.1:7420\)/);
  });
});
