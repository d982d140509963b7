import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errorCodes } from '../../../protocol/errors';
import type { SessionView } from '../../../protocol/session';
import { placeIssues, planIssuesOf, planOfSession, planToText, rangeOfPath, readPlanText } from './planText';

const plan = {
  summary: 'two steps',
  tasks: [
    { id: 'a', title: 'A', prompt: 'write a.txt', dependsOn: [], expectedFiles: ['a.txt'], estimate: { tokens: 100, minutes: 1 } },
    { id: 'b', title: 'B', prompt: 'line one\nline "two"', dependsOn: ['a'], expectedFiles: [], mode: 'read' as const },
  ],
};
const session = { id: 's1', goal: '\n- [a] A: write a.txt\n- [b] B: read' };

/** The 1-based line and the marked text of an offset range. */
function at(text: string, r: { start: number; end: number }): [number, string] {
  return [text.slice(0, r.start).split('\n').length, text.slice(r.start, r.end)];
}

test('plan → text → plan gives the same plan back; the header comments name the session and goal', () => {
  const text = planToText(session, plan);
  assert.match(text.split('\n')[0] ?? '', /^\/\/ Plan of session s1: - \[a\] A: write a\.txt$/);
  const read = readPlanText(text);
  assert.ok(read.ok);
  assert.deepEqual(read.value, plan);
});

test('syntax errors are every one placed where they are, and no value comes back', () => {
  const text = planToText(session, plan).replace('"title": "A",', '"title": "A"').replace('"mode": "read"', '"mode": read');
  const r = readPlanText(text);
  assert.equal(r.ok, false);
  const problems = r.ok ? [] : r.problems;
  assert.ok(problems.length >= 2, JSON.stringify(problems));
  assert.ok(problems.every((p) => p.message.startsWith('JSON: ')));
  const lines = problems.map((p) => at(text, p)[0]);
  const lineOf = (needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;
  assert.equal(lines[0], lineOf('"prompt": "write a.txt"'), 'the missing comma is reported where the next key starts');
  assert.ok(lines.includes(lineOf('"mode": read')), `the bare word is reported on its line: ${JSON.stringify(problems)}`);
  assert.match(problems[0]?.message ?? '', /comma expected/);
  assert.deepEqual(readPlanText('// only a comment\n'), {
    ok: false,
    problems: [{ start: 18, end: 19, message: 'JSON: value expected' }],
  });
});

test('a path marks its value, a dependency entry, a key for objects, the deepest existing part for a missing field', () => {
  const text = planToText(session, plan);
  const lineOf = (needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;
  assert.deepEqual(at(text, rangeOfPath(text, ['tasks', 1, 'title'])), [lineOf('"title": "B"'), '"B"']);
  assert.deepEqual(at(text, rangeOfPath(text, ['tasks', 1, 'dependsOn', 0])), [lineOf('"a"\n') || lineOf('      "a"'), '"a"']);
  assert.deepEqual(at(text, rangeOfPath(text, ['tasks', 0, 'estimate'])), [lineOf('"estimate"'), '"estimate"']);
  // A missing field (or an unknown key that is not there) marks the task's opening brace line.
  const task1 = at(text, rangeOfPath(text, ['tasks', 1, 'nope']));
  assert.equal(task1[1], '{');
  assert.equal(task1[0], lineOf('"id": "b"') - 1);
  assert.deepEqual(at(text, rangeOfPath(text, [])), [5, '{']);
});

test('a session plan refusal becomes problems on the lines of both reasons; other errors are not plan issues', () => {
  const text = planToText(session, plan);
  const refusal = Object.assign(new Error('plan: …'), {
    code: errorCodes.invalidParams,
    data: {
      reason: 'bad_input',
      issues: [
        { path: ['plan', 'tasks', 1, 'title'], message: 'must not be empty' },
        { path: ['plan', 'tasks', 1, 'dependsOn', 0], message: 'unknown task "ghost"' },
      ],
    },
  });
  const issues = planIssuesOf(refusal);
  assert.deepEqual(issues?.[0], { path: ['tasks', 1, 'title'], message: 'must not be empty' });
  const placed = placeIssues(text, issues ?? []);
  assert.deepEqual(
    placed.map((p) => [at(text, p)[1], p.message]),
    [
      ['"B"', 'tasks[1].title: must not be empty'],
      ['"a"', 'tasks[1].dependsOn[0]: unknown task "ghost"'],
    ],
  );
  assert.equal(planIssuesOf(Object.assign(new Error('x'), { code: errorCodes.conflict, data: { issues: [] } })), undefined);
  assert.equal(planIssuesOf(new Error('server down')), undefined);
  assert.equal(planIssuesOf(Object.assign(new Error('x'), { code: errorCodes.invalidParams, data: { fields: ['x'] } })), undefined);
});

test('a session without a stored plan is rebuilt from its tasks with plan ids for dependencies', () => {
  const view = {
    tasks: [
      { id: 's1:a', planId: 'a', title: 'A', prompt: 'p', dependsOn: [], expectedFiles: ['a.txt'] },
      { id: 's1:b', planId: 'b', title: 'B', prompt: 'q', dependsOn: ['s1:a'], expectedFiles: [] },
    ],
  } as unknown as SessionView;
  assert.deepEqual(
    planOfSession(view).tasks.map((t) => [t.id, t.dependsOn]),
    [
      ['a', []],
      ['b', ['a']],
    ],
  );
});
