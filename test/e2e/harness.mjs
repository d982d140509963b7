// The shared frame of an e2e script: a sandbox, a watchdog, named checks (each a pass or a failure with
// the extension's log and a screenshot), screenshots in test-results/, `eventually` with a deadline, the
// packaged .vsix in code-server + headless Chromium, and the closing summary (`N passed, N failed`).
import fs from 'node:fs';
import path from 'node:path';
import { launchBrowser } from '../../tools/browser.mjs';
import { installVsix, makeSandbox, orchestratorLogTail, startCodeServer } from '../../tools/codeServer.mjs';
import { ensureVscode } from '../../tools/installVscode.mjs';
import { packageVsix, repoRoot } from '../../tools/vsix.mjs';
import { workbench } from './workbench.mjs';

/**
 * `label` names the script in its output; `prefix` its sandbox folder and screenshot files; `timeoutMs` is the
 * whole script's deadline (TEST_TIMEOUT_MS overrides it).
 */
export function e2eHarness(label, prefix, { timeoutMs = 600_000 } = {}) {
  const shots = path.join(repoRoot, 'test-results');
  fs.mkdirSync(shots, { recursive: true });
  const sandbox = makeSandbox(`orch-e2e-${prefix}-`);
  const results = [];
  const t0 = Date.now();
  const h = { sandbox, shots, page: undefined, wb: undefined, server: undefined, browser: undefined, gaveUp: undefined };
  const watchdog = setTimeout(
    () => {
      console.error(`[e2e ${label}] timed out; logs in ${sandbox.root}`);
      process.exit(1);
    },
    Number(process.env.TEST_TIMEOUT_MS ?? timeoutMs),
  );

  /** Runs one named check; after `h.gaveUp` is set the rest are reported as not run. */
  h.check = async (name, fn) => {
    const t = Date.now();
    if (h.gaveUp) {
      results.push({ name, ok: false });
      console.log(`  ✖ ${name}\n    not run: ${h.gaveUp}`);
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
        await h.page?.screenshot({ path: path.join(dir, `e2e-${prefix}-failure-${results.length}.png`) }).catch(() => {});
      return false;
    }
  };

  /** Screenshot of the whole workbench; returns its path. */
  h.shot = async (name) => {
    const file = path.join(shots, `e2e-${prefix}-${name}.png`);
    await h.page.screenshot({ path: file });
    return file;
  };

  /** Retries `fn` until it resolves or the deadline passes; an error with `final: true` stops at once. */
  h.eventually = async (fn, timeout = 30_000) => {
    const end = Date.now() + timeout;
    for (;;) {
      try {
        return await fn();
      } catch (e) {
        if (e?.final || Date.now() > end) throw e;
        await h.page.waitForTimeout(250);
      }
    }
  };

  /** The active webview's document: the outer iframe, then its active inner frame. */
  h.webview = () => h.page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');

  /** Packages and installs the .vsix (a check), starts code-server and Chromium, opens the workbench. */
  h.start = async ({ env = {} } = {}) => {
    const vscode = ensureVscode();
    await h.check('the .vsix packages and installs with --install-extension', async () => {
      installVsix(vscode, sandbox, packageVsix(path.join(sandbox.root, 'industrial-orchestrator.vsix')));
    });
    h.server = await startCodeServer(sandbox, { env });
    h.browser = await launchBrowser();
    h.page = await h.browser.newPage({ viewport: { width: 1400, height: 900 } });
    h.wb = workbench(h.page);
    await h.page.goto(h.server.url());
    await h.page.waitForSelector('.monaco-workbench .part.statusbar', { timeout: 60_000 });
  };

  /** Closes everything, prints the summary and exits (1 when a check failed). */
  h.finish = async (setupError) => {
    if (setupError) {
      console.log(`  ✖ e2e setup\n${setupError.stack ?? setupError}`);
      results.push({ name: 'setup', ok: false });
    }
    clearTimeout(watchdog);
    await h.browser?.close().catch(() => {});
    await h.server?.stop();
    const passed = results.filter((r) => r.ok).length;
    const failed = results.length - passed;
    console.log(`[e2e ${label}] ${Date.now() - t0} ms; screenshots in ${shots}`);
    if (!failed) fs.rmSync(sandbox.root, { recursive: true, force: true });
    else console.log(`[e2e ${label}] sandbox kept: ${sandbox.root}`);
    console.log(`${passed} passed, ${failed} failed`);
    process.exit(failed ? 1 : 0);
  };
  return h;
}
