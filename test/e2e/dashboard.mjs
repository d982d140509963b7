/* global getComputedStyle -- code inside evaluate() runs in the webview page */
// The dashboard as a person sees it: package the platform .vsix, install it into a fresh VS Code, open the
// workbench in headless Chromium, start a session of three tasks (two independent, one after both) with the
// demo model from the palette, open the dashboard and read it inside its webview (VS Code nests the page in
// two iframes): the session list, the task graph (3 nodes, 2 edges), the timeline (two bars overlap in
// time), a task's agent/model/attempt/elapsed and its transcript; light and high-contrast themes; Tab/Enter
// through the session list and the graph; after Developer: Reload Window the chosen session and task are
// back; a Reload Window while a session runs leaves it running to completion. Screenshots go to test-results/e2e-dash-*.png. Prints `N passed, N failed`; exit 0 only when all passed.
import fs from 'node:fs';
import path from 'node:path';
import { launchBrowser } from '../../tools/browser.mjs';
import { installVsix, makeSandbox, orchestratorLogTail, startCodeServer } from '../../tools/codeServer.mjs';
import { ensureVscode } from '../../tools/installVscode.mjs';
import { packageVsix, repoRoot } from '../../tools/vsix.mjs';
import { workbench } from './workbench.mjs';

const shots = path.join(repoRoot, 'test-results');
fs.mkdirSync(shots, { recursive: true });
const sandbox = makeSandbox('orch-e2e-dash-');
const results = [];
let server, browser, page, wb;
const t0 = Date.now();
const watchdog = setTimeout(
  () => {
    console.error(`[e2e dashboard] timed out; logs in ${sandbox.root}`);
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
    return;
  }
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`  ✔ ${name} (${Date.now() - t} ms)`);
  } catch (e) {
    results.push({ name, ok: false });
    console.log(`  ✖ ${name}\n${e.stack ?? e}\n--- the extension's log:\n${orchestratorLogTail(sandbox)}`);
    for (const dir of [shots, sandbox.root])
      await page?.screenshot({ path: path.join(dir, `e2e-dash-failure-${results.length}.png`) }).catch(() => {});
    if (wb) console.log(`--- the Output panel (Orchestrator: Show Logs):\n${await wb.outputText('Orchestrator: Show Logs')}`);
  }
}

const shot = (name) => page.screenshot({ path: path.join(shots, `e2e-dash-${name}.png`) });
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
/** The element focused inside the dashboard, described by its data attributes. */
const focused = () =>
  dash()
    .locator('#app')
    .evaluate(() => {
      const a = document.activeElement;
      return { task: a?.getAttribute('data-task') ?? null, session: a?.getAttribute('data-session') ?? null, tag: a?.tagName ?? null };
    });
/** Presses Tab inside the dashboard until `want(focused)` holds (at most `max` times). */
async function tabTo(want, max = 40) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const f = await focused();
    if (want(f)) return f;
  }
  throw new Error(`Tab never reached the wanted element; focus ended on ${JSON.stringify(await focused())}`);
}
/** Preferences: Color Theme from the palette, then a click on the theme; waits until the webview follows. */
async function setTheme(theme, bodyClass) {
  await page.keyboard.press('F1');
  await page.waitForSelector('.quick-input-widget input', { state: 'visible', timeout: 10_000 });
  await page.keyboard.type('Preferences: Color Theme');
  await page.locator('.quick-input-list .monaco-list-row[aria-label^="Preferences: Color Theme"]').first().click({ timeout: 10_000 });
  await page.waitForSelector('.quick-input-widget input', { state: 'visible', timeout: 10_000 });
  await page.keyboard.type(theme);
  await page.locator(`.quick-input-list .monaco-list-row[aria-label^="${theme}"]`).first().click({ timeout: 10_000 });
  await eventually(async () => {
    const cls = await dash().locator('body').getAttribute('class');
    if (!cls?.split(/\s+/).includes(bodyClass))
      throw new Error(`the dashboard's body has class ${JSON.stringify(cls)}, not ${bodyClass}, after choosing ${theme}`);
  });
  await page.waitForTimeout(500);
}

// Two independent tasks that stream slowly (so they visibly run side by side) and one after both.
const plan = [
  '- [alpha] Write alpha {files: alpha.txt}: [[script:slow_write alpha.txt 120]] alpha line',
  '- [beta] Write beta {files: beta.txt}: [[script:slow_write beta.txt 120]] beta line',
  '- [gamma] Join them (after: alpha, beta) {files: gamma.txt}: [[script:write_file gamma.txt]] gamma line',
].join(' ');
const later = '- [delta] A later session {files: delta.txt}: [[script:write_file delta.txt]] delta line';

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

  await check(
    'Start Session with a 3-task plan (two independent) and Open Dashboard: the session list shows it, live until completed',
    async () => {
      // Activate the extension as a person would: its activity-bar icon.
      await page.locator('.activitybar .action-item a[aria-label^="Orchestrator"]').click({ timeout: 30_000 });
      await wb.statusBar(/Orchestrator: ok/, 90_000);
      await wb.palette('Orchestrator: Start Session\u2026');
      await wb.answerInput(plan, { title: 'Start Session' });
      await wb.dialogButton('Run Plan');
      await wb.palette('Orchestrator: Open Dashboard');
      const item = dash().locator('#sessions li[data-session]', { hasText: '[alpha] Write alpha' });
      await item.waitFor({ timeout: 60_000 });
      if ((await item.getAttribute('aria-selected')) !== 'true') throw new Error('the only session is not the one shown');
      await dash().locator('#graph').scrollIntoViewIfNeeded();
      await shot('running');
      await dash().locator('#sessions li[data-session]', { hasText: 'completed' }).waitFor({ timeout: 180_000 });
      await eventually(async () => {
        const meta = await item.locator('.meta').innerText();
        if (!/completed · 3\/3 done/.test(meta)) throw new Error(`the list row says ${JSON.stringify(meta)}`);
      });
    },
  );
  if (results.some((r) => !r.ok)) gaveUp = 'the session or the dashboard did not come up';

  await check('the task graph shows 3 nodes coloured by state and 2 dependency edges', async () => {
    const nodes = dash().locator('#graph svg.dag g.node');
    await eventually(async () => {
      const n = await nodes.count();
      if (n !== 3) throw new Error(`${n} nodes`);
      const done = await dash().locator('#graph g.node.state-succeeded').count();
      if (done !== 3) throw new Error(`${done} of 3 nodes drawn as succeeded`);
    });
    const edges = await dash().locator('#graph svg.dag path.edge').count();
    if (edges !== 2) throw new Error(`${edges} edges, expected alpha→gamma and beta→gamma`);
    const labels = await nodes.evaluateAll((ns) => ns.map((n) => n.getAttribute('aria-label')));
    for (const id of ['alpha', 'beta', 'gamma'])
      if (!labels.some((l) => l.startsWith(`${id}:`))) throw new Error(`no node for ${id}: ${JSON.stringify(labels)}`);
    // gamma sits in the column after both of the tasks it depends on.
    const x = Object.fromEntries(
      await nodes.evaluateAll((ns) =>
        ns.map((n) => [n.getAttribute('aria-label').split(':')[0], Number(/translate\(([\d.]+)/.exec(n.getAttribute('transform'))[1])]),
      ),
    );
    if (!(x.gamma > x.alpha && x.gamma > x.beta && x.alpha === x.beta)) throw new Error(`node columns: ${JSON.stringify(x)}`);
  });

  await check('the timeline shows a bar per task and the two independent tasks overlap in time', async () => {
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
    if (bars.length !== 3) throw new Error(`${bars.length} bars: ${JSON.stringify(bars)}`);
    const bar = (title) => bars.find((b) => b.label.startsWith(title));
    const [a, b, g] = [bar('Write alpha'), bar('Write beta'), bar('Join them')];
    if (!a || !b || !g) throw new Error(`bars: ${JSON.stringify(bars)}`);
    const overlap = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
    if (overlap <= 0) throw new Error(`alpha and beta do not overlap: ${JSON.stringify({ a, b })}`);
    if (a.y === b.y) throw new Error('overlapping bars share a lane');
    if (g.x < Math.max(a.x + a.w, b.x + b.w) - 1) throw new Error(`gamma starts before its dependencies end: ${JSON.stringify(bars)}`);
    const peak = await dash().locator('#timeline svg.timeline').getAttribute('aria-label');
    if (!/peak 2 in parallel/.test(peak)) throw new Error(`timeline says ${peak}`);
  });

  await check('clicking a task shows its agent, model, attempt and elapsed time, and its transcript lines', async () => {
    await dash().locator('#graph g.node[aria-label^="alpha:"]').click();
    await dash().locator('#graph g.node.selected[aria-label^="alpha:"]').waitFor({ timeout: 10_000 });
    const facts = dash().locator('#task table.facts');
    await eventually(async () => {
      const text = await facts.innerText();
      for (const re of [/Agent\s+OpenCode/, /Model\s+\S+/, /Attempt\s+1 of \d/, /Elapsed\s+(\d+[hm] )*\d+s/, /State\s+done/])
        if (!re.test(text)) throw new Error(`task details lack ${re}: ${JSON.stringify(text)}`);
    });
    await eventually(async () => {
      const lines = await dash().locator('#transcript p.msg').allInnerTexts();
      if (!lines.some((l) => /Wrote alpha\.txt slowly/.test(l))) throw new Error(`transcript lines: ${JSON.stringify(lines)}`);
      const tools = await dash().locator('#transcript details.tool summary').allInnerTexts();
      if (!tools.some((t) => /alpha\.txt/.test(t))) throw new Error(`transcript tool calls: ${JSON.stringify(tools)}`);
    });
    await dash().locator('#task').scrollIntoViewIfNeeded();
    await shot('task');
    await dash().locator('#transcript').scrollIntoViewIfNeeded();
    await shot('transcript');
  });

  await check('light and high-contrast themes: the dashboard follows the theme and its text stays readable', async () => {
    for (const [theme, name, bodyClass] of [
      ['Dark Modern', 'dark', 'vscode-dark'],
      ['Dark High Contrast', 'high-contrast', 'vscode-high-contrast'],
      ['Light High Contrast', 'light-high-contrast', 'vscode-high-contrast-light'],
      ['Light Modern', 'light', 'vscode-light'],
    ]) {
      await setTheme(theme, bodyClass);
      await dash().locator('#graph').scrollIntoViewIfNeeded();
      const look = await dash()
        .locator('#app')
        .evaluate(() => {
          // The panel is painted with the editor background (the body itself is transparent).
          const probe = document.createElement('div');
          probe.style.color = 'var(--vscode-editor-background)';
          document.body.appendChild(probe);
          const bg = getComputedStyle(probe).color;
          probe.remove();
          const text = getComputedStyle(document.querySelector('#task td')).color;
          const node = getComputedStyle(document.querySelector('#graph g.node text')).fill;
          return { bg, text, node, kind: document.body.className };
        });
      const lum = (c) => {
        const [r, g, b] = (c.match(/[\d.]+/g) ?? []).map(Number);
        const f = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
        return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
      };
      const contrast = (a, b) => (Math.max(lum(a), lum(b)) + 0.05) / (Math.min(lum(a), lum(b)) + 0.05);
      const light = bodyClass === 'vscode-light' || bodyClass === 'vscode-high-contrast-light';
      if (light !== lum(look.bg) > 0.5) throw new Error(`${theme}: background ${look.bg} (${look.kind})`);
      for (const k of ['text', 'node'])
        if (contrast(look[k], look.bg) < 4.5)
          throw new Error(`${theme}: ${k} ${look[k]} on ${look.bg} has contrast ${contrast(look[k], look.bg).toFixed(1)}`);
      await shot(name);
    }
  });

  await check('keyboard: Tab reaches the session list and the graph nodes, Enter selects them', async () => {
    // A second session: the list has two rows, the newest first.
    await wb.palette('Orchestrator: Start Session\u2026');
    await wb.answerInput(later, { title: 'Start Session' });
    await wb.dialogButton('Run Plan');
    const rows = dash().locator('#sessions li[data-session]');
    await eventually(async () => {
      if ((await rows.count()) !== 2) throw new Error(`${await rows.count()} sessions listed`);
    }, 60_000);
    await dash().locator('#sessions li[data-session][aria-selected="true"]', { hasText: '[delta]' }).waitFor({ timeout: 30_000 });
    await dash().locator('#head h2').click();
    // Shift+Tab back to the list, then Tab forwards to the first session's row.
    await page.keyboard.press('Shift+Tab');
    const first = await rows.nth(1).getAttribute('data-session');
    const onRow = await tabTo((f) => f.session === first);
    await page.keyboard.press('Enter');
    await dash().locator(`#sessions li[data-session="${first}"][aria-selected="true"]`).waitFor({ timeout: 10_000 });
    await dash().locator('#graph g.node').nth(2).waitFor({ timeout: 10_000 });
    const betaId = await dash().locator('#graph g.node[aria-label^="beta:"]').getAttribute('data-task');
    await tabTo((f) => f.task === betaId);
    await page.keyboard.press('Enter');
    await dash().locator('#graph g.node.selected[aria-label^="beta:"]').waitFor({ timeout: 10_000 });
    await eventually(async () => {
      const head = await dash().locator('#task h3').innerText();
      if (!/^beta: Write beta/.test(head)) throw new Error(`task detail heading ${JSON.stringify(head)}`);
    });
    const f = await focused();
    if (f.task !== betaId) throw new Error(`focus moved away from the node after Enter: ${JSON.stringify(f)}`);
    console.log(`    (focus reached ${onRow.session} and ${betaId} by keyboard)`);
    await shot('keyboard');
  });

  await check('after Developer: Reload Window the dashboard is back with the chosen session and task', async () => {
    const chosen = await dash().locator('#sessions li[aria-selected="true"]').getAttribute('data-session');
    const t = Date.now();
    await wb.palette('Developer: Reload Window');
    await page.waitForSelector('.monaco-workbench .part.statusbar', { timeout: 60_000 });
    const reloaded = Date.now() - t;
    await dash().locator('#app').waitFor({ timeout: 60_000 });
    const shown = Date.now() - t;
    await dash().locator(`#sessions li[data-session="${chosen}"][aria-selected="true"]`).waitFor({ timeout: 60_000 });
    await dash().locator('#graph g.node.selected[aria-label^="beta:"]').waitFor({ timeout: 30_000 });
    const selected = Date.now() - t;
    await eventually(async () => {
      const lines = await dash().locator('#transcript p.msg').allInnerTexts();
      if (!lines.some((l) => /Wrote beta\.txt slowly/.test(l))) throw new Error(`transcript after reload: ${JSON.stringify(lines)}`);
    });
    console.log(
      `    (workbench back after ${reloaded} ms, dashboard page after ${shown} ms, session and task selected after ${selected} ms, transcript after ${Date.now() - t} ms)`,
    );
    await shot('restored');
  });

  const slow = '- [epsilon] Slow session {files: epsilon.txt}: [[script:slow_write epsilon.txt 2000]] epsilon line';
  await check(
    'Reload Window while a session runs: the session carries on (the restarted server recovers it) and the dashboard reattaches to it, live until completed',
    async () => {
      await wb.palette('Orchestrator: Start Session\u2026');
      await wb.answerInput(slow, { title: 'Start Session' });
      await wb.dialogButton('Run Plan');
      const item = dash().locator('#sessions li[data-session]', { hasText: '[epsilon] Slow session' });
      await item.waitFor({ timeout: 60_000 });
      await item.click();
      // Running, with its task's transcript streaming, before the reload.
      await eventually(async () => {
        const meta = await item.locator('.meta').innerText();
        if (!/running/.test(meta)) throw new Error(`before the reload the row says ${JSON.stringify(meta)}`);
      }, 60_000);
      const id = await item.getAttribute('data-session');
      await wb.palette('Developer: Reload Window');
      await page.waitForSelector('.monaco-workbench .part.statusbar', { timeout: 60_000 });
      const again = dash().locator(`#sessions li[data-session="${id}"]`);
      await again.waitFor({ timeout: 90_000 });
      const seen = [];
      await eventually(async () => {
        const meta = await again.locator('.meta').innerText();
        if (seen.at(-1) !== meta) seen.push(meta);
        if (/failed|cancelled/.test(meta)) throw new Error(`after the reload the session ended badly: ${JSON.stringify(seen)}`);
        if (!/completed · 1\/1 done/.test(meta)) throw new Error(`after the reload the row says ${JSON.stringify(seen)}`);
      }, 180_000);
      if ((await again.getAttribute('aria-selected')) !== 'true')
        throw new Error('the chosen session is no longer selected after the reload');
      console.log(`    (row after the reload: ${seen.join(' → ')})`);
      await shot('reload-while-running');
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
console.log(`[e2e dashboard] ${Date.now() - t0} ms; screenshots in ${shots}`);
if (!failed) fs.rmSync(sandbox.root, { recursive: true, force: true });
else console.log(`[e2e dashboard] sandbox kept: ${sandbox.root}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
