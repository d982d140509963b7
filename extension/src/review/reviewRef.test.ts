import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseReviewUri, reviewText, reviewTitle, reviewUriParts } from './reviewRef';

test('a review URI carries session, task, side and path, and reads back the same', () => {
  const ref = { sessionId: 'sess-1', taskId: 'sess-1:a', side: 'base' as const, path: 'src/a b&c.ts' };
  const parts = reviewUriParts(ref);
  assert.equal(parts.scheme, 'orchestrator-review');
  assert.equal(parts.path, '/src/a b&c.ts');
  assert.deepEqual(parseReviewUri(parts), ref);
  const whole = reviewUriParts({ sessionId: 's', side: 'result', path: 'x' });
  assert.deepEqual(parseReviewUri(whole), { sessionId: 's', side: 'result', path: 'x' });
});

test('anything else is not a review URI', () => {
  assert.equal(parseReviewUri({ scheme: 'file', path: '/x', query: 'session=s&side=base' }), undefined);
  assert.equal(parseReviewUri({ scheme: 'orchestrator-review', path: '/x', query: 'session=s&side=left' }), undefined);
  assert.equal(parseReviewUri({ scheme: 'orchestrator-review', path: '/x', query: 'side=base' }), undefined);
});

test('the text shown: content, empty when absent, a marker when not shown', () => {
  assert.equal(reviewText({ content: 'a\n' }), 'a\n');
  assert.equal(reviewText({ content: null }), '');
  assert.equal(reviewText({ content: null, omitted: { reason: 'binary', bytes: 3 } }), '(binary file, 3 bytes: not shown)');
  assert.match(reviewText({ content: null, omitted: { reason: 'tooLarge', bytes: 6_000_000 } }), /too large.*5859 KB/);
});

test('the title names the session and the task', () => {
  assert.equal(reviewTitle('\nAdd a flag\nmore'), 'Review: Add a flag');
  assert.equal(reviewTitle('goal', { planId: 'a', title: 'Do A' }), 'Review: goal — [a] Do A');
});
