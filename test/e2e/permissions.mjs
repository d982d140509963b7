// Issue 11's acceptance line "A permission ask answered 'Always for this session' is not asked again in that
// session", as a person does it in real VS Code from the packaged .vsix (code-server + headless Chromium),
// with the demo model on the sample repository: a session of two tasks in sequence (b after a) whose prompts
// run the SAME command that the policy asks about (a redirection to a file). The notification for a's ask:
// "Details…" opens a read-only document showing the command; then "Always for this session". While b runs
// the same command no notification asks again; b succeeds, the dashboard's transcripts say who allowed each
// (the user for a, the session's memory for b), and after Apply the file holds both tasks' lines.
// Screenshots go to test-results/e2e-permissions-*.png. Prints `N passed, N failed`; exit 0 only when all passed.
import fs from 'node:fs';
import path from 'node:path';
import { launchBrowser } from '../../tools/browser.mjs';
import { installVsix, makeSandbox, orchestratorLogTail, startCodeServer } from '../../tools/codeServer.mjs';
import { ensureVscode } from '../../tools/installVscode.mjs';
import { packageVsix, repoRoot } from '../../tools/vsix.mjs';
import { workbench } from './workbench.mjs';

const shots = path.join(repoRoot, 'test-results');
fs.mkdirSync(shots, { recursive: true });
const sandbox = makeSandbox('orch-e2e-permissions-');
const results = [];
let server, browser, page, wb;
const t0 = Date.now();
const watchdog = setTimeout(
  () => {
    console.error(`[e2e permissions] timed out; logs in ${sandbox.root}`);
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
      await page?.screenshot({ path: path.join(dir, `e2e-permissions-failure-${results.length}.png`) }).catch(() => {});
    return false;
  }
}

const shot = (name) => page.screenshot({ path: path.join(shots, `e2e-permissions-${name}.png`) });
/** The dashboard's document: the webview's outer iframe, then its active inner frame. */
const dash = () => page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
/** Polls `fn` (which throws while not yet true) until it passes or `timeout` ms pass; the last error is thrown (at once when marked `final`). */
async function eventually(fn, timeout = 30_000) {
  const end = Date.now() + timeout;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (e.final || Date.now() > end) throw e;
      await page.waitForTimeout(250);
    }
  }
}
const node = (planId) => dash().locator(`#graph g.node[aria-label^="${planId}:"]`);
const nodeState = async (planId) => /\bstate-([a-z_]+)/.exec((await node(planId).getAttribute('class', { timeout: 5_000 })) ?? '')?.[1];
/** The visible text of the active editor (Monaco renders spaces as no-break spaces). */
const editorText = async () =>
  (await page.locator('.part.editor .editor-instance .view-lines').first().innerText({ timeout: 5_000 })).replace(/\u00a0/g, ' ');
/** The messages of every notification shown (toasts and the Notification Center). */
const notificationTexts = () =>
  page
    .locator('.notification-list-item-message')
    .allInnerTexts()
    .catch(() => []);
/** The transcript's permission lines of a task, read in the dashboard after selecting its node. */
async function permissionLines(planId) {
  await node(planId).click({ timeout: 10_000 });
  await dash().locator(`#graph g.node.selected[aria-label^="${planId}:"]`).waitFor({ timeout: 10_000 });
  return eventually(async () => {
    const lines = await dash().locator('#transcript p.perm').allInnerTexts();
    if (!lines.some((l) => /Permission (allowed|denied)/.test(l)))
      throw new Error(`${planId}'s transcript permission lines: ${JSON.stringify(lines)}`);
    return lines;
  }, 20_000);
}

// The command the policy asks about (a redirection to a file is never allowed without asking) and can
// remember; the very same line in both tasks. It appends, so the applied file shows how many times it ran.
const command = 'echo ran >> perm.txt';
const plan = [
  `- [a] First append {files: perm.txt}: [[script:bash]] ${command}`,
  `- [b] Second append (after: a) {files: perm.txt}: [[script:bash]] ${command}`,
].join(' ');
const asks = /asks for "bash": echo ran >> perm\.txt/;

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

  const asked = await check('task a asks in a notification with the four buttons', async () => {
    await page.locator('.activitybar .action-item a[aria-label^="Orchestrator"]').click({ timeout: 30_000 });
    await wb.statusBar(/Orchestrator: ok/, 90_000);
    await wb.palette('Orchestrator: Start Session\u2026');
    await wb.answerInput(plan, { title: 'Start Session' });
    await wb.dialogButton('Run Plan');
    const note = await wb.notification(asks, 120_000);
    const buttons = await note.locator('.monaco-button').allInnerTexts();
    for (const b of ['Allow once', 'Always for this session', 'Deny', 'Details\u2026'])
      if (!buttons.includes(b)) throw new Error(`the ask's buttons are ${JSON.stringify(buttons)}, missing ${b}`);
    await shot('1-ask');
  });
  if (!asked) gaveUp = 'task a did not ask';

  await check('"Details…" on the ask opens a read-only document showing the command', async () => {
    const note = await wb.notification(asks, 10_000);
    await note.locator('.monaco-button', { hasText: 'Details\u2026' }).first().click();
    const tab = page.locator('.tabs-container .tab.active');
    await eventually(async () => {
      const title = (await tab.innerText({ timeout: 5_000 })).replace(/\s+/g, '');
      if (!/^permission-\d+-bash\.md/.test(title)) throw new Error(`the active tab is ${JSON.stringify(title)}`);
      const text = await editorText();
      for (const s of ['# Permission asked: bash', command, 'a redirection to perm.txt'])
        if (!text.includes(s)) throw new Error(`the details document lacks ${JSON.stringify(s)}: ${JSON.stringify(text.slice(0, 800))}`);
    }, 30_000);
    // Read-only: typing into it changes nothing.
    const before = await editorText();
    await page.locator('.part.editor .editor-instance .view-lines').first().click();
    await page.keyboard.type('XYZZY');
    await page.waitForTimeout(500);
    const after = await editorText();
    if (after !== before || after.includes('XYZZY'))
      throw new Error(`the details document took typing: ${JSON.stringify(after.slice(0, 400))}`);
    await shot('2-details');
  });

  await check('"Always for this session" on a\'s ask: b runs the same command without a second ask and succeeds', async () => {
    // The same ask is offered again after "Details…".
    const note = await wb.notification(asks, 30_000);
    await note.locator('.monaco-button', { hasText: 'Always for this session' }).first().click({ timeout: 10_000 });
    await eventually(async () => {
      const open = (await notificationTexts()).filter((t) => asks.test(t));
      if (open.length) throw new Error(`the ask is still shown after answering: ${JSON.stringify(open)}`);
    }, 10_000);
    await wb.palette('Orchestrator: Open Dashboard');
    const row = dash().locator('#sessions li[data-session]', { hasText: 'First append' });
    await row.waitFor({ timeout: 60_000 });
    if ((await row.getAttribute('aria-selected')) !== 'true') await row.click();
    // While b runs (until the session ends), watch for any notification that asks again.
    const seen = [];
    await eventually(async () => {
      const again = (await notificationTexts()).filter((t) => asks.test(t));
      if (again.length) {
        await shot('3-asked-again');
        throw Object.assign(new Error(`b's same command was asked again: ${JSON.stringify(again)}`), { final: true });
      }
      const s = `a ${await nodeState('a').catch(() => '?')}, b ${await nodeState('b').catch(() => '?')}`;
      if (seen.at(-1) !== s) seen.push(s);
      if (!/b (succeeded|failed|cancelled|skipped)/.test(s)) throw new Error(`waiting for b to end: ${seen.join(' → ')}`);
    }, 180_000);
    const meta = await row.locator('.meta').innerText();
    if (!/completed · 2\/2 done/.test(meta)) throw new Error(`the session's row says ${JSON.stringify(meta)} (tasks: ${seen.join(' → ')})`);
    // A second bounded look: nothing asked after b ended either.
    await page.waitForTimeout(2_000);
    const late = (await notificationTexts()).filter((t) => asks.test(t));
    if (late.length) throw new Error(`an ask appeared after b ended: ${JSON.stringify(late)}`);
  });

  await check("the transcripts say who allowed it: the user for a, the session's memory for b", async () => {
    const a = await permissionLines('a');
    if (!a.some((l) => /Permission allowed \(allowed by the user for this session\)/.test(l)))
      throw new Error(`a's transcript permission lines: ${JSON.stringify(a)}`);
    const b = await permissionLines('b');
    if (!b.some((l) => /Permission allowed \(remembered for this session\)/.test(l)) || b.some((l) => /by the user/.test(l)))
      throw new Error(`b's transcript permission lines: ${JSON.stringify(b)}`);
    await dash().locator('#transcript').scrollIntoViewIfNeeded();
    await shot('4-b-remembered');
  });

  await check('Apply Changes: perm.txt on disk holds the line of both runs', async () => {
    const file = path.join(sandbox.workspace, 'perm.txt');
    if (fs.existsSync(file)) throw new Error(`perm.txt exists before Apply: ${JSON.stringify(fs.readFileSync(file, 'utf8'))}`);
    await dash().locator('#head vscode-button[data-command="applySession"]').click({ timeout: 15_000 });
    await wb.notification(/Applied 1 file\(s\)/, 30_000);
    const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
    if (text !== 'ran\nran\n') throw new Error(`perm.txt after Apply: ${JSON.stringify(text)}; expected both tasks' lines`);
    await shot('5-applied');
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
console.log(`[e2e permissions] ${Date.now() - t0} ms; screenshots in ${shots}`);
if (!failed) fs.rmSync(sandbox.root, { recursive: true, force: true });
else console.log(`[e2e permissions] sandbox kept: ${sandbox.root}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
