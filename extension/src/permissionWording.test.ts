import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PermissionAsk } from '../../protocol/run';
import { answerFor, clientDeadlineMs, permissionChoices, permissionDetails, permissionQuestion } from './permissionWording';

const ask: PermissionAsk = {
  runId: 'r1',
  sessionId: 's1',
  taskId: 't1',
  permission: 'bash',
  patterns: ['uname -s'],
  reason: '"uname" is not on the allow-list',
  cwd: '/w/s1/a',
  rememberScope: 'session',
  deadlineMs: 115_000,
};

test('three answers; always is remembered for the ask scope; anything else denies', () => {
  assert.deepEqual(permissionChoices(ask), ['Allow once', 'Always for this session', 'Deny']);
  assert.deepEqual(answerFor(ask, 'Allow once'), { decision: 'allow' });
  assert.deepEqual(answerFor(ask, 'Always for this session'), { decision: 'allow', remember: 'session' });
  assert.deepEqual(answerFor(ask, 'Deny'), { decision: 'deny' });
  assert.deepEqual(answerFor(ask, undefined), { decision: 'deny' }, 'dismissed or late');
  assert.deepEqual(answerFor(ask, 'Details…'), { decision: 'deny' });
});

test('a run without a session offers "for this run"; an ask that cannot be remembered offers no always', () => {
  const run = { ...ask, sessionId: undefined, taskId: undefined, rememberScope: 'run' as const };
  assert.deepEqual(permissionChoices(run), ['Allow once', 'Always for this run', 'Deny']);
  assert.deepEqual(answerFor(run, 'Always for this run'), { decision: 'allow', remember: 'run' });
  const broad = { ...ask, rememberScope: undefined };
  assert.deepEqual(permissionChoices(broad), ['Allow once', 'Deny']);
  assert.deepEqual(answerFor(broad, 'Always for this session'), { decision: 'deny' }, 'a forged label is no answer');
});

test('the question and the details name the command, the folders, the task and the diff', () => {
  assert.match(permissionQuestion(ask), /task asks for "bash": uname -s\. "uname" is not on the allow-list\./);
  const edit = {
    ...ask,
    permission: 'edit',
    patterns: ['src/a.ts'],
    filepath: '/w/s1/a/src/a.ts',
    diff: '-old\n+new ```x```',
    commandCwd: '/w/s1/a/sub',
  };
  const doc = permissionDetails(edit);
  for (const part of [
    'src/a.ts',
    '/w/s1/a/src/a.ts',
    '/w/s1/a/sub',
    'session: `s1`',
    'task: `t1`',
    'run: `r1`',
    '-old\n+new',
    'not on the allow-list',
    'No answer within 115 s',
  ])
    assert.ok(doc.includes(part), part);
  assert.match(doc, /````diff\n-old/, 'a fence longer than any backticks in the diff');
  assert.match(permissionDetails({ ...ask, rememberScope: undefined }), /too broad to be remembered/);
});

test('a command is shown by its whole line, not only the commands the agent found in it', () => {
  const cd = { ...ask, patterns: ['uname -s'], commandLine: 'cd /etc && uname -s' };
  assert.match(permissionQuestion(cd), /asks for "bash": cd \/etc && uname -s\./);
  const doc = permissionDetails(cd);
  assert.match(doc, /```sh\ncd \/etc && uname -s\n```/);
  assert.match(doc, /Commands the agent found in it:\n\n```sh\nuname -s\n```/);
  assert.ok(!permissionDetails({ ...ask, commandLine: 'uname -s' }).includes('found in it'), 'nothing hidden: no second list');
});

test('the client stops offering a little before the server gives up', () => {
  assert.equal(clientDeadlineMs(ask), 114_000);
  assert.equal(clientDeadlineMs({ ...ask, deadlineMs: undefined }), 110_000);
  assert.equal(clientDeadlineMs({ ...ask, deadlineMs: 800 }), 500);
});
