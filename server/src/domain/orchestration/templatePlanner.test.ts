import assert from 'node:assert/strict';
import { test } from 'node:test';
import { levels, type Plan } from './plan';
import { filesInText, isTaskList, parseTaskList, templatePlan } from './templatePlanner';

function planOf(goal: string, files?: string[]): { plan: Plan; template: string } {
  const r = templatePlan(goal, files ? { files } : {});
  assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
  return { plan: r.plan, template: r.template };
}
const ids = (p: Plan): string[] => p.tasks.map((t) => t.id);
const task = (p: Plan, id: string) => p.tasks.find((t) => t.id === id);

test('explicit syntax: a 5-task DAG written as text', () => {
  const text = [
    '# Build the parser',
    '- [lexer] Write the lexer {files: src/lexer.ts} {caps: code}: Tokenize the input.',
    '- [ast] Define AST types {files: src/ast.ts}: Types for every node.',
    '- [parser] Write the parser (after: lexer, ast) {files: src/parser.ts} {tokens: 5000} {minutes: 3}: Recursive descent.',
    '    Handle operator precedence.',
    '- [tests] Parser tests (after: parser) {files: test/parser.test.ts, test/fixtures/**} {caps: tests, code}: Cover errors too.',
    '* [review] Review (after: parser, tests) {mode: read}',
  ].join('\n');
  assert.ok(isTaskList(text));
  const { plan, template } = planOf(text);
  assert.equal(template, 'explicit');
  assert.deepEqual(ids(plan), ['lexer', 'ast', 'parser', 'tests', 'review']);
  const parser = task(plan, 'parser');
  assert.equal(parser?.title, 'Write the parser');
  assert.deepEqual(parser?.dependsOn, ['lexer', 'ast']);
  assert.deepEqual(parser?.expectedFiles, ['src/parser.ts']);
  assert.deepEqual(parser?.estimate, { tokens: 5_000, minutes: 3 });
  assert.equal(parser?.prompt, 'Recursive descent.\nHandle operator precedence.');
  assert.deepEqual(task(plan, 'tests')?.expectedFiles, ['test/parser.test.ts', 'test/fixtures/**']);
  assert.deepEqual(task(plan, 'tests')?.capabilities, ['tests', 'code']);
  assert.equal(task(plan, 'review')?.mode, 'read');
  assert.equal(task(plan, 'review')?.prompt, 'Review', 'no prompt → the title');
  assert.deepEqual(levels(plan), [['lexer', 'ast'], ['parser'], ['tests'], ['review']]);
});

test('explicit syntax errors name the line; graph errors come from validatePlan', () => {
  const bad = parseTaskList('- [a] A {colour: red}: x\n- [b] B {tokens: lots}: y\n- [c] {files: x}: z');
  assert.deepEqual(bad, {
    ok: false,
    errors: [
      'line 1: unknown option {colour} (use files, caps, tokens, minutes, mode)',
      'line 2: {tokens} needs a number ≥ 0, got "lots"',
      'line 3: task "c" has no title',
    ],
  });
  const cyc = parseTaskList('- [a] A (after: b): x\n- [b] B (after: a): y');
  assert.deepEqual(cyc, { ok: false, errors: ['dependency cycle: a → b → a'] });
  const unknown = templatePlan('- [a] A (after: nope): x');
  assert.equal(unknown.ok, false);
  assert.equal(unknown.template, 'explicit');
  assert.deepEqual(unknown.ok ? [] : unknown.errors, ['tasks[0] (id "a").dependsOn: unknown task "nope"']);
  assert.deepEqual(parseTaskList('just prose'), {
    ok: false,
    errors: ['no task items found (expected lines like "- [id] Title: prompt")'],
  });
});

test('feature template: design → implement per file (parallel) → tests ∥ docs', () => {
  const { plan, template } = planOf('Add a --verbose flag with tests', ['src/cli.ts', 'src/log.ts', 'test/cli.test.ts']);
  assert.equal(template, 'feature');
  assert.deepEqual(levels(plan), [['design'], ['implement-1', 'implement-2'], ['tests', 'docs']]);
  assert.deepEqual(task(plan, 'implement-1')?.expectedFiles, ['src/cli.ts']);
  assert.deepEqual(task(plan, 'tests')?.expectedFiles, ['test/cli.test.ts']);
  assert.equal(task(plan, 'design')?.mode, 'read');
  assert.match(task(plan, 'implement-2')?.prompt ?? '', /Goal: Add a --verbose flag with tests[\s\S]*src\/log\.ts/);
  const single = planOf('implement caching in src/cache.ts').plan;
  assert.deepEqual(ids(single), ['design', 'implement', 'tests', 'docs']);
  assert.deepEqual(task(single, 'implement')?.expectedFiles, ['src/cache.ts'], 'files mentioned in the goal');
});

test('bugfix, refactor, tests, docs and generic templates', () => {
  const bug = planOf('Fix the crash when the config file is empty');
  assert.equal(bug.template, 'bugfix');
  assert.deepEqual(levels(bug.plan), [['reproduce'], ['fix'], ['verify']]);
  const ref = planOf('Refactor the store module', ['src/a.ts', 'src/b.ts', 'src/c.ts']);
  assert.equal(ref.template, 'refactor');
  assert.deepEqual(levels(ref.plan), [['analyze'], ['refactor-1', 'refactor-2', 'refactor-3'], ['verify']]);
  assert.equal(planOf('Write unit tests for the lease table').template, 'tests');
  assert.equal(planOf('add tests for the parser').template, 'tests');
  assert.equal(planOf('Add a login page with tests').template, 'feature', 'a feature that mentions tests stays a feature');
  assert.equal(planOf('Update the README with install steps').template, 'docs');
  const generic = planOf('Investigate why startup is slow');
  assert.equal(generic.template, 'generic');
  assert.deepEqual(ids(generic.plan), ['investigate-why-startup-is-slow']);
  assert.equal(templatePlan('   ').ok, false);
});

test('filesInText finds paths and file names, not prose', () => {
  assert.deepEqual(filesInText('Change src/a.ts and README.md, e.g. like lib/x/y.js.'), ['src/a.ts', 'README.md', 'lib/x/y.js']);
  assert.deepEqual(filesInText('make it faster'), []);
});

test('{files: …} outside the repository is an error naming the line, the task and the path', () => {
  for (const bad of ['../x.ts', '/etc/passwd', '~/notes.md', 'src/../../up.ts']) {
    const r = templatePlan(`- [a] A {files: src/a.ts}: go\n- [b] B {files: ok.txt, ${bad}}: go`);
    assert.equal(r.ok, false, bad);
    const text = r.ok ? '' : r.errors.join('\n');
    assert.match(text, /^line 2: \{files: [^}]*\}: task "b": /, text);
    assert.ok(text.includes(JSON.stringify(bad)), `names ${bad}: ${text}`);
  }
});

test('paths mentioned in a goal that lead outside the repository are not lease requests', () => {
  assert.deepEqual(filesInText('compare ../other/x.ts with src/in.ts'), ['src/in.ts']);
});

test('a title may contain parentheses; (after: …) and {files: …} still parse around them', () => {
  const r = parseTaskList(
    [
      '- [fix] Fix add() in src/math.js',
      '- [call] Make sum(a, b) call add() (after: fix) {files: src/sum.js, src/math.js}: use add(x, y) everywhere',
      '- [aftermath] Clean up (aftermath of the fix) (after: call)',
    ].join('\n'),
  );
  assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
  const fix = r.plan.tasks.find((t) => t.id === 'fix')!;
  assert.equal(fix.title, 'Fix add() in src/math.js');
  assert.equal(fix.prompt, 'Fix add() in src/math.js');
  const call = r.plan.tasks.find((t) => t.id === 'call')!;
  assert.equal(call.title, 'Make sum(a, b) call add()');
  assert.deepEqual(call.dependsOn, ['fix']);
  assert.deepEqual(call.expectedFiles, ['src/sum.js', 'src/math.js']);
  assert.equal(call.prompt, 'use add(x, y) everywhere');
  const after = r.plan.tasks.find((t) => t.id === 'aftermath')!;
  assert.equal(after.title, 'Clean up (aftermath of the fix)', '"(aftermath" is text, not an (after …) group');
  assert.deepEqual(after.dependsOn, ['call']);
});

test('unbalanced parentheses and stray braces in a title are refused, naming the line', () => {
  const r = parseTaskList('- [a] Fix add( in math.js\n- [b] B {files: x.js\n- [c] C) oops');
  assert.deepEqual(r.ok ? [] : r.errors, [
    'line 1: unbalanced parentheses in "Fix add( in math.js"',
    'line 2: unbalanced or unknown {…} group in "B {files: x.js"',
    'line 3: unbalanced parentheses in "C) oops"',
  ]);
});
