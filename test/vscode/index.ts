// Entry for --extensionTestsPath: VS Code's extension host calls run(). mocha is resolved from
// node_modules at run time (mocha 12 is ESM-only; require() returns the namespace).
import * as fs from 'node:fs';
import * as path from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const mochaModule = require('mocha');
const Mocha = mochaModule.default ?? mochaModule.Mocha ?? mochaModule;

export function run(): Promise<void> {
  // ORCH_VSCODE_ONLY=codeActions,taskControl runs only the suites whose file names contain one of the words.
  const only = (process.env.ORCH_VSCODE_ONLY ?? '').split(',').filter(Boolean);
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 60_000, reporter: 'spec' });
  const results: { title: string; state: string; err?: string }[] = [];
  for (const f of fs
    .readdirSync(__dirname)
    .filter((f) => f.endsWith('.test.js') && (!only.length || only.some((o) => f.includes(o))))
    .sort())
    mocha.addFile(path.join(__dirname, f));
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures: number) => {
      const summary = { passed: results.filter((r) => r.state === 'passed').length, failed: failures, results };
      const out = process.env.ORCH_TEST_RESULTS;
      if (out) fs.writeFileSync(out, JSON.stringify(summary, null, 2));
      console.log(`${summary.passed} passed, ${failures} failed`);
      if (failures > 0) reject(new Error(`${failures} tests failed.`));
      else resolve();
    });
    runner.on('pass', (t: { fullTitle(): string }) => results.push({ title: t.fullTitle(), state: 'passed' }));
    runner.on('fail', (t: { fullTitle(): string }, err: Error) =>
      results.push({ title: t.fullTitle(), state: 'failed', err: String(err?.stack ?? err) }),
    );
  });
}
