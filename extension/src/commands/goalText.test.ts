import assert from 'node:assert/strict';
import { test } from 'node:test';
import { editorLines, goalFromDocument, goalHelp, unflattenTaskList } from './goalText';

test('a goal document gives back the goal without its help comment, keeping every line', () => {
  const list = '- [a] A {files: a.txt}: first\n- [b] B (after: a): second\n- [c] Fix add() in src/math.js';
  const { goal, offset } = goalFromDocument(`${goalHelp}${list}\n`);
  assert.equal(goal, list, 'three lines stay three lines');
  assert.doesNotMatch(goal, /\[fix\]|\[tests\]/, "the help's example items are not tasks");
  // The planner's "line 2" is the second line of the goal; in the editor it is after the help comment.
  const editorLine = `${goalHelp}${list}`.split('\n').indexOf('- [b] B (after: a): second') + 1;
  assert.equal(editorLines('plan: line 2: unbalanced parentheses', offset), `plan: line ${editorLine}: unbalanced parentheses`);
  assert.deepEqual(goalFromDocument('  just a goal  '), { goal: 'just a goal', offset: 0 });
});

test('a task list flattened by a one-line input gets its lines back; prose is left alone', () => {
  assert.equal(unflattenTaskList('- [a] A: x - [b] B (after: a): y * [c] C'), '- [a] A: x\n- [b] B (after: a): y\n* [c] C');
  assert.equal(unflattenTaskList('add a - [x] marker to the docs'), 'add a - [x] marker to the docs', 'one bracket is not a list');
  assert.equal(unflattenTaskList('- [a] A\n- [b] B'), '- [a] A\n- [b] B');
});
