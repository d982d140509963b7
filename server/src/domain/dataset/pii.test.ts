import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findPii, mergeFindings } from './pii';

const found = (text: string) => findPii(text).map((f) => [f.kind, text.slice(f.start, f.end)]);

test('finds e-mail addresses, phone numbers and IP addresses', () => {
  assert.deepEqual(found('mail jane.doe+ci@example.co.uk now'), [['email', 'jane.doe+ci@example.co.uk']]);
  assert.deepEqual(found('call (555) 123-4567 or 555-987-6543'), [
    ['phone', '(555) 123-4567'],
    ['phone', '555-987-6543'],
  ]);
  assert.deepEqual(found('intl +44 20 7946 0958.'), [['phone', '+44 20 7946 0958']]);
  assert.deepEqual(found('host 192.168.10.24:8080 and 10.0.0.1'), [
    ['ip', '192.168.10.24'],
    ['ip', '10.0.0.1'],
  ]);
  assert.deepEqual(found('v6 2001:db8:85a3::8a2e:370:7334 end'), [['ip', '2001:db8:85a3::8a2e:370:7334']]);
  assert.deepEqual(found('fe80:0:0:0:202:b3ff:fe1e:8329'), [['ip', 'fe80:0:0:0:202:b3ff:fe1e:8329']]);
});

test('leaves code, versions, dates, loopback and ordinary numbers alone', () => {
  for (const text of [
    'std::vec::Vec and a::b and Foo::bar()',
    'version 1.2.3 and 1.2.3.4.5 released 2026-12-05 at 13:45:00',
    'listen on 127.0.0.1:3000 or 0.0.0.0 or ::1',
    'array of 1234567890 items, line 42, port 8080',
    'sha 3f2a9c1 and uuid 123e4567-e89b-12d3-a456-426614174000',
  ])
    assert.deepEqual(found(text), [], text);
});

test('overlapping findings merge, and a secret kind wins over a PII kind', () => {
  assert.deepEqual(
    mergeFindings([
      { kind: 'email', start: 0, end: 30 },
      { kind: '@secretlint/secretlint-rule-github', start: 0, end: 20 },
      { kind: 'ip', start: 40, end: 50 },
    ]),
    [
      { kind: '@secretlint/secretlint-rule-github', start: 0, end: 30 },
      { kind: 'ip', start: 40, end: 50 },
    ],
  );
});
