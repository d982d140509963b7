import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  budgetView,
  checkProgress,
  claimLease,
  normaliseLeasePath,
  normaliseLeasePaths,
  releaseLease,
  taskContextView,
  type ClaimInput,
  type ToolTask,
} from './agentTools';
import { newBudget, reserve, charge, startClock } from './budget';
import { emptyLeaseTable, leaseOf, tryAcquire, type LeaseTable } from './lease';

const now = 1_000_000;
const ttl = 60_000;
const repo = '/repo';

test('lease paths are normalised; absolute, "..", NUL, empty and over-long paths are refused with the reason', () => {
  assert.deepEqual(normaliseLeasePath('./src//a.ts'), { ok: true, path: 'src/a.ts' });
  assert.deepEqual(normaliseLeasePath('src\\lib\\'), { ok: true, path: 'src/lib/' });
  assert.deepEqual(normaliseLeasePath('  docs/**  '), { ok: true, path: 'docs/**' });
  const refusedFor = (p: unknown, re: RegExp) => {
    const r = normaliseLeasePath(p);
    assert.equal(r.ok, false, `${JSON.stringify(p)} should be refused`);
    if (!r.ok) assert.match(r.reason, re);
  };
  refusedFor('/etc/passwd', /absolute/);
  refusedFor('C:\\Windows', /absolute/);
  refusedFor('\\\\host\\share', /absolute/);
  refusedFor('~/.ssh/id_rsa', /absolute/);
  refusedFor('../outside.txt', /climbs out/);
  refusedFor('src/../../x', /climbs out/);
  refusedFor('a\u0000b', /NUL/);
  refusedFor('', /empty/);
  refusedFor('./', /repository itself/);
  refusedFor('x'.repeat(1025), /longer than 1024/);
  refusedFor(42, /must be a string/);
});

test('a list with one bad path takes nothing and names every bad one', () => {
  const r = normaliseLeasePaths(['ok.ts', '/abs', '../up']);
  assert.equal(r.ok, false);
  if (!r.ok) {
    assert.match(r.reason, /"\/abs" is absolute/);
    assert.match(r.reason, /"\.\.\/up" climbs out/);
  }
  assert.equal(normaliseLeasePaths([]).ok, false);
  assert.equal(normaliseLeasePaths('a.ts').ok, false);
  assert.deepEqual(normaliseLeasePaths(['a.ts', './a.ts']), { ok: true, paths: ['a.ts'] });
});

const task = (over: Partial<ToolTask> = {}): ToolTask => ({
  id: 't1',
  title: 'Write the parser',
  state: 'running',
  mode: 'write',
  expectedFiles: ['src/parser.ts'],
  ...over,
});

function heldBy(taskId: string, globs: string[], table: LeaseTable = emptyLeaseTable(), mode: 'write' | 'read' = 'write'): LeaseTable {
  const r = tryAcquire(table, { taskId, repo, globs, mode }, now, ttl);
  assert.ok(r.ok);
  return r.table;
}

const claim = (over: Partial<ClaimInput>) =>
  claimLease({
    table: heldBy('t1', ['src/parser.ts']),
    repo,
    sessionState: 'running',
    task: task(),
    titles: new Map([
      ['t1', 'Write the parser'],
      ['t2', 'Write the lexer'],
    ]),
    paths: ['src/extra.ts'],
    nowMs: now,
    ttlMs: ttl,
    ...over,
  });

test('claiming adds the paths to the task lease, keeping the planned ones', () => {
  const r = claim({});
  assert.ok(r.ok);
  assert.deepEqual(r.lease.globs, ['src/parser.ts', 'src/extra.ts']);
  assert.deepEqual(r.added, ['src/extra.ts']);
  assert.equal(r.lease.mode, 'write');
  assert.equal(r.lease.expiresAt, now + ttl);
  assert.deepEqual(leaseOf(r.table, 't1')?.globs, ['src/parser.ts', 'src/extra.ts']);
});

test('a path held by another task is refused, naming the holder, its title and globs; the table is unchanged', () => {
  const table = heldBy('t2', ['src/lexer/**'], heldBy('t1', ['src/parser.ts']));
  const r = claim({ table, paths: ['./src/lexer/tokens.ts'] });
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.match(r.reason, /src\/lexer\/tokens\.ts is held by task t2 "Write the lexer" \(write lease on src\/lexer\/\*\*\)/);
  assert.deepEqual(r.holders, [{ taskId: 't2', title: 'Write the lexer', mode: 'write', globs: ['src/lexer/**'] }]);
  // Read against read does not conflict.
  const readers = heldBy('t2', ['docs/**'], emptyLeaseTable(), 'read');
  assert.ok(claim({ table: readers, task: task({ mode: 'read', expectedFiles: [] }), paths: ['docs/a.md'], mode: 'read' }).ok);
  // An expired lease of another task does not hold anything.
  assert.ok(claim({ table, paths: ['src/lexer/tokens.ts'], nowMs: now + ttl + 1 }).ok);
});

test('claims are refused when the task or session is not running, for bad paths, bad modes and read-only tasks', () => {
  const reason = (r: ReturnType<typeof claim>) => (r.ok ? '' : r.reason);
  assert.match(reason(claim({ sessionState: 'paused' })), /session is paused/);
  assert.match(reason(claim({ task: task({ state: 'succeeded' }) })), /task t1 is succeeded/);
  assert.match(reason(claim({ paths: ['../../etc'] })), /climbs out/);
  assert.match(reason(claim({ paths: ['/etc/hosts'] })), /absolute/);
  assert.match(reason(claim({ mode: 'admin' })), /mode: must be "write" or "read"/);
  assert.match(reason(claim({ task: task({ mode: 'read' }), mode: 'write' })), /read-only task/);
});

test('release drops claimed paths, keeps the planned ones and reports what it did not hold', () => {
  const claimed = claim({ paths: ['src/extra.ts', 'src/more.ts'] });
  assert.ok(claimed.ok);
  const r = releaseLease({ table: claimed.table, task: task(), paths: ['src/extra.ts', 'src/parser.ts', 'nope.ts'] });
  assert.ok(r.ok);
  assert.deepEqual(r.released, ['src/extra.ts']);
  assert.deepEqual(r.kept, ['src/parser.ts']);
  assert.deepEqual(r.notHeld, ['nope.ts']);
  assert.deepEqual(r.remaining, ['src/parser.ts', 'src/more.ts']);
  assert.deepEqual(leaseOf(r.table, 't1')?.globs, ['src/parser.ts', 'src/more.ts']);
  // Releasing the last claimed glob of a task with no planned paths removes its lease.
  const bare = claim({ table: emptyLeaseTable(), task: task({ expectedFiles: [] }), paths: ['x.ts'] });
  assert.ok(bare.ok);
  const gone = releaseLease({ table: bare.table, task: task({ expectedFiles: [] }), paths: ['x.ts'] });
  assert.ok(gone.ok && !leaseOf(gone.table, 't1'));
  assert.equal(releaseLease({ table: bare.table, task: task(), paths: ['/abs'] }).ok, false);
});

test('the budget view is the ledger: limits, spent, reserved, remaining; null where there is no limit', () => {
  let b = startClock(newBudget({ tokens: 10_000, wallMs: 600_000 }), now);
  const r = reserve(b, 't1', { tokens: 2_000, money: 0 }, now);
  assert.ok(r.ok);
  b = charge(r.state, 't1', { tokens: 1_500, money: 0.25 });
  const v = budgetView(b, now + 60_000);
  assert.deepEqual(v.limits, { tokens: 10_000, money: null, wallMs: 600_000 });
  assert.deepEqual(v.spent, { tokens: 1_500, money: 0.25 });
  assert.deepEqual(v.remaining, { tokens: 10_000 - 1_500 - v.reserved.tokens, money: null, wallMs: 540_000 });
  assert.deepEqual(budgetView(newBudget(), now).remaining, { tokens: null, money: null, wallMs: null });
});

test('progress needs a message of 1–500 characters and an optional percent of 0–100', () => {
  assert.deepEqual(checkProgress('  reading   the code ', undefined), { ok: true, message: 'reading the code' });
  assert.deepEqual(checkProgress('half', 49.6), { ok: true, message: 'half', percent: 50 });
  assert.equal(checkProgress('', undefined).ok, false);
  assert.equal(checkProgress(7, undefined).ok, false);
  assert.equal(checkProgress('x'.repeat(501), undefined).ok, false);
  assert.equal(checkProgress('x', 101).ok, false);
  assert.equal(checkProgress('x', -1).ok, false);
  assert.equal(checkProgress('x', '50').ok, false);
});

test("the task context has the goal, the task, its dependencies' summaries and files, the changed files and the lease", () => {
  const v = taskContextView({
    goal: 'Build a calculator',
    task: { ...task(), prompt: 'Write the parser', dependsOn: ['t0', 'gone'] },
    tasks: [
      { id: 't0', title: 'Design', state: 'succeeded', result: { summary: 'Designed the AST', changedFiles: ['docs/ast.md'] } },
      { id: 't1', title: 'Write the parser', state: 'running' },
    ],
    changedFiles: ['src/parser.ts', 'src/a.ts', 'src/parser.ts'],
    lease: leaseOf(heldBy('t1', ['src/parser.ts']), 't1'),
  });
  assert.equal(v.goal, 'Build a calculator');
  assert.deepEqual(v.task, {
    id: 't1',
    title: 'Write the parser',
    prompt: 'Write the parser',
    mode: 'write',
    plannedPaths: ['src/parser.ts'],
  });
  assert.deepEqual(v.dependencies, [
    { id: 't0', title: 'Design', state: 'succeeded', summary: 'Designed the AST', changedFiles: ['docs/ast.md'] },
  ]);
  assert.deepEqual(v.changedFiles, ['src/a.ts', 'src/parser.ts']);
  assert.deepEqual(v.lease, { mode: 'write', paths: ['src/parser.ts'] });
});
