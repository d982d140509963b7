// Runs the mocha suites in test/vscode inside a real VS Code (server-main + headless Chromium).
// Prints each result and `N passed, N failed`; exit 0 only when every test passed.
import fs from 'node:fs';
import path from 'node:path';
import util from 'node:util';
import { fileURLToPath } from 'node:url';
import { launchBrowser } from '../../tools/browser.mjs';
import { makeSandbox, startCodeServer } from '../../tools/codeServer.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const testsPath = path.join(root, 'dist', 'test', 'vscode', 'index.js');
const timeoutMs = Number(process.env.TEST_TIMEOUT_MS ?? 900_000);
if (!fs.existsSync(testsPath)) {
  console.error(`missing ${testsPath}: run npm run build first`);
  process.exit(1);
}

const sandbox = makeSandbox();
const results = path.join(sandbox.root, 'results.json');
const t0 = Date.now();
let server, browser;
const cleanup = async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
  if (!process.env.KEEP_SANDBOX) fs.rmSync(sandbox.root, { recursive: true, force: true });
};
const watchdog = setTimeout(async () => {
  console.error(`[vscode] timed out after ${timeoutMs} ms; logs kept in ${sandbox.root}`);
  process.env.KEEP_SANDBOX = '1';
  await cleanup();
  process.exit(1);
}, timeoutMs);

try {
  server = await startCodeServer(sandbox, { env: { ORCH_TEST_RESULTS: results } });
  browser = await launchBrowser();
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('pageerror', (e) => process.env.VERBOSE && console.log(`[browser:pageerror] ${e.message}`));
  const exitCode = new Promise((resolve) => {
    void page.exposeFunction('codeAutomationLog', (type, args) => {
      const text = util.format(...(Array.isArray(args) ? args : [args]));
      if (process.env.VERBOSE || /^\s*(✔|✓|\d+\) |\d+ passed)|^vscode \d|AssertionError/.test(text))
        console.log(`[vscode:${type}] ${text}`);
    });
    void page.exposeFunction('codeAutomationExit', (code) => resolve(code));
  });
  await page.goto(
    server.url([
      ['extensionDevelopmentPath', server.remote(root)],
      ['extensionTestsPath', server.remote(testsPath)],
    ]),
  );
  const code = await exitCode;
  clearTimeout(watchdog);
  let passed = 0,
    failed = 1;
  if (fs.existsSync(results)) {
    const r = JSON.parse(fs.readFileSync(results, 'utf8'));
    for (const t of r.results) console.log(`  ${t.state === 'passed' ? '✔' : '✖'} ${t.title}${t.err ? `\n${t.err}` : ''}`);
    ({ passed, failed } = r);
  } else console.log('[vscode] the suite wrote no results (did the extension host start?)');
  console.log(`[vscode] exit code ${code} after ${Date.now() - t0} ms`);
  console.log(`${passed} passed, ${failed} failed`);
  if (code !== 0 || failed) process.env.KEEP_SANDBOX = '1';
  await cleanup();
  process.exit(code === 0 && failed === 0 && passed > 0 ? 0 : 1);
} catch (e) {
  console.error(`[vscode] ${e.stack ?? e}`);
  console.log('0 passed, 1 failed');
  process.env.KEEP_SANDBOX = '1';
  await cleanup();
  process.exit(1);
}
