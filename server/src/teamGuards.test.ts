import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requests } from '../../protocol/methods';
import { confinedPathFields, repoRelativePathFields } from './teamGuards';

test('every request field that could name a folder on the server is confined (or is repository-relative)', () => {
  const looksLikePath = /^(cwd|dir|.*Dir|folder|.*Folder|root|.*Root|repo|.*Path|path|file|.*File)$/;
  const unguarded: string[] = [];
  for (const def of requests) {
    const shape = (def.params as unknown as { shape?: Record<string, unknown> }).shape ?? {};
    for (const field of Object.keys(shape)) {
      if (!looksLikePath.test(field)) continue;
      const name = `${def.method}.${field}`;
      if (!(confinedPathFields[def.method] ?? []).includes(field) && !repoRelativePathFields.includes(name)) unguarded.push(name);
    }
  }
  assert.deepEqual(unguarded, []);
  assert.deepEqual(Object.keys(confinedPathFields).sort(), ['run/start', 'session/start']);
});
