import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import { clientState } from './clientStates';

test("clientState equals vscode-languageclient's State enum", () => {
  // The library's module needs `vscode` to load, so its compiled definition is read instead.
  const main = createRequire(__filename).resolve('vscode-languageclient/node'); // …/lib/node/main.js
  const file = path.join(path.dirname(main), '..', 'common', 'client.js');
  const js = readFileSync(file, 'utf8');
  const value = (name: string) => Number(new RegExp(`State\\[State\\["${name}"\\] = (\\d+)\\]`).exec(js)?.[1]);
  assert.deepEqual(clientState, { stopped: value('Stopped'), running: value('Running'), starting: value('Starting') });
});
