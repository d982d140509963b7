import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DomainError } from '../errors';
import { extractJson, levels, parsePlanText, tasksFromPlan, topoOrder, validatePlan, type Plan } from './plan';

const t = (id: string, dependsOn: string[] = [], extra: Record<string, unknown> = {}) => ({
  id,
  title: `Task ${id}`,
  prompt: `do ${id}`,
  dependsOn,
  ...extra,
});

function errorsOf(raw: unknown): string[] {
  const r = validatePlan(raw);
  assert.equal(r.ok, false, 'expected the plan to be rejected');
  return r.ok ? [] : r.errors;
}

test('a valid plan gets defaults and passes', () => {
  const r = validatePlan({ tasks: [t('a'), t('b', ['a'], { expectedFiles: ['src/b.ts'], estimate: { tokens: 100, minutes: 1 } })] });
  assert.ok(r.ok);
  const [a, b] = r.plan.tasks;
  assert.deepEqual(a?.expectedFiles, []);
  assert.deepEqual(a?.estimate, { tokens: 20_000, minutes: 10 });
  assert.equal(a?.mode, 'write');
  assert.deepEqual(b?.dependsOn, ['a']);
});

test('bad fields are named by task index, id and field', () => {
  const errs = errorsOf({
    tasks: [t('a'), { id: 'b', title: 'B', prompt: '   ', estimate: { tokens: -1, minutes: 1 } }, { ...t('c'), depends_on: ['a'] }],
  });
  assert.ok(
    errs.some((e) => /^tasks\[1\] \(id "b"\)\.prompt: must not be empty/.test(e)),
    errs.join('\n'),
  );
  assert.ok(
    errs.some((e) => /^tasks\[1\] \(id "b"\)\.estimate\.tokens:/.test(e)),
    errs.join('\n'),
  );
  assert.ok(
    errs.some((e) => /^tasks\[2\] \(id "c"\).*depends_on/.test(e)),
    errs.join('\n'),
  );
  assert.ok(errorsOf({ tasks: [t('bad id!')] }).some((e) => /tasks\[0\] \(id "bad id!"\)\.id: must be 1–64 letters/.test(e)));
  assert.ok(errorsOf({ tasks: [] }).some((e) => /tasks: a plan needs at least one task/.test(e)));
  assert.ok(errorsOf('nope').some((e) => /^plan:/.test(e)));
});

test('graph errors: duplicates, unknown and self dependencies, cycles with their path', () => {
  assert.deepEqual(errorsOf({ tasks: [t('a'), t('a')] }), ['tasks[1] (id "a").id: duplicate task id (also tasks[0])']);
  assert.deepEqual(errorsOf({ tasks: [t('a', ['zz'])] }), ['tasks[0] (id "a").dependsOn: unknown task "zz"']);
  assert.deepEqual(errorsOf({ tasks: [t('a', ['a'])] }), ['tasks[0] (id "a").dependsOn: task "a" depends on itself']);
  assert.deepEqual(errorsOf({ tasks: [t('a', ['b']), t('b', ['a'])] }), ['dependency cycle: a → b → a']);
  const long = errorsOf({ tasks: [t('x'), t('a', ['c', 'x']), t('b', ['a']), t('c', ['b'])] });
  assert.deepEqual(long, ['dependency cycle: a → c → b → a']);
});

test('every reason at once, each with its path: shape errors do not hide graph errors', () => {
  const r = validatePlan({ tasks: [t('a', ['ghost']), { ...t('b', ['a', 'a']), title: ' ', extra: 1 }, t('a')] });
  assert.equal(r.ok, false);
  assert.deepEqual(r.ok ? [] : r.issues, [
    { path: ['tasks', 1, 'title'], message: 'must not be empty' },
    { path: ['tasks', 1, 'extra'], message: 'unknown field "extra"' },
    { path: ['tasks', 2, 'id'], message: 'duplicate task id (also tasks[0])' },
    { path: ['tasks', 0, 'dependsOn', 0], message: 'unknown task "ghost"' },
    { path: ['tasks', 1, 'dependsOn', 1], message: '"a" is listed twice' },
  ]);
  assert.deepEqual(r.ok ? [] : r.errors, [
    'tasks[1] (id "b").title: must not be empty',
    'tasks[1] (id "b"): Unrecognized key: "extra" (extra)',
    'tasks[2] (id "a").id: duplicate task id (also tasks[0])',
    'tasks[0] (id "a").dependsOn: unknown task "ghost"',
    'tasks[1] (id "b").dependsOn: "a" is listed twice',
  ]);
});

test('oversize plans are rejected with the count', () => {
  const tasks = Array.from({ length: 51 }, (_, i) => t(`t${i}`));
  assert.deepEqual(errorsOf({ tasks }), ['tasks: the plan has 51 tasks; at most 50 are allowed']);
  assert.ok(validatePlan({ tasks: tasks.slice(0, 5) }, { maxTasks: 5 }).ok);
});

test('extractJson: whole text, fences, prose around an object, and clear errors', () => {
  const fenced = 'Here is the plan:\n```json\n{"tasks": []}\n```\nGood luck!';
  assert.deepEqual(extractJson(fenced), { ok: true, value: { tasks: [] } });
  assert.deepEqual(extractJson('  {"a": 1}  '), { ok: true, value: { a: 1 } });
  assert.deepEqual(extractJson('Sure! {"a": "}{", "b": {"c": 2}} hope that helps'), { ok: true, value: { a: '}{', b: { c: 2 } } });
  const prose = extractJson('I think we should first refactor the module and then add tests.');
  assert.equal(prose.ok, false);
  if (!prose.ok) assert.match(prose.error, /^prose instead of JSON: no JSON object found.*it starts: "I think/);
  const broken = extractJson('```json\n{"tasks": [1, 2,]}\n```');
  assert.equal(broken.ok, false);
  if (!broken.ok) assert.match(broken.error, /^invalid JSON/);
  const truncated = extractJson('{"tasks": [');
  assert.equal(truncated.ok, false);
  if (!truncated.ok) assert.match(truncated.error, /never closes/);
});

test('parsePlanText goes from LLM text to a plan, or to the reasons', () => {
  const ok = parsePlanText(`Plan:\n\`\`\`json\n${JSON.stringify({ tasks: [t('a'), t('b', ['a'])] })}\n\`\`\``);
  assert.ok(ok.ok);
  const cyc = parsePlanText(JSON.stringify({ tasks: [t('a', ['b']), t('b', ['a'])] }));
  assert.deepEqual(cyc, {
    ok: false,
    errors: ['dependency cycle: a → b → a'],
    issues: [{ path: ['tasks', 0, 'dependsOn'], message: 'dependency cycle: a → b → a' }],
  });
  assert.equal(parsePlanText('no json here').ok, false);
});

const diamond = (): Plan => {
  const r = validatePlan({ tasks: [t('docs', ['impl']), t('test', ['impl']), t('impl', ['design']), t('design'), t('lint')] });
  assert.ok(r.ok);
  return r.plan;
};

test('topoOrder and levels give dependency order and parallel waves', () => {
  const p = diamond();
  assert.deepEqual(levels(p), [['design', 'lint'], ['impl'], ['docs', 'test']]);
  const order = topoOrder(p);
  for (const task of p.tasks)
    for (const d of task.dependsOn) assert.ok(order.indexOf(d) < order.indexOf(task.id), `${d} before ${task.id}`);
  assert.throws(
    () =>
      levels({
        tasks: [
          { id: 'a', dependsOn: ['b'] },
          { id: 'b', dependsOn: ['a'] },
        ] as Plan['tasks'],
      }),
    (e: unknown) => DomainError.is(e, 'bad_input') && /cycle: a → b → a/.test((e as Error).message),
  );
});

test('tasksFromPlan maps plan ids to global ids with topological order', () => {
  const tasks = tasksFromPlan(diamond(), { sessionId: 's9', tenantId: 'local', nowMs: 5, maxAttempts: 2 });
  const impl = tasks.find((x) => x.planId === 'impl');
  assert.equal(impl?.id, 's9:impl');
  assert.deepEqual(impl?.dependsOn, ['s9:design']);
  assert.equal(impl?.order, 2);
  assert.equal(impl?.maxAttempts, 2);
  assert.ok(tasks.every((x) => x.state === 'pending' && x.createdAt === 5));
});

test('expectedFiles must stay inside the repository: each bad path is named by task and index', () => {
  const outside = [
    '../etc/passwd',
    '/etc/passwd',
    '~/.ssh/id_rsa',
    '~',
    'C:\\Windows\\x',
    'src/../../x',
    '..',
    '.',
    './',
    'a\\..\\..\\b',
    'bad\0name',
  ];
  for (const [i, bad] of outside.entries()) {
    const errors = errorsOf({ tasks: [t('a'), t('b', [], { expectedFiles: ['ok.txt', bad] })] });
    assert.equal(errors.length, 1, `${JSON.stringify(bad)}: ${errors.join(' | ')}`);
    assert.match(errors[0], /^tasks\[1\] \(id "b"\)\.expectedFiles\[1\]: must be a path inside the repository/, `case ${i}: ${errors[0]}`);
  }
});

test('expectedFiles inside the repository are kept, normalised', () => {
  const r = validatePlan({
    tasks: [
      t('a', [], { expectedFiles: ['./src//a.ts', 'src\\b.ts', 'lib/', 'docs/**/*.md', '**', '.github/workflows/ci.yml', 'a..b.txt'] }),
    ],
  });
  assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
  assert.deepEqual(r.plan.tasks[0].expectedFiles, [
    'src/a.ts',
    'src/b.ts',
    'lib/',
    'docs/**/*.md',
    '**',
    '.github/workflows/ci.yml',
    'a..b.txt',
  ]);
});
