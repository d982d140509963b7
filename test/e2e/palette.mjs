// "As a person would": package the .vsix, install it into a fresh VS Code with --install-extension,
// open the workbench in headless Chromium, click the Orchestrator activity-bar icon, run commands from
// the palette (F1) and read what the user sees. Screenshots go to test-results/.
// Prints `N passed, N failed`; exit 0 only when all passed.
import fs from 'node:fs';
import path from 'node:path';
import { launchBrowser } from '../../tools/browser.mjs';
import { installVsix, makeSandbox, startCodeServer } from '../../tools/codeServer.mjs';
import { ensureVscode } from '../../tools/installVscode.mjs';
import { packageVsix, repoRoot } from '../../tools/vsix.mjs';

const shots = path.join(repoRoot, 'test-results');
fs.mkdirSync(shots, { recursive: true });
const sandbox = makeSandbox('orch-e2e-');
const results = [];
let server, browser, page;
const t0 = Date.now();
const watchdog = setTimeout(() => { console.error(`[e2e] timed out; logs in ${sandbox.root}`); process.exit(1); }, Number(process.env.TEST_TIMEOUT_MS ?? 240_000));

async function check(name, fn) {
  const t = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`  ✔ ${name} (${Date.now() - t} ms)`);
  } catch (e) {
    results.push({ name, ok: false });
    console.log(`  ✖ ${name}\n${e.stack ?? e}`);
    await page?.screenshot({ path: path.join(shots, `e2e-failure-${results.length}.png`) }).catch(() => {});
  }
}

async function palette(title, deadline = Date.now() + 60_000) {
  for (;;) {
    await page.keyboard.press('F1');
    await page.waitForSelector('.quick-input-widget input', { state: 'visible', timeout: 10_000 });
    await page.keyboard.type(title);
    try {
      await page.waitForSelector(`.quick-input-list .monaco-list-row[aria-label*="${title}"]`, { timeout: 5_000 });
      await page.keyboard.press('Enter');
      return;
    } catch (e) {
      await page.keyboard.press('Escape');
      if (Date.now() > deadline) throw e;
    }
  }
}

try {
  const vscode = ensureVscode();
  await check('the .vsix packages and installs with --install-extension', async () => {
    const vsix = packageVsix(path.join(sandbox.root, 'industrial-orchestrator.vsix'));
    installVsix(vscode, sandbox, vsix);
    const installed = fs.readdirSync(sandbox.extensions).filter((d) => d.startsWith('industrial-orchestrator.industrial-orchestrator-'));
    if (installed.length !== 1) throw new Error(`expected the extension in ${sandbox.extensions}, found ${fs.readdirSync(sandbox.extensions)}`);
    for (const f of ['dist/extension.js', 'dist/server.js', 'dist/webview/dashboard.js', 'media/orchestrator.svg']) {
      if (!fs.existsSync(path.join(sandbox.extensions, installed[0], f))) throw new Error(`${f} missing from the installed extension`);
    }
  });
  server = await startCodeServer(sandbox);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(server.url());
  await page.waitForSelector('.monaco-workbench .part.statusbar', { timeout: 60_000 });

  await check('the activity bar shows Orchestrator with its Agents and Sessions views', async () => {
    const icon = page.locator('.activitybar .action-item a[aria-label^="Orchestrator"]');
    await icon.waitFor({ timeout: 30_000 });
    await icon.click();
    await page.locator('.pane-header[aria-label^="Agents"]').first().waitFor({ timeout: 30_000 });
    await page.locator('.pane-header[aria-label^="Sessions"]').first().waitFor({ timeout: 30_000 });
    // The Agents view lists OpenCode (with the demo model); Sessions shows its welcome content.
    await page.locator('.pane-body .monaco-list-row', { hasText: 'OpenCode' }).first().waitFor({ timeout: 30_000 });
    await page.getByText('No sessions yet.').first().waitFor({ timeout: 30_000 });
    const bar = page.locator('.statusbar-item', { hasText: 'Orchestrator: ok' });
    await bar.first().waitFor({ timeout: 30_000 });
    await page.screenshot({ path: path.join(shots, 'e2e-sidebar.png') });
  });

  await check('Orchestrator: Open Dashboard from the palette shows live, healthy status', async () => {
    await palette('Orchestrator: Open Dashboard');
    const inner = page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
    const badge = inner.locator('#health[data-health="ok"]');
    await badge.waitFor({ timeout: 30_000 });
    const table = await inner.locator('#details table').innerText();
    if (!/pid \d+/.test(table) || !/store\.json/.test(table)) throw new Error(`dashboard details: ${table}`);
    await page.screenshot({ path: path.join(shots, 'e2e-dashboard.png') });
  });

  await check('the dashboard is restored after Developer: Reload Window', async () => {
    await palette('Developer: Reload Window');
    await page.waitForSelector('.monaco-workbench .part.statusbar', { timeout: 60_000 });
    const inner = page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
    await inner.locator('#health[data-health="ok"]').waitFor({ timeout: 60_000 });
    await page.screenshot({ path: path.join(shots, 'e2e-dashboard-restored.png') });
  });

  await check('Orchestrator: Show Server Status reports the health in a notification', async () => {
    await palette('Orchestrator: Show Server Status');
    const sel = '.notification-list-item-message';
    let note = await page.waitForSelector(`.notifications-toasts ${sel}`, { timeout: 5_000 }).catch(() => null);
    if (!note) {
      await palette('Notifications: Show Notifications');
      note = await page.waitForSelector(`.notifications-center ${sel}`, { timeout: 20_000 });
    }
    const text = await note.innerText();
    if (!/Orchestrator .*: ok\./.test(text)) throw new Error(`notification says: ${text}`);
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
console.log(`[e2e] ${Date.now() - t0} ms; screenshots in ${shots}`);
if (!failed) fs.rmSync(sandbox.root, { recursive: true, force: true });
else console.log(`[e2e] sandbox kept: ${sandbox.root}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
