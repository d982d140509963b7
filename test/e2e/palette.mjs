// "As a person would": package the platform .vsix, install it into a fresh VS Code with
// --install-extension, open the workbench in headless Chromium, click the Orchestrator activity-bar icon,
// run commands from the palette (F1) and read what the user sees. Only the installed .vsix runs: no
// repository path reaches VS Code. Then the agent's binary is removed from the installed extension, and
// the Agents view, the status bar and a notification must say so; setting orchestrator.opencode.path
// through the notification's Open Setting makes it ready again without a manual restart.
// Screenshots go to test-results/. Prints `N passed, N failed`; exit 0 only when all passed.
import fs from 'node:fs';
import path from 'node:path';
import { launchBrowser } from '../../tools/browser.mjs';
import { installVsix, makeSandbox, orchestratorLogTail, startCodeServer } from '../../tools/codeServer.mjs';
import { ensureVscode } from '../../tools/installVscode.mjs';
import { opencodePackageFor, currentTarget, packageVsix, repoRoot } from '../../tools/vsix.mjs';
import { workbench } from './workbench.mjs';

const shots = path.join(repoRoot, 'test-results');
fs.mkdirSync(shots, { recursive: true });
const sandbox = makeSandbox('orch-e2e-');
const results = [];
let server, browser, page, wb, installedDir;
const t0 = Date.now();
const watchdog = setTimeout(
  () => {
    console.error(`[e2e] timed out; logs in ${sandbox.root}`);
    process.exit(1);
  },
  Number(process.env.TEST_TIMEOUT_MS ?? 600_000),
);
const bundledBinary = () => path.join(installedDir, 'dist', 'node_modules', opencodePackageFor(currentTarget()), 'bin', 'opencode');

async function check(name, fn) {
  const t = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`  ✔ ${name} (${Date.now() - t} ms)`);
  } catch (e) {
    results.push({ name, ok: false });
    console.log(`  ✖ ${name}\n${e.stack ?? e}\n--- the extension's log:\n${orchestratorLogTail(sandbox)}`);
    // Kept with the sandbox (CI keeps it under /tmp; test-results/ goes with the clone).
    for (const dir of [shots, sandbox.root])
      await page?.screenshot({ path: path.join(dir, `e2e-failure-${results.length}.png`) }).catch(() => {});
    if (wb) console.log(`--- the Output panel (Orchestrator: Show Logs):\n${await wb.outputText('Orchestrator: Show Logs')}`);
  }
}

const palette = (title) => wb.palette(title);

try {
  const vscode = ensureVscode();
  await check('the .vsix packages and installs with --install-extension', async () => {
    const vsix = packageVsix(path.join(sandbox.root, 'industrial-orchestrator.vsix'));
    installVsix(vscode, sandbox, vsix);
    const installed = fs.readdirSync(sandbox.extensions).filter((d) => d.startsWith('industrial-orchestrator.industrial-orchestrator-'));
    if (installed.length !== 1)
      throw new Error(`expected the extension in ${sandbox.extensions}, found ${fs.readdirSync(sandbox.extensions)}`);
    installedDir = path.join(sandbox.extensions, installed[0]);
    for (const f of ['dist/extension.js', 'dist/server.js', 'dist/webview/dashboard.js', 'media/orchestrator.svg']) {
      if (!fs.existsSync(path.join(installedDir, f))) throw new Error(`${f} missing from the installed extension`);
    }
    // The platform build carries its agent, executable, and nothing else from node_modules.
    fs.accessSync(bundledBinary(), fs.constants.X_OK);
    const files = fs
      .readdirSync(installedDir, { recursive: true })
      .map(String)
      .filter((f) => fs.statSync(path.join(installedDir, f)).isFile());
    const modules = files.filter((f) => f.split(path.sep).includes('node_modules'));
    const expected = [
      `dist/node_modules/${opencodePackageFor(currentTarget())}/bin/opencode`,
      `dist/node_modules/${opencodePackageFor(currentTarget())}/package.json`,
    ];
    if (JSON.stringify(modules.sort()) !== JSON.stringify(expected.sort()))
      throw new Error(`node_modules files in the .vsix: ${JSON.stringify(modules)}`);
    if (files.length > 40) throw new Error(`the .vsix carries ${files.length} files: ${files.join(', ')}`);
  });
  server = await startCodeServer(sandbox);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  wb = workbench(page);
  await page.goto(server.url());
  await page.waitForSelector('.monaco-workbench .part.statusbar', { timeout: 60_000 });

  await check('the activity bar shows Orchestrator with its Agents and Sessions views', async () => {
    const icon = page.locator('.activitybar .action-item a[aria-label^="Orchestrator"]');
    await icon.waitFor({ timeout: 30_000 });
    await icon.click();
    await page.locator('.pane-header[aria-label^="Agents"]').first().waitFor({ timeout: 30_000 });
    await page.locator('.pane-header[aria-label^="Sessions"]').first().waitFor({ timeout: 30_000 });
    // The Agents view lists OpenCode, ready only once its bundled binary answered; Sessions shows its welcome content.
    await wb.row('OpenCode', 'ready').waitFor({ timeout: 60_000 });
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
    const table = await inner.locator('#details table').textContent();
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

  const helloGoal = '- [hello] Hello {files: hello.txt}: [[script:write_file hello.txt]] hello from the palette';
  await check('Start Session from the palette with the demo model completes, and Apply writes the file into the workspace', async () => {
    await palette('Notifications: Clear All Notifications').catch(() => undefined);
    await palette('Orchestrator: Start Session\u2026');
    await wb.answerInput(helloGoal, { title: 'Start Session' });
    await wb.dialogButton('Run Plan');
    const session = wb.row('- [hello] Hello', 'completed');
    await session.waitFor({ timeout: 180_000 });
    await page.screenshot({ path: path.join(shots, 'e2e-session-completed.png') });
    if (fs.existsSync(path.join(sandbox.workspace, 'hello.txt'))) throw new Error('hello.txt was written before Apply');
    await wb.inlineAction(session, 'Apply Session Changes');
    await wb.notification(/Applied 1 file\(s\) to your working tree/);
    const text = fs.readFileSync(path.join(sandbox.workspace, 'hello.txt'), 'utf8');
    if (text.split('\n')[0] !== 'hello from the palette') throw new Error(`hello.txt says ${JSON.stringify(text)}`);
  });

  await check(
    'with the binary removed from the installed extension: the Agents view, the status bar and a notification say OpenCode is unavailable and why; a session waits and nothing is retried',
    async () => {
      fs.rmSync(bundledBinary());
      await palette('Notifications: Clear All Notifications').catch(() => undefined);
      const t = Date.now();
      await palette('Orchestrator: Restart Server');
      await wb.statusBar(/Orchestrator: OpenCode unavailable/, 30_000);
      await wb.row('OpenCode', 'unavailable: not installed').waitFor({ timeout: 30_000 });
      const seen = (Date.now() - t) / 1000;
      const note = await wb.notification(/OpenCode is unavailable: .*orchestrator\.opencode\.path/, 30_000);
      console.log(
        `    (status bar and Agents view after ${seen.toFixed(1)} s, notification after ${((Date.now() - t) / 1000).toFixed(1)} s, server restart included)`,
      );
      if (seen > 30) throw new Error(`the status bar and the Agents view took ${seen} s`);
      for (const b of ['Open Setting', 'Show Logs'])
        await note.locator('.monaco-button', { hasText: b }).first().waitFor({ timeout: 5_000 });
      await page.screenshot({ path: path.join(shots, 'e2e-agent-unavailable.png') });

      await palette('Orchestrator: Start Session\u2026');
      await wb.answerInput('- [again] Again {files: again.txt}: [[script:write_file again.txt]] written after the fix', {
        title: 'Start Session',
      });
      await wb.dialogButton('Run Plan');
      const waiting = wb.row('- [again] Again', 'waiting for you');
      await waiting.waitFor({ timeout: 60_000 });
      // Expand it: its task waits ready (not failed, not retried).
      if ((await waiting.getAttribute('aria-expanded')) === 'false') await waiting.click();
      await wb.row('[again] Again', 'ready').waitFor({ timeout: 10_000 });
      // Nothing was burnt: no failure counted against the agent.
      await page.waitForTimeout(3000);
      await wb.row('OpenCode', 'unavailable', '✗0').waitFor({ timeout: 5_000 });
    },
  );

  await check(
    'setting orchestrator.opencode.path from the notification makes OpenCode ready without a manual restart, and the waiting session completes',
    async () => {
      const note = await wb.notification(/OpenCode is unavailable/, 10_000);
      await note.locator('.monaco-button', { hasText: 'Open Setting' }).first().click();
      const input = page.locator('.settings-editor .setting-item', { hasText: 'Path to an' }).locator('input').first();
      await input.waitFor({ state: 'visible', timeout: 30_000 });
      await input.fill(path.join(repoRoot, 'node_modules', opencodePackageFor(currentTarget()), 'bin', 'opencode'));
      await page.keyboard.press('Tab');
      await wb.notification(/Orchestrator settings changed; server restarted\./, 60_000);
      await wb.statusBar(/Orchestrator: ok/, 60_000);
      await wb.row('OpenCode', 'ready').waitFor({ timeout: 60_000 });
      await page.screenshot({ path: path.join(shots, 'e2e-agent-ready-again.png') });
      await wb.inlineAction(wb.row('- [again] Again', 'waiting for you'), 'Approve Session');
      const done = wb.row('- [again] Again', 'completed');
      await done.waitFor({ timeout: 180_000 });
      await wb.inlineAction(done, 'Apply Session Changes');
      await wb.notification(/Applied 1 file\(s\)/);
      const text = fs.readFileSync(path.join(sandbox.workspace, 'again.txt'), 'utf8');
      if (text.split('\n')[0] !== 'written after the fix') throw new Error(`again.txt says ${JSON.stringify(text)}`);
    },
  );
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
