import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CliUsageError, commandHelp, commands, parseCommandLine, positiveInt } from './cliArgs';

const usageError = (argv: string[], pattern: RegExp) =>
  assert.throws(
    () => parseCommandLine(argv),
    (e: unknown) => e instanceof CliUsageError && pattern.test(e.message),
  );

test('an unknown option or a typo is an error naming it, per command', () => {
  usageError(['sessions', '--jsno'], /sessions: unknown option --jsno \(did you mean --json\?\)/);
  usageError(['run', 'goal', '--alow', 'node'], /unknown option --alow \(did you mean --allow\?\)/);
  usageError(['status', '--approve'], /status: unknown option --approve/);
  usageError(['sessions', '-x'], /unknown option -x/);
  usageError(['frobnicate'], /unknown command "frobnicate"/);
});

test('missing values and values given to flags are errors naming the option', () => {
  usageError(['run', 'goal', '--cwd'], /run: .*--cwd/);
  usageError(['sessions', '--json=yes'], /sessions: .*--json/);
});

test('goals that start with "-" stay positionals, also as option values, and after "--"', () => {
  const list = '- [a] A {files: a.txt}: alpha\n- [b] B (after: a): beta';
  const r = parseCommandLine(['run', list, '--cwd', '/r', '--approve']);
  assert.equal(r.kind, 'command');
  assert.deepEqual(r.kind === 'command' && r.positionals, [list]);
  assert.equal(r.kind === 'command' && r.values.cwd, '/r');
  const spaced = parseCommandLine(['run', '--fix the thing', '--cwd', '- odd dir']);
  assert.deepEqual(spaced.kind === 'command' && [spaced.positionals, spaced.values.cwd], [['--fix the thing'], '- odd dir']);
  const dashed = parseCommandLine(['run', '--cwd', '/r', '--', '--json', '-x']);
  assert.deepEqual(dashed.kind === 'command' && [dashed.positionals, dashed.values.json], [['--json', '-x'], undefined]);
});

test('--allow repeats; options before the command still work', () => {
  const r = parseCommandLine(['--data-dir', '/d', 'run', 'g', '--allow', 'node', '--allow=npm']);
  assert.equal(r.kind, 'command');
  assert.deepEqual(r.kind === 'command' && [r.command, r.values['data-dir'], r.values.allow], ['run', '/d', ['node', 'npm']]);
});

test("help: general, `help COMMAND` and `COMMAND --help`; each command's help lists its options", () => {
  usageError([], /missing command/);
  assert.deepEqual(parseCommandLine(['--help']), { kind: 'help' });
  assert.deepEqual(parseCommandLine(['help', 'run']), { kind: 'help', command: 'run' });
  assert.deepEqual(parseCommandLine(['resume', '-h']), { kind: 'help', command: 'resume' });
  assert.deepEqual(parseCommandLine(['--version']), { kind: 'version' });
  usageError(['help', 'nope'], /help: unknown command "nope"/);
  for (const name of Object.keys(commands) as (keyof typeof commands)[]) {
    const text = commandHelp(name);
    for (const opt of Object.keys(commands[name].options)) assert.ok(text.includes(`--${opt}`), `${name} help names --${opt}`);
  }
  assert.match(commandHelp('run'), /--allow PROGRAM/);
});

test('numbers are checked and name the option', () => {
  assert.equal(positiveInt({ 'max-parallel': '3' }, 'max-parallel'), 3);
  assert.throws(() => positiveInt({ 'max-parallel': '0' }, 'max-parallel'), /--max-parallel must be a positive whole number/);
  assert.equal(positiveInt({ 'timeout-ms': '0' }, 'timeout-ms', { allowZero: true }), 0);
});
