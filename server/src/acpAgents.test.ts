import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAgentSettings } from './agents';
import { DomainError } from './domain/errors';

const descriptor = {
  id: 'fixture-agent',
  name: 'Fixture agent',
  version: '1.0.0',
  description: 'x',
  _meta: { orchestrator: { command: { path: 'node' } } },
};

function refusal(raw: unknown): string {
  try {
    parseAgentSettings(raw);
  } catch (e) {
    assert.ok(DomainError.is(e, 'bad_input'));
    return e.message;
  }
  assert.fail('expected bad_input');
}

test('ACP agents in the agent settings: descriptors validated, errors name the entry and the field', () => {
  assert.equal(parseAgentSettings({ acpAgents: [{ descriptor, commandPath: '/usr/bin/node' }] }).acpAgents?.length, 1);
  assert.match(
    refusal({ acpAgents: [{ descriptor: { ...descriptor, version: 'latest' } }] }),
    /^agent settings: acpAgents\.0\.descriptor "fixture-agent": version: must start with a semantic version/,
  );
  assert.match(refusal({ acpAgents: [{ descriptor }, { descriptor }] }), /acpAgents\.1\.descriptor "fixture-agent": id: is already taken/);
  assert.match(refusal({ acpAgents: [{ descriptor: { ...descriptor, id: 'opencode' } }] }), /id: is already taken/);
  assert.match(refusal({ acpAgents: [{ descriptor, comandPath: 'x' }] }), /acpAgents\.0: .*comandPath/);
});
