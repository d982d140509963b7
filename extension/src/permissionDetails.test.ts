import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PermissionDetailsDocs } from './permissionDetails';

const never = new Promise<undefined>(() => undefined);

/** A UI that answers `picks` in order and records which documents were opened (and their text then). */
function scripted(docs: PermissionDetailsDocs, picks: (string | undefined)[]) {
  const opened: { path: string; text: string }[] = [];
  return {
    opened,
    ui: {
      pick: async () => picks.shift(),
      open: async (path: string) => {
        opened.push({ path, text: docs.content(path) });
      },
    },
  };
}

test('an answered ask drops its details document; the document said the whole ask while open', async () => {
  const docs = new PermissionDetailsDocs();
  const { ui, opened } = scripted(docs, ['Details…', 'Details…', 'Allow once']);
  assert.equal(await docs.ask('bash', 'Details…', 'the whole ask', ui, never), 'Allow once');
  assert.equal(opened.length, 2);
  assert.deepEqual(
    opened.map((o) => o.text),
    ['the whole ask', 'the whole ask'],
  );
  assert.equal(opened[0].path, opened[1].path, 'one document per ask');
  assert.equal(docs.size, 0, 'nothing kept after the answer');
  assert.equal(docs.content(opened[0].path), 'This permission ask is no longer open.');
});

test('an ask that times out drops its details document too', async () => {
  const docs = new PermissionDetailsDocs();
  let late!: (v: undefined) => void;
  const deadline = new Promise<undefined>((r) => (late = r));
  let asked = 0;
  const pending = docs.ask(
    'edit',
    'Details…',
    'text',
    {
      pick: () => (++asked === 1 ? Promise.resolve('Details…') : new Promise<string>(() => undefined)),
      open: async () => undefined,
    },
    deadline,
  );
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(docs.size, 1, 'kept while the ask is open');
  late(undefined);
  assert.equal(await pending, undefined, 'no answer: the caller denies');
  assert.equal(docs.size, 0);
});

test('closing the document drops its text while the ask stays open; Details… shows it again', async () => {
  const docs = new PermissionDetailsDocs();
  let next!: (p: string) => void;
  const opened: string[] = [];
  const pending = docs.ask(
    'read',
    'Details…',
    'text',
    {
      pick: () => new Promise<string>((r) => (next = r)),
      open: async (path) => {
        opened.push(path);
      },
    },
    never,
  );
  await new Promise((r) => setTimeout(r, 1));
  next('Details…');
  await new Promise((r) => setTimeout(r, 1));
  assert.equal(docs.size, 1);
  docs.closed(opened[0]);
  assert.equal(docs.size, 0, 'a closed document is forgotten');
  next('Details…');
  await new Promise((r) => setTimeout(r, 1));
  assert.equal(docs.content(opened[1]), 'text', 'shown again on request');
  next('Deny');
  assert.equal(await pending, 'Deny');
  assert.equal(docs.size, 0);
});
