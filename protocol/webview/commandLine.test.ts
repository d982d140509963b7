import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commandLine, envLines, quoteArg } from './commandLine';

test('plain words stay as they are, everything else is single-quoted', () => {
  assert.equal(quoteArg('--acp'), '--acp');
  assert.equal(quoteArg('/usr/bin/node'), '/usr/bin/node');
  assert.equal(quoteArg('pkg@1.2.3'), 'pkg@1.2.3');
  assert.equal(quoteArg(''), "''");
  assert.equal(quoteArg('two words'), "'two words'");
  assert.equal(quoteArg('$HOME'), "'$HOME'");
  assert.equal(quoteArg("it's"), `'it'\\''s'`);
  assert.equal(quoteArg('a;rm -rf /'), "'a;rm -rf /'");
});

test('a command line joins the program and its quoted arguments', () => {
  assert.equal(commandLine('/opt/agent bin/run', ['--acp', 'x y']), "'/opt/agent bin/run' --acp 'x y'");
  assert.equal(commandLine('node', []), 'node');
});

test('environment lines name the variables by group, sorted, and skip empty groups', () => {
  assert.deepEqual(envLines({ set: ['HOME', 'FIXTURE_DIST_ENV'], passed: [], required: ['API_KEY'] }), [
    'set: FIXTURE_DIST_ENV, HOME',
    'required from your environment: API_KEY',
  ]);
  assert.deepEqual(envLines({ set: [], passed: [], required: [] }), []);
});
