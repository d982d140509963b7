/** The README's list of allowed programs is the code's list (the docs cannot drift). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { defaultAllowedCommands } from './permissionPolicy';

const readme = readFileSync(path.resolve(__dirname, '..', '..', '..', 'README.md'), 'utf8');

/** The programs named in the README's "Permission policy:" paragraph after "The default allow-list is exactly:". */
function readmeAllowList(): string[] {
  const paragraph = readme.split(/\n\s*\n/).find((p) => p.startsWith('Permission policy:'));
  assert.ok(paragraph, 'README has a "Permission policy:" paragraph');
  const m = /The default allow-list is exactly:([^(.]*)/.exec(paragraph.replace(/\s+/g, ' '));
  assert.ok(m, 'the paragraph says "The default allow-list is exactly: `a`, `b`, …"');
  return [...m[1].matchAll(/`([^`]+)`/g)].map((x) => x[1]);
}

test('the README "Permission policy:" paragraph lists exactly defaultAllowedCommands', () => {
  const listed = readmeAllowList();
  assert.equal(new Set(listed).size, listed.length, `no program listed twice: ${listed.join(', ')}`);
  assert.deepEqual([...listed].sort(), [...defaultAllowedCommands].sort());
});

test('the README says node and npm are opt-in, and the code agrees', () => {
  for (const p of ['node', 'npm']) assert.ok(!defaultAllowedCommands.includes(p), `${p} is not allowed by default`);
  const paragraph = readme.split(/\n\s*\n/).find((p) => p.startsWith('Permission policy:')) ?? '';
  assert.match(paragraph.replace(/\s+/g, ' '), /--allow node/);
});
