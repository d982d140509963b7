/**
 * The project's copy of the ACP registry snapshot (snapshot.json, real registry entries) and the registry's
 * entry schema (agent.schema.json): our zod schema accepts exactly the entries the registry's schema accepts
 * (Ajv found 39 of 40 valid; aider-acp's authors are objects), and its fields do not drift from the schema.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { agentDescriptorSchema, parseAgentIndex, platformKeys } from '../../../domain/agentDescriptor';

const dir = __dirname;
const snapshot = JSON.parse(fs.readFileSync(path.join(dir, 'snapshot.json'), 'utf8')) as { agents: { id: string; distribution: object }[] };
const schema = JSON.parse(fs.readFileSync(path.join(dir, 'agent.schema.json'), 'utf8')) as {
  required: string[];
  properties: Record<string, unknown>;
  definitions: { binaryDistribution: { propertyNames: { enum: string[] } }; binaryTarget: { required: string[]; properties: object } };
};

test('the bundled snapshot: 39 usable entries, aider-acp refused naming its authors field', () => {
  assert.equal(snapshot.agents.length, 40);
  const { agents, errors } = parseAgentIndex(snapshot);
  assert.equal(agents.length, 39);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].id, 'aider-acp');
  assert.ok(errors[0].fields.includes('authors.0'), errors[0].message);
  const kinds = (k: string) => agents.filter((a) => (a.distribution as Record<string, unknown> | undefined)?.[k]).length;
  // The snapshot's README: npx 23, binary 15, uvx 3 (kilo has binary and npx); aider-acp (npx) is the refused one.
  assert.deepEqual([kinds('npx'), kinds('binary'), kinds('uvx')], [22, 15, 3]);
  const opencode = agents.find((a) => a.id === 'opencode');
  assert.deepEqual(opencode?.distribution?.npx, { package: '@opencode/cli@2.0.23', args: ['acp'] });
  const goose = agents.find((a) => a.id === 'goose');
  assert.match(goose?.distribution?.binary?.['linux-x86_64']?.sha256 ?? '', /^[a-f0-9]{64}$/);
});

test('our schema does not drift from the registry entry schema', () => {
  assert.deepEqual(schema.required, ['id', 'name', 'version', 'description', 'distribution']);
  const ours = Object.keys(agentDescriptorSchema.shape);
  for (const key of Object.keys(schema.properties)) assert.ok(ours.includes(key), `registry field ${key} is known`);
  assert.deepEqual(schema.definitions.binaryDistribution.propertyNames.enum, [...platformKeys]);
  assert.deepEqual(schema.definitions.binaryTarget.required, ['archive', 'cmd']);
  assert.deepEqual(Object.keys(schema.definitions.binaryTarget.properties).sort(), ['archive', 'args', 'cmd', 'env', 'sha256']);
});
