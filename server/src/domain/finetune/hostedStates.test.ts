import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mapHostedState, redact } from './hostedStates';

test('each shape maps its documented states onto ours; unknown is running, never success', () => {
  assert.equal(mapHostedState('openai-compatible', 'validating_files'), 'queued');
  assert.equal(mapHostedState('openai-compatible', 'succeeded'), 'succeeded');
  assert.equal(mapHostedState('openai-compatible', 'failed'), 'failed');
  assert.equal(mapHostedState('together', 'pending'), 'queued');
  assert.equal(mapHostedState('together', 'completed'), 'succeeded');
  assert.equal(mapHostedState('together', 'error'), 'failed');
  assert.equal(mapHostedState('together', 'cancel_requested'), 'running');
  assert.equal(mapHostedState('fireworks', 'JOB_STATE_COMPLETED'), 'succeeded');
  assert.equal(mapHostedState('fireworks', 'JOB_STATE_CANCELLED'), 'cancelled');
  assert.equal(mapHostedState('fireworks', 'JOB_STATE_FAILED'), 'failed');
  assert.equal(mapHostedState('openai-compatible', 'completed'), 'running');
  assert.equal(mapHostedState('together', undefined), 'running');
});

test('redact removes every occurrence of the key', () => {
  assert.equal(redact('bad key sk-abc123 (sk-abc123)', 'sk-abc123'), 'bad key *** (***)');
  assert.equal(redact('x', undefined), 'x');
});
