import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { AgentError } from '../../ports/agentRuntime';
import { platformPackageNames, resolveOpencodeBinary } from './binary';

/** A folder laid out like the installed extension's dist/: node_modules/<platform package>/bin/opencode. */
function fakeInstall(withBinary: boolean): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-bin-'));
  const pkg = path.join(root, 'node_modules', platformPackageNames()[0]);
  fs.mkdirSync(path.join(pkg, 'bin'), { recursive: true });
  fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: platformPackageNames()[0], version: '1.18.33' }));
  if (withBinary) {
    fs.writeFileSync(path.join(pkg, 'bin', 'opencode'), Buffer.alloc(1_100_000));
    fs.chmodSync(path.join(pkg, 'bin', 'opencode'), 0o755);
  }
  return root;
}

test('the binary the platform .vsix carries next to dist/ is found', () => {
  const root = fakeInstall(true);
  assert.equal(
    resolveOpencodeBinary({ searchPaths: [root] }),
    path.join(root, 'node_modules', platformPackageNames()[0], 'bin', 'opencode'),
  );
});

test('an explicit orchestrator.opencode.path wins over the bundled binary', () => {
  const root = fakeInstall(true);
  const own = path.join(root, 'my-opencode');
  fs.copyFileSync(path.join(root, 'node_modules', platformPackageNames()[0], 'bin', 'opencode'), own);
  fs.chmodSync(own, 0o755);
  assert.equal(resolveOpencodeBinary({ explicitPath: own, searchPaths: [root] }), own);
});

test('an unusable explicit path is an error naming the setting, never a silent fallback to the bundled binary', () => {
  const root = fakeInstall(true);
  assert.throws(
    () => resolveOpencodeBinary({ explicitPath: path.join(root, 'nope'), searchPaths: [root] }),
    (e: unknown) =>
      AgentError.is(e, 'not_installed') && /orchestrator\.opencode\.path/.test(e.message) && e.message.includes(path.join(root, 'nope')),
  );
});

test('a missing binary says what to do in VS Code terms (platform build or the setting), not npm', () => {
  const root = fakeInstall(false);
  assert.throws(
    () => resolveOpencodeBinary({ searchPaths: [root] }),
    (e: unknown) => {
      assert.ok(AgentError.is(e, 'not_installed'));
      assert.match(e.message, new RegExp(`Install the ${process.platform}-${process.arch} build of Industrial Orchestrator`));
      assert.match(e.message, /set orchestrator\.opencode\.path/);
      assert.doesNotMatch(e.message, /npm install/);
      return true;
    },
  );
});
