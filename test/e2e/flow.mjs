// Issue 11's acceptance flows, as a person does them in real VS Code from the packaged .vsix (code-server +
// headless Chromium), with the demo model on the sample repository:
// 1. Start Session (a 3-task plan, two independent) → "Review and Edit…" → change one task's prompt in the
//    JSONC plan editor by typing → Approve Plan → the dashboard draws the DAG and a timeline where two tasks
//    overlap → a task's transcript streams while it runs → Review Changes opens the changes (diff) editor →
//    Apply from its title → the files on disk, one of them written by the EDITED prompt.
// 2. In a second session, a task that fails is retried alone and a running task is cancelled alone from the
//    dashboard's task details; the rest of the session (an independent task, the failed task's dependent)
//    runs to the end. Checked in the dashboard and in the Sessions tree.
// Screenshots go to test-results/e2e-flow-*.png. Prints `N passed, N failed`; exit 0 only when all passed.
import fs from 'node:fs';
import path from 'node:path';
import { launchBrowser } from '../../tools/browser.mjs';
import { installVsix, makeSandbox, orchestratorLogTail, startCodeServer } from '../../tools/codeServer.mjs';
import { ensureVscode } from '../../tools/installVscode.mjs';
import { packageVsix, repoRoot } from '../../tools/vsix.mjs';
import { workbench } from './workbench.mjs';

const shots = path.join(repoRoot, 'test-results');
fs.mkdirSync(shots, { recursive: true });
const sandbox = makeSandbox('orch-e2e-flow-');
const results = [];
let server, browser, page, wb;
const t0 = Date.now();
const watchdog = setTimeout(
  () => {
    console.error(`[e2e flow] timed out; logs in ${sandbox.root}`);
    process.exit(1);
  },
  Number(process.env.TEST_TIMEOUT_MS ?? 720_000),
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
      await page?.screenshot({ path: path.join(dir, `e2e-flow-failure-${results.length}.png`) }).catch(() => {});
    if (wb) console.log(`--- the Output panel (Orchestrator: Show Logs):\n${await wb.outputText('Orchestrator: Show Logs')}`);
    return false;
  }
}

const shot = (name) => page.screenshot({ path: path.join(shots, `e2e-flow-${name}.png`) });
/** The dashboard's document: the webview's outer iframe, then its active inner frame. */
const dash = () => page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
/** Polls `fn` (which throws while not yet true) until it passes or `timeout` ms pass; the last error is thrown. */
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
const node = (planId) => dash().locator(`#graph g.node[aria-label^="${planId}:"]`);
/** The state class of a task's node in the graph (`state-running` → `running`). */
const nodeState = async (planId) => /\bstate-([a-z_]+)/.exec((await node(planId).getAttribute('class', { timeout: 5_000 })) ?? '')?.[1];
async function waitNodeState(planId, want, timeout) {
  const seen = [];
  await eventually(async () => {
    const s = await nodeState(planId).catch(() => 'not drawn');
    if (seen.at(-1) !== s) seen.push(s);
    if (!want.test(s ?? '')) throw new Error(`task ${planId}'s node is ${seen.join(' → ')}, waiting for ${want}`);
  }, timeout);
}
const sessionRow = (text) => dash().locator('#sessions li[data-session]', { hasText: text });
async function waitSessionMeta(row, want, timeout) {
  const seen = [];
  await eventually(async () => {
    const meta = await row.locator('.meta').innerText({ timeout: 5_000 });
    if (seen.at(-1) !== meta) seen.push(meta);
    if (!want.test(meta)) throw new Error(`the session's row says ${seen.join(' → ')}, waiting for ${want}`);
  }, timeout);
}
/** The visible text of the active editor (Monaco renders spaces as no-break spaces). */
const editorText = async () =>
  (await page.locator('.part.editor .editor-instance .view-lines').first().innerText({ timeout: 5_000 })).replace(/\u00a0/g, ' ');
const disk = (f) => {
  const p = path.join(sandbox.workspace, f);
  return fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : undefined;
};

// Flow 1: alpha and beta are independent and stream slowly (so they visibly run side by side and a
// transcript can be watched live); gamma runs after both. Its prompt is edited before approval.
const plan = [
  '- [alpha] Write alpha {files: alpha.txt}: [[script:slow_write alpha.txt 400]] alpha line',
  '- [beta] Write beta {files: beta.txt}: [[script:slow_write beta.txt 400]] beta line',
  '- [gamma] Join them (after: alpha, beta) {files: gamma.txt}: [[script:write_file gamma.txt]] gamma line',
].join(' ');
const edited = 'gamma edited in review';

// Flow 2: `bad` fails until the test raises its counter to the limit, `after` depends on it, `slow` runs for ~3 minutes
// unless cancelled, `fine` is independent and must finish whatever happens to the others.
const counter = path.join(sandbox.root, 'bad-failures');
const control = [
  `- [bad] Flaky task {files: bad.txt}: [[script:fail_times ${counter} 1000 bad.txt]] bad fixed`,
  '- [after] After the flaky one (after: bad) {files: after.txt}: [[script:write_file after.txt]] after line',
  '- [slow] Long task {files: slow.txt}: [[script:slow 500 400]] slow',
  '- [fine] Independent task {files: fine.txt}: [[script:slow_write fine.txt 300]] fine line',
].join(' ');

try {
  const vscode = ensureVscode();
  await check('the .vsix packages and installs with --install-extension', async () => {
    installVsix(vscode, sandbox, packageVsix(path.join(sandbox.root, 'industrial-orchestrator.vsix')));
    const installed = fs.readdirSync(sandbox.extensions).filter((d) => d.startsWith('industrial-orchestrator.industrial-orchestrator-'));
    if (installed.length !== 1)
      throw new Error(`expected the extension in ${sandbox.extensions}, found ${fs.readdirSync(sandbox.extensions)}`);
  });
  server = await startCodeServer(sandbox);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  wb = workbench(page);
  await page.goto(server.url());
  await page.waitForSelector('.monaco-workbench .part.statusbar', { timeout: 60_000 });

  const planned = await check('Start Session → Review and Edit…: the plan opens in a JSONC editor with its three tasks', async () => {
    await page.locator('.activitybar .action-item a[aria-label^="Orchestrator"]').click({ timeout: 30_000 });
    await wb.statusBar(/Orchestrator: ok/, 90_000);
    await wb.palette('Orchestrator: Start Session\u2026');
    await wb.answerInput(plan, { title: 'Start Session' });
    await wb.dialogButton('Review and Edit\u2026');
    const tab = page.locator('.tabs-container .tab.active');
    await tab.waitFor({ timeout: 30_000 });
    await eventually(async () => {
      const text = await editorText();
      for (const s of ['// Plan of session', '"tasks"', '"alpha"', '"prompt"'])
        if (!text.includes(s)) throw new Error(`the plan editor lacks ${JSON.stringify(s)}: ${JSON.stringify(text.slice(0, 600))}`);
    });
    const mode = await page.locator('.statusbar-item[aria-label*="JSON"], .statusbar-item', { hasText: /JSON with Comments/ }).count();
    if (!mode) throw new Error('the plan editor is not in JSON with Comments mode (status bar)');
    await shot('1-plan-editor');
  });
  if (!planned) gaveUp = 'the plan editor did not open';

  const approved = await check(
    "edit gamma's prompt by typing in the plan editor, then Approve Plan: the session runs the edited plan",
    async () => {
      // Select the words with Find (Ctrl+F), close it (the match stays selected), type over the selection.
      await page.locator('.part.editor .editor-instance .view-lines').first().click();
      await page.keyboard.press('Control+f');
      await page.waitForSelector('.find-widget.visible textarea, .find-widget.visible input', { timeout: 10_000 });
      await page.keyboard.type('gamma line');
      await page.waitForTimeout(500);
      await page.keyboard.press('Escape');
      await page.keyboard.type(edited);
      await page.waitForTimeout(300);
      await eventually(async () => {
        const text = await editorText();
        if (!text.includes(edited) || text.includes('gamma line'))
          throw new Error(`after typing, the plan reads ${JSON.stringify(text.slice(0, 800))}`);
      });
      // The server's dry run judged the edited text: the CodeLens says no problems.
      // (Its line may be scrolled out of view: read the widget's text, visible or not.)
      await eventually(async () => {
        const lenses = (await page.locator('.codelens-decoration').allTextContents()).map((t) => t.replace(/\u00a0/g, ' '));
        if (!lenses.some((l) => l.includes('no problems found'))) throw new Error(`the plan's CodeLens says ${JSON.stringify(lenses)}`);
      }, 15_000);
      await shot('2-plan-edited');
      await page.locator('.part.editor .action-label[aria-label*="Approve Plan"]').first().click({ timeout: 10_000 });
      // The plan editor closes without asking to save.
      await eventually(async () => {
        const text = await page.locator('.part.editor').innerText();
        if (text.replace(/\u00a0/g, ' ').includes('// Plan of session'))
          throw new Error('the plan editor is still open after Approve Plan');
        if (await page.locator('.monaco-dialog-box').count()) throw new Error('a dialog asks something after Approve Plan');
      }, 15_000);
    },
  );

  if (!approved) gaveUp = 'the edited plan was not approved';

  await check('the dashboard shows the running session; a task\u2019s transcript streams while it runs', async () => {
    await wb.palette('Orchestrator: Open Dashboard');
    const row = sessionRow('[alpha] Write alpha');
    await row.waitFor({ timeout: 60_000 });
    if ((await row.getAttribute('aria-selected')) !== 'true') await row.click();
    await waitNodeState('alpha', /^running$/, 90_000);
    await node('alpha').click();
    await dash().locator('#graph g.node.selected[aria-label^="alpha:"]').waitFor({ timeout: 10_000 });
    // Live: transcript lines appear while the node is still running, and more come before it is done.
    const whileRunning = [];
    await eventually(async () => {
      const lines = await dash().locator('#transcript p.msg').allInnerTexts();
      const state = await nodeState('alpha');
      if (state === 'running') whileRunning.push(lines.join(' ').length);
      if (state === 'running' && whileRunning.length === 3) await shot('3-live-transcript');
      if (!lines.some((l) => /Wrote alpha\.txt slowly/.test(l))) throw new Error(`alpha (${state}) transcript: ${JSON.stringify(lines)}`);
    }, 90_000);
    const grew = whileRunning.filter((n, i) => i > 0 && n > whileRunning[i - 1]).length;
    if (!whileRunning.some((n) => n > 0) || grew < 1)
      throw new Error(`the transcript did not stream while alpha ran (text lengths seen while running: ${JSON.stringify(whileRunning)})`);
    const tools = await dash().locator('#transcript details.tool summary').allInnerTexts();
    if (!tools.some((t) => /alpha\.txt/.test(t))) throw new Error(`transcript tool calls: ${JSON.stringify(tools)}`);
    console.log(`    (transcript text while alpha ran grew ${grew} times: ${whileRunning.slice(0, 12).join(', ')}…)`);
    await dash().locator('#transcript').scrollIntoViewIfNeeded();
    await shot('4-transcript');
    await waitSessionMeta(row, /completed · 3\/3 done/, 180_000);
  });

  await check('the DAG has 3 nodes (all done) and 2 edges; the timeline shows alpha and beta overlapping', async () => {
    const nodes = dash().locator('#graph svg.dag g.node');
    await eventually(async () => {
      if ((await nodes.count()) !== 3) throw new Error(`${await nodes.count()} nodes`);
      const done = await dash().locator('#graph g.node.state-succeeded').count();
      if (done !== 3) throw new Error(`${done} of 3 nodes drawn as succeeded`);
    });
    const edges = await dash().locator('#graph svg.dag path.edge').count();
    if (edges !== 2) throw new Error(`${edges} edges, expected alpha→gamma and beta→gamma`);
    const bars = await dash()
      .locator('#timeline svg.timeline rect.bar.run')
      .evaluateAll((rs) =>
        rs.map((r) => ({
          label: r.getAttribute('aria-label'),
          x: Number(r.getAttribute('x')),
          w: Number(r.getAttribute('width')),
          y: Number(r.getAttribute('y')),
        })),
      );
    const bar = (title) => bars.find((b) => b.label.startsWith(title));
    const [a, b, g] = [bar('Write alpha'), bar('Write beta'), bar('Join them')];
    if (bars.length !== 3 || !a || !b || !g) throw new Error(`timeline bars: ${JSON.stringify(bars)}`);
    const overlap = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
    if (overlap <= 0 || a.y === b.y) throw new Error(`alpha and beta do not overlap on separate lanes: ${JSON.stringify({ a, b })}`);
    if (g.x < Math.max(a.x + a.w, b.x + b.w) - 1) throw new Error(`gamma starts before its dependencies end: ${JSON.stringify(bars)}`);
    const peak = await dash().locator('#timeline svg.timeline').getAttribute('aria-label');
    if (!/peak 2 in parallel/.test(peak)) throw new Error(`timeline says ${peak}`);
    await dash().locator('#graph').scrollIntoViewIfNeeded();
    await shot('5-dag');
    await dash().locator('#timeline').scrollIntoViewIfNeeded();
    await shot('6-timeline');
  });

  await check('Review Changes opens the changes editor with a diff of each file; gamma.txt shows the edited prompt', async () => {
    await wb.palette('Orchestrator: Review Changes');
    // The palette asks which session (the only one with changes is listed).
    await page.locator('.quick-input-widget', { hasText: 'Review Changes' }).waitFor({ state: 'visible', timeout: 15_000 });
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'alpha' }).first().click({ timeout: 10_000 });
    const tab = page.locator('.tabs-container .tab.active');
    await eventually(async () => {
      const title = await tab.innerText();
      if (!/^Review:/.test(title.trim())) throw new Error(`the active tab is ${JSON.stringify(title)}`);
    }, 30_000);
    const editor = page.locator('.part.editor .editor-instance').filter({ has: page.locator('.monaco-diff-editor') });
    await editor.first().waitFor({ state: 'visible', timeout: 30_000 });
    await eventually(async () => {
      const text = (await page.locator('.part.editor').innerText()).replace(/\u00a0/g, ' ');
      for (const f of ['alpha.txt', 'beta.txt', 'gamma.txt'])
        if (!text.includes(f)) throw new Error(`the changes editor does not list ${f}: ${JSON.stringify(text.slice(0, 600))}`);
      if (!text.includes(edited))
        throw new Error(`the changes editor does not show gamma's edited content: ${JSON.stringify(text.slice(0, 800))}`);
    }, 30_000);
    await shot('7-review-changes');
  });

  await check(
    'Apply (from the review\u2019s editor title when it shows the button, else the dashboard): the workspace files on disk, gamma.txt from the edited prompt',
    async () => {
      const before = { alpha: disk('alpha.txt'), gamma: disk('gamma.txt') };
      if (before.alpha !== undefined || before.gamma !== undefined) throw new Error(`files exist before Apply: ${JSON.stringify(before)}`);
      // Apply Session Changes in the review's editor title; where the web workbench does not show it there
      // (seen with the multi-file changes editor), the dashboard's Apply Changes, and the run says so.
      const fromTitle = page.locator('.part.editor .action-label[aria-label*="Apply Session Changes"]').first();
      if (
        await fromTitle.waitFor({ state: 'visible', timeout: 10_000 }).then(
          () => true,
          () => false,
        )
      )
        await fromTitle.click();
      else {
        const shown = await page
          .locator('.part.editor .action-label[aria-label]')
          .evaluateAll((ls) => ls.map((l) => l.getAttribute('aria-label')));
        console.log(
          `    (the review's editor title shows no Apply Session Changes button, only ${JSON.stringify(shown)}: applying from the dashboard)`,
        );
        await wb.palette('Orchestrator: Open Dashboard');
        await dash().locator('#head vscode-button[data-command="applySession"]').click({ timeout: 15_000 });
      }
      await wb.notification(/Applied 3 file\(s\)/, 30_000);
      const files = { alpha: disk('alpha.txt'), beta: disk('beta.txt'), gamma: disk('gamma.txt') };
      const want = { alpha: 'alpha line\n', beta: 'beta line\n', gamma: `${edited}\n` };
      if (JSON.stringify(files) !== JSON.stringify(want))
        throw new Error(`workspace files after Apply: ${JSON.stringify(files)}; expected ${JSON.stringify(want)}`);
      await shot('8-applied');
    },
  );
  if (results.some((r) => !r.ok)) console.log('    (flow 1 had failures; flow 2 runs anyway)');
  gaveUp = undefined;

  const row2 = sessionRow('[bad] Flaky task');
  await check('Cancel Task on a running task in the dashboard cancels it alone; the others go on', async () => {
    await wb.palette('Orchestrator: Start Session\u2026');
    await wb.answerInput(control, { title: 'Start Session' });
    await wb.dialogButton('Run Plan');
    await wb.palette('Orchestrator: Open Dashboard');
    await row2.waitFor({ timeout: 60_000 });
    if ((await row2.getAttribute('aria-selected')) !== 'true') await row2.click();
    await waitNodeState('slow', /^running$/, 120_000);
    await node('slow').click();
    await dash().locator('#graph g.node.selected[aria-label^="slow:"]').waitFor({ timeout: 10_000 });
    await dash().locator('#task-actions vscode-button[data-command="cancelTask"]').click({ timeout: 10_000 });
    await waitNodeState('slow', /^cancelled$/, 30_000);
    const others = { fine: await nodeState('fine'), bad: await nodeState('bad'), after: await nodeState('after') };
    if (['fine', 'bad', 'after'].some((k) => others[k] === 'cancelled'))
      throw new Error(`cancelling slow cancelled others too: ${JSON.stringify(others)}`);
    const meta = await row2.locator('.meta').innerText();
    if (!/running/.test(meta)) throw new Error(`after cancelling one task the session row says ${JSON.stringify(meta)}`);
    await dash().locator('#task').scrollIntoViewIfNeeded();
    await shot('9-cancelled-task');
  });

  await check('a task that fails shows its error in the dashboard; its dependent does not run', async () => {
    await waitNodeState('bad', /^failed$/, 180_000);
    await node('bad').click();
    await dash().locator('#graph g.node.selected[aria-label^="bad:"]').waitFor({ timeout: 10_000 });
    await eventually(async () => {
      const facts = await dash().locator('#task table.facts').innerText();
      if (!/State\s+failed/.test(facts) || !/Last error\s+\S/.test(facts)) throw new Error(`bad's details: ${JSON.stringify(facts)}`);
    });
    const after = await nodeState('after');
    if (!/^(pending|skipped)$/.test(after)) throw new Error(`after (depends on bad) is ${after}`);
    await dash().locator('#task').scrollIntoViewIfNeeded();
    await shot('10-failed-task');
  });

  await check('Retry Task on the failed task in the dashboard runs it again alone; its dependent then runs', async () => {
    // The model stops failing that task from now on (the test owns the scripted failure counter).
    fs.writeFileSync(counter, '1000\n');
    await node('bad').click();
    await dash().locator('#graph g.node.selected[aria-label^="bad:"]').waitFor({ timeout: 10_000 });
    await dash().locator('#task-actions vscode-button[data-command="retryTask"]').click({ timeout: 10_000 });
    await waitNodeState('bad', /^(ready|running|succeeded)$/, 30_000);
    await waitNodeState('bad', /^succeeded$/, 120_000);
    await waitNodeState('after', /^succeeded$/, 120_000);
    await waitNodeState('fine', /^succeeded$/, 60_000);
    const slow = await nodeState('slow');
    if (slow !== 'cancelled') throw new Error(`slow is ${slow} after the retry, not still cancelled`);
    await waitSessionMeta(row2, /partly completed · 3\/4 done/, 60_000);
    await dash().locator('#graph').scrollIntoViewIfNeeded();
    await shot('11-retried-task');
  });

  await check('the Sessions tree agrees: bad, after and fine done, slow cancelled', async () => {
    // The activity-bar icon toggles its side bar: click it only when the Sessions view is not shown. Its
    // badge (a draft waits for the user) covers part of the icon, hence force.
    if (!(await page.locator('.pane-header[aria-label^="Sessions"]').first().isVisible()))
      await page.locator('.activitybar .action-item a[aria-label^="Orchestrator"]').click({ timeout: 10_000, force: true });
    const session = page.locator('.pane-body .monaco-list-row[aria-expanded]', { hasText: 'Flaky task' }).first();
    await session.waitFor({ timeout: 30_000 });
    if ((await session.getAttribute('aria-expanded')) !== 'true') await session.click();
    const want = { '[bad]': /^done/, '[after]': /^done/, '[fine]': /^done/, '[slow]': /^cancelled/ };
    await eventually(async () => {
      for (const [label, re] of Object.entries(want)) {
        const r = page
          .locator('.pane-body .monaco-list-row')
          .filter({ has: page.locator('.label-name', { hasText: new RegExp(`^\\s*${label.replace(/[[\]]/g, '\\$&')}`) }) })
          .first();
        const desc = await r.locator('.label-description').innerText({ timeout: 5_000 });
        if (!re.test(desc)) throw new Error(`the Sessions tree row ${label} says ${JSON.stringify(desc)}`);
      }
    }, 30_000);
    await shot('12-sessions-tree');
    const files = { bad: disk('bad.txt'), fine: disk('fine.txt') };
    if (files.bad !== undefined || files.fine !== undefined)
      throw new Error(`the second session wrote into the workspace before Apply: ${JSON.stringify(files)}`);
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
console.log(`[e2e flow] ${Date.now() - t0} ms; screenshots in ${shots}`);
if (!failed) fs.rmSync(sandbox.root, { recursive: true, force: true });
else console.log(`[e2e flow] sandbox kept: ${sandbox.root}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
