import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PermissionMemory, whyNotRememberable, type RememberableAsk } from '../../domain/permissionMemory';
import type { PermissionRequest } from '../../ports/agentRuntime';
import { toPermissionRequest } from './permissions';
import type { ToolState } from './normalize';

const cwd = '/data/worktrees/s1/a';
const tool = (kind: string | undefined, rawInput: unknown, locations: string[] = []): ToolState => ({
  id: 't1',
  title: 'tool',
  status: 'pending',
  locations,
  rawInput,
  ...(kind !== undefined ? { kind } : {}),
});
/** What the asker hands the memory for a request. */
const asAsk = (r: PermissionRequest): RememberableAsk => ({
  permission: r.permission,
  ...(r.toolKind !== undefined ? { toolKind: r.toolKind } : {}),
  patterns: r.patterns,
  ...(r.commandLine !== undefined ? { commandLine: r.commandLine } : {}),
  taskFolder: cwd,
});

describe('ACP permission requests carry the exact tool kind', () => {
  test('edit, delete and move are judged as edits but keep their own kind', () => {
    for (const kind of ['edit', 'delete', 'move']) {
      const r = toPermissionRequest('t', cwd, tool(kind, { path: 'src/a.ts' }));
      assert.equal(r.permission, 'edit');
      assert.equal(r.toolKind, kind);
      assert.deepEqual(r.patterns, ['src/a.ts']);
    }
  });

  test('"always" for an edit of a file does not cover deleting or moving it', () => {
    const m = new PermissionMemory();
    assert.ok(m.remember('session:s', asAsk(toPermissionRequest('t', cwd, tool('edit', { path: 'src/a.ts' })))));
    assert.ok(m.find('session:s', asAsk(toPermissionRequest('t', cwd, tool('edit', { path: 'src/a.ts' })))));
    for (const kind of ['delete', 'move', 'other'])
      assert.equal(m.find('session:s', asAsk(toPermissionRequest('t', cwd, tool(kind, { path: 'src/a.ts' })))), undefined, kind);
  });

  test('a tool without a kind is `other`, and `other` or `fetch` is never remembered', () => {
    const none = toPermissionRequest('t', cwd, tool(undefined, { path: '/srv/x' }));
    assert.equal(none.toolKind, 'other');
    assert.match(whyNotRememberable(asAsk(none))!, /tool kind "other"/);
    const fetch = toPermissionRequest('t', cwd, tool('fetch', { url: 'https://example.test/a' }));
    assert.equal(fetch.permission, 'webfetch');
    assert.match(whyNotRememberable(asAsk(fetch))!, /tool kind "fetch"/);
  });

  test('an execute carries its whole command line; without one it is never remembered', () => {
    const r = toPermissionRequest('t', cwd, tool('execute', { command: 'cd /etc && make' }));
    assert.equal(r.permission, 'bash');
    assert.equal(r.commandLine, 'cd /etc && make');
    assert.deepEqual(r.patterns, ['cd /etc && make']);
    const argv = toPermissionRequest('t', cwd, tool('execute', { command: ['make', 'all'] }));
    assert.equal(argv.commandLine, 'make all');
    const bare = toPermissionRequest('t', cwd, tool('execute', { description: 'builds' }));
    assert.equal(bare.commandLine, undefined);
    assert.deepEqual(bare.patterns, []);
    assert.match(whyNotRememberable(asAsk(bare))!, /no pattern|whole command line/);
  });

  test('executeTitleIsCommand (a descriptor quirk): an execute without a command in its input is judged by its title', () => {
    const titled: ToolState = { ...tool('execute', undefined), title: 'echo hi > out.txt' };
    const r = toPermissionRequest('t', cwd, titled, { executeTitleIsCommand: true });
    assert.equal(r.commandLine, 'echo hi > out.txt');
    assert.deepEqual(r.patterns, ['echo hi > out.txt']);
    // Without the quirk the title is only a label: no command line, the policy asks.
    assert.deepEqual(toPermissionRequest('t', cwd, titled).patterns, []);
    // The raw input's command wins over the title; other kinds never read the title.
    const both = { ...tool('execute', { command: 'make' }), title: 'Run make' };
    assert.equal(toPermissionRequest('t', cwd, both, { executeTitleIsCommand: true }).commandLine, 'make');
    const edit = { ...tool('edit', { path: 'a.ts' }), title: 'rm -rf /' };
    assert.equal(toPermissionRequest('t', cwd, edit, { executeTitleIsCommand: true }).commandLine, undefined);
    const blank = { ...tool('execute', undefined), title: '  ' };
    assert.equal(toPermissionRequest('t', cwd, blank, { executeTitleIsCommand: true }).commandLine, undefined);
  });
});
