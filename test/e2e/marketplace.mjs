/* global getComputedStyle, Event -- code inside evaluate() runs in the webview page */
// The agent marketplace as a person uses it: package the platform .vsix, install it into a fresh VS Code whose
// user settings add a LOCAL index file (the project's fixture ACP agent packed as a real npm tarball, plus an
// entry whose package is missing), open the workbench in headless Chromium, run Orchestrator: Open Agent
// Marketplace from the palette, search, read an entry's details (exactly what will run), Install → the modal
// consent dialog shows the command line and the environment names → Install: progress, then the entry is
// installed and the agent is in the Agents view; a session task that needs its capability runs on it and Apply
// writes its file; a failing install shows its error in place; Uninstall removes it from the Agents view; the
// panel in a light theme. Screenshots go to test-results/e2e-market-*.png. Prints `N passed, N failed`.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { launchBrowser } from '../../tools/browser.mjs';
import { installVsix, makeSandbox, orchestratorLogTail, startCodeServer } from '../../tools/codeServer.mjs';
import { ensureVscode } from '../../tools/installVscode.mjs';
import { packageVsix, repoRoot } from '../../tools/vsix.mjs';
import { workbench } from './workbench.mjs';

const shots = path.join(repoRoot, 'test-results');
fs.mkdirSync(shots, { recursive: true });
const sandbox = makeSandbox('orch-e2e-market-');
const results = [];
let server, browser, page, wb;
const t0 = Date.now();
const watchdog = setTimeout(
  () => {
    console.error(`[e2e marketplace] timed out; logs in ${sandbox.root}`);
    process.exit(1);
  },
  Number(process.env.TEST_TIMEOUT_MS ?? 600_000),
);

let gaveUp;
async function check(name, fn) {
  const t = Date.now();
  if (gaveUp) {
    results.push({ name, ok: false });
    console.log(`  ✖ ${name}\n    not run: ${gaveUp}`);
    return false;
  }
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`  ✔ ${name} (${Date.now() - t} ms)`);
    return true;
  } catch (e) {
    results.push({ name, ok: false });
    console.log(`  ✖ ${name}\n${e.stack ?? e}\n--- the extension's log:\n${orchestratorLogTail(sandbox)}`);
    for (const dir of [shots, sandbox.root])
      await page?.screenshot({ path: path.join(dir, `e2e-market-failure-${results.length}.png`) }).catch(() => {});
    return false;
  }
}

const shot = (name) => page.screenshot({ path: path.join(shots, `e2e-market-${name}.png`) });
/** The marketplace's document: the webview's outer iframe, then its active inner frame. */
const market = () => page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
async function eventually(fn, timeout = 30_000) {
  const end = Date.now() + timeout;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > end) throw e;
      await page.waitForTimeout(250);
    }
  }
}
/** The ids of the listed entries, in order. */
const listed = () =>
  market()
    .locator('#list')
    .evaluate((el) => [...el.querySelectorAll('li[data-id]')].map((li) => li.getAttribute('data-id')));
const entry = (id) => market().locator(`#list li[data-id="${id}"]`);

// The fixture ACP agent as a real npm package (its bin starts test/fixtures/acp/fixtureAgent.mjs) and a local index.
const fixture = path.join(repoRoot, 'test', 'fixtures', 'acp', 'fixtureAgent.mjs');
const pkgDir = path.join(sandbox.root, 'pkg');
fs.mkdirSync(pkgDir);
fs.writeFileSync(
  path.join(pkgDir, 'package.json'),
  JSON.stringify({ name: 'fixture-acp-agent', version: '1.0.0', bin: { 'fixture-acp-agent': 'bin.mjs' }, license: 'MIT' }),
);
fs.writeFileSync(path.join(pkgDir, 'bin.mjs'), `#!/usr/bin/env node\nawait import(${JSON.stringify(pathToFileURL(fixture).href)});\n`, {
  mode: 0o755,
});
const tarball = path.basename(
  execFileSync('npm', ['pack', pkgDir, '--pack-destination', sandbox.root, '--silent'], { cwd: sandbox.root, encoding: 'utf8' })
    .trim()
    .split('\n')
    .pop(),
);
const indexFile = path.join(sandbox.root, 'agents-index.json');
fs.writeFileSync(
  indexFile,
  JSON.stringify(
    {
      version: '1.0.0',
      agents: [
        {
          id: 'fixture-npx',
          name: 'Fixture agent (npm)',
          version: '1.0.0',
          description: 'The project fixture ACP agent, installed from a local npm tarball',
          license: 'MIT',
          authors: ['Industrial Orchestrator'],
          repository: 'https://example.invalid/fixture-acp-agent',
          distribution: { npx: { package: 'fixture-acp-agent@1.0.0', env: { FIXTURE_DIST_ENV: '1' } } },
          _meta: { orchestrator: { packageSource: `./${tarball}`, capabilities: ['fixture'], maxConcurrency: 1 } },
        },
        {
          id: 'fixture-missing',
          name: 'Fixture agent (missing package)',
          version: '1.0.0',
          description: 'Its npm tarball does not exist, so installing it fails',
          distribution: { npx: { package: 'fixture-missing@1.0.0' } },
          _meta: { orchestrator: { packageSource: './no-such-package.tgz', capabilities: ['fixture'] } },
        },
      ],
    },
    null,
    2,
  ),
);
// A machine-scoped setting: in a remote (server) window only the server's Machine settings count.
const machineSettings = path.join(sandbox.userData, 'Machine', 'settings.json');
fs.mkdirSync(path.dirname(machineSettings), { recursive: true });
fs.writeFileSync(machineSettings, JSON.stringify({ 'orchestrator.marketplace.indexes': [indexFile] }, null, 2));

const goal = '- [m] Market {files: m.txt} {caps: fixture}: WRITE m.txt from the marketplace';

try {
  const vscode = ensureVscode();
  await check('the .vsix packages and installs with --install-extension', async () => {
    installVsix(vscode, sandbox, packageVsix(path.join(sandbox.root, 'industrial-orchestrator.vsix')));
  });
  server = await startCodeServer(sandbox);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  wb = workbench(page);
  await page.goto(server.url());
  await page.waitForSelector('.monaco-workbench .part.statusbar', { timeout: 60_000 });

  const opened = await check('Open Agent Marketplace from the palette lists the bundled registry and the local index', async () => {
    await page.locator('.activitybar .action-item a[aria-label^="Orchestrator"]').click({ timeout: 30_000 });
    await wb.statusBar(/Orchestrator: ok/, 90_000);
    await wb.palette('Orchestrator: Open Agent Marketplace');
    await entry('fixture-npx').waitFor({ timeout: 60_000 });
    const ids = await listed();
    if (ids.length < 10) throw new Error(`only ${ids.length} entries: ${ids.join(', ')}`);
    const count = await market().locator('#count').innerText();
    if (!new RegExp(`^${ids.length} of ${ids.length} agents$`).test(count)) throw new Error(`the count says ${JSON.stringify(count)}`);
    await shot('1-list');
  });
  if (!opened) gaveUp = 'the marketplace did not open';

  await check('search and filters narrow the list (search text, installed only, distribution)', async () => {
    await market().locator('#search input').fill('fixture agent');
    await eventually(async () => {
      const ids = await listed();
      if (ids.join() !== 'fixture-missing,fixture-npx') throw new Error(`search "fixture agent" lists ${ids.join(', ')}`);
    });
    await market().locator('#installed').click();
    await market().locator('#list', { hasText: 'No agent matches these filters.' }).waitFor({ timeout: 10_000 });
    await market().locator('#installed').click();
    await market().locator('#search input').fill('');
    // The dropdown's list is drawn in its shadow root: choose like its keyboard does, by value and a change event.
    const choose = (v) =>
      market()
        .locator('#distribution')
        .evaluate((el, value) => {
          el.value = value;
          el.dispatchEvent(new Event('change', { bubbles: true }));
        }, v);
    await choose('binary');
    await eventually(async () => {
      const ids = await listed();
      if (!ids.length || ids.includes('fixture-npx')) throw new Error(`distribution binary lists ${ids.join(', ')}`);
    });
    await choose('');
    await market().locator('#search input').fill('fixture');
    await eventually(async () => {
      const ids = await listed();
      if (ids.join() !== 'fixture-missing,fixture-npx') throw new Error(`search "fixture" lists ${ids.join(', ')}`);
    });
  });

  await check('an entry shows its description, version, license, authors, repository and exactly what will run', async () => {
    await entry('fixture-npx').click();
    const details = market().locator('#details');
    await details.locator('h2', { hasText: 'Fixture agent (npm)' }).waitFor({ timeout: 15_000 });
    const text = await details.innerText();
    for (const re of [
      /installed from a local npm tarball/,
      /Version\s+1\.0\.0/,
      /License\s+MIT/,
      /Authors\s+Industrial Orchestrator/,
      /Repository\s+https:\/\/example\.invalid\/fixture-acp-agent/,
      /What would run/,
      /fixture-npx\/1\.0\.0\/node_modules\/\.bin\//,
      /npm install --prefix .*fixture-acp-agent-1\.0\.0\.tgz/,
      /FIXTURE_DIST_ENV/,
    ])
      if (!re.test(text)) throw new Error(`the details lack ${re}: ${JSON.stringify(text)}`);
    await shot('2-details');
  });

  const installed = await check(
    'Install asks for consent in a modal dialog showing the command and environment; accepting installs it',
    async () => {
      await market().locator('#details vscode-button[data-action="install"]').click();
      const dialog = page.locator('.monaco-dialog-box');
      await dialog.waitFor({ state: 'visible', timeout: 15_000 });
      const text = await dialog.innerText();
      for (const re of [/Install Fixture agent \(npm\) 1\.0\.0\?/, /Then it runs:\n.*node_modules\/\.bin\//, /FIXTURE_DIST_ENV/, /npm/])
        if (!re.test(text)) throw new Error(`the consent dialog lacks ${re}: ${JSON.stringify(text)}`);
      await shot('3-consent');
      await wb.dialogButton('Install');
      await entry('fixture-npx').locator('.tag.installed', { hasText: 'Installed 1.0.0' }).waitFor({ timeout: 120_000 });
      await market().locator('#details vscode-button[data-action="uninstall"]').waitFor({ timeout: 15_000 });
      const runs = await market().locator('#details pre.cmd').innerText();
      if (!/fixture-npx\/1\.0\.0\/node_modules\/\.bin\/fixture-acp-agent$/.test(runs)) throw new Error(`what runs: ${runs}`);
      await shot('4-installed');
    },
  );
  if (!installed) gaveUp = 'the install failed';

  await check('the installed agent appears in the Agents view', async () => {
    await wb.row('Fixture agent (npm)').waitFor({ timeout: 30_000 });
    await shot('5-agents-view');
  });

  await check('a session task needing its capability runs on it; Apply writes the file it wrote', async () => {
    await wb.palette('Orchestrator: Start Session\u2026');
    await wb.answerInput(goal, { title: 'Start Session' });
    await wb.dialogButton('Run Plan');
    const session = wb.row('- [m] Market', 'completed');
    await session.waitFor({ timeout: 180_000 });
    await eventually(async () => {
      const desc = await wb.row('Fixture agent (npm)').locator('.label-description').innerText({ timeout: 5_000 });
      if (!/✓1 ✗0/.test(desc)) throw new Error(`the agent's row says ${JSON.stringify(desc)}`);
    });
    await wb.inlineAction(session, 'Apply Session Changes');
    await wb.notification(/Applied 1 file\(s\) to your working tree/);
    const text = fs.readFileSync(path.join(sandbox.workspace, 'm.txt'), 'utf8');
    if (text !== 'from the marketplace\n') throw new Error(`m.txt says ${JSON.stringify(text)}`);
    await shot('6-task-ran');
  });

  await check('a failing install shows its error in place and installs nothing', async () => {
    await page.locator('.tabs-container .tab', { hasText: 'Agent Marketplace' }).click();
    await entry('fixture-missing').click();
    await market().locator('#details h2', { hasText: 'Fixture agent (missing package)' }).waitFor({ timeout: 15_000 });
    await market().locator('#details vscode-button[data-action="install"]').click();
    await wb.dialogButton('Install');
    const err = market().locator('#details p.error[role="alert"]');
    await err.waitFor({ timeout: 120_000 });
    const msg = await err.innerText();
    if (!/no-such-package|npm|install/i.test(msg)) throw new Error(`the error says ${JSON.stringify(msg)}`);
    await entry('fixture-missing').locator('.error').waitFor({ timeout: 5_000 });
    if (await entry('fixture-missing').locator('.tag.installed').count()) throw new Error('marked installed after a failure');
    await shot('7-error-in-place');
  });

  await check('Uninstall (after its confirmation) removes the agent from the Agents view', async () => {
    await entry('fixture-npx').click();
    await market().locator('#details h2', { hasText: 'Fixture agent (npm)' }).waitFor({ timeout: 15_000 });
    await market().locator('#details vscode-button[data-action="uninstall"]').click();
    await wb.dialogButton('Uninstall');
    await market().locator('#details vscode-button[data-action="install"]').waitFor({ timeout: 60_000 });
    await eventually(async () => {
      if (await wb.row('Fixture agent (npm)').count()) throw new Error('still in the Agents view');
    });
  });

  await check('the marketplace follows a light theme', async () => {
    await page.keyboard.press('F1');
    await page.waitForSelector('.quick-input-widget input', { state: 'visible', timeout: 10_000 });
    await page.keyboard.type('Preferences: Color Theme');
    await page.locator('.quick-input-list .monaco-list-row[aria-label^="Preferences: Color Theme"]').first().click({ timeout: 10_000 });
    await page.waitForSelector('.quick-input-widget input', { state: 'visible', timeout: 10_000 });
    await page.keyboard.type('Light Modern');
    await page.locator('.quick-input-list .monaco-list-row[aria-label^="Light Modern"]').first().click({ timeout: 10_000 });
    await eventually(async () => {
      const cls = await market().locator('body').getAttribute('class');
      if (!cls?.split(/\s+/).includes('vscode-light')) throw new Error(`the body has class ${JSON.stringify(cls)}`);
    });
    const colour = await market()
      .locator('body')
      .evaluate(() => getComputedStyle(document.body).color);
    if (colour === 'rgb(204, 204, 204)') throw new Error('the text keeps the dark theme colour');
    await page.waitForTimeout(500);
    await shot('8-light');
  });
} catch (e) {
  console.log(`  ✖ e2e setup\n${e.stack ?? e}`);
  results.push({ name: 'setup', ok: false });
} finally {
  clearTimeout(watchdog);
  await browser?.close().catch(() => {});
  await server?.stop();
}
const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
console.log(`[e2e marketplace] ${Date.now() - t0} ms; screenshots in ${shots}`);
if (!failed) fs.rmSync(sandbox.root, { recursive: true, force: true });
else console.log(`[e2e marketplace] sandbox kept: ${sandbox.root}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
