/** The `sandbox` agent setting: `auto` or `off`; anything else is refused naming the field. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAgentSettings } from './agents';

test('the sandbox setting takes auto or off and refuses anything else, naming the field', () => {
  assert.equal(parseAgentSettings({}).sandbox, undefined);
  assert.equal(parseAgentSettings({ sandbox: 'off' }).sandbox, 'off');
  assert.equal(parseAgentSettings({ sandbox: 'auto' }).sandbox, 'auto');
  assert.throws(() => parseAgentSettings({ sandbox: 'yes' }), /agent settings: .*sandbox/);
  assert.throws(() => parseAgentSettings({ sandbox: false }), /sandbox/);
});
