import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { AuditLog } from './tenantLog';

test('audit lines never carry a secret from a permission ask; figures and names stay', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'orch-audit-'));
  try {
    const log = new AuditLog(dir, 't1');
    const token = 'ghp_' + 'a'.repeat(36);
    await log.append({
      tenantId: 't1',
      actor: { kind: 'server', by: 'policy' },
      action: 'permission.answer',
      details: {
        permission: 'bash',
        patterns: [`curl -H "Authorization: Bearer abcdefgh12345678" https://x/?k=${token}`, 'API_KEY=hunter22 npm test'],
        decision: 'allow',
        before: { maxTokens: 1000 },
      },
    });
    const text = await fs.readFile(log.file, 'utf8');
    for (const secret of ['abcdefgh12345678', token, 'hunter22'])
      assert.ok(!text.includes(secret), `${secret} reached the audit log: ${text}`);
    const [entry] = await log.list();
    assert.equal(entry?.action, 'permission.answer');
    assert.equal(entry?.details?.decision, 'allow');
    assert.deepEqual(entry?.details?.before, { maxTokens: 1000 });
    assert.match(JSON.stringify(entry?.details?.patterns), /curl -H/);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
