/* global Event -- code inside evaluate() runs in the webview page */
// The dataset curator as a person uses it: package the platform .vsix, install it into a fresh VS Code, run two
// sessions with the demo model (one task prompt carries a GitHub token), run Orchestrator: Open Dataset
// Curator from the palette: both runs are listed as kept with their reasons; the outcome and date filters
// narrow the list; the token is redacted and highlighted in the conversation (with its tool calls); one run
// is excluded (dropped at `curator`, the stats follow); a message is edited (marked edited); Export writes
// the dataset and shows its files, whose content is checked on disk (one example, the edit in, the token
// out); Create fine-tune job shows the job's state. Screenshots: test-results/e2e-curation-*.png.
// Prints `N passed, N failed`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { e2eHarness } from './harness.mjs';

// Two sessions take 3–4 minutes on a loaded 2-core machine: a longer deadline than the other scripts' 10 minutes.
const h = e2eHarness('curation', 'curation', { timeoutMs: 840_000 });
const token = `ghp_${'Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2'}`;
const goals = [
  `- [deploy] Deploy notes {files: deploy.txt}: [[script:write_file deploy.txt]] deploy with ${token} tonight`,
  '- [parser] Parser notes {files: parser.txt}: [[script:write_file parser.txt]] the parser retries twice',
];
const editText = 'Wrote deploy.txt with the deployment steps (edited by the curator).';
const cur = () => h.webview();
const rowIds = () =>
  cur()
    .locator('#rows')
    .evaluate((el) => [...el.querySelectorAll('li[data-id]')].map((li) => li.getAttribute('data-id')));
const rowWith = (text) => cur().locator('#rows li[data-id]', { hasText: text }).first();
/** The dropdowns draw their list in a shadow root: choose like their keyboard does, by value and a change event. */
const choose = (id, value) =>
  cur()
    .locator(`#${id}`)
    .evaluate((el, v) => {
      el.value = v;
      el.dispatchEvent(new Event('change', { bubbles: true }));
    }, value);
const setField = (id, value) =>
  cur()
    .locator(`#${id}`)
    .evaluate((el, v) => {
      el.value = v;
      el.dispatchEvent(new Event('change', { bubbles: true }));
    }, value);

// The training environment made by tools/ensureTrainingEnv.mjs, when present (code-server runs with a sandbox HOME).
const trainPython = path.join(os.homedir(), '.cache', 'industrial-orchestrator', 'train-venv', 'bin', 'python');
let setupError;
try {
  await h.start({ env: fs.existsSync(trainPython) ? { ORCH_TRAIN_PYTHON: trainPython } : {} });
  const { page, wb } = h;

  const ran = await h.check('two sessions run with the demo model', async () => {
    await page.locator('.activitybar .action-item a[aria-label^="Orchestrator"]').click({ timeout: 120_000 });
    await wb.statusBar(/Orchestrator: ok/, 90_000);
    for (const [i, goal] of goals.entries()) {
      await wb.palette('Orchestrator: Start Session\u2026');
      await wb.answerInput(goal, { title: 'Start Session' });
      await wb.dialogButton('Run Plan');
      await wb.row(i === 0 ? '- [deploy]' : '- [parser]', 'completed').waitFor({ timeout: 180_000 });
    }
  });
  if (!ran) h.gaveUp = 'the sessions did not run';

  const opened = await h.check('Open Dataset Curator lists both runs as kept, with why the filter took them', async () => {
    await wb.palette('Orchestrator: Open Dataset Curator');
    await h.eventually(async () => {
      const ids = await rowIds();
      if (ids.length !== 2) throw new Error(`${ids.length} rows: ${ids.join(', ')}`);
    }, 90_000);
    for (const li of await cur().locator('#rows li[data-id]').all()) {
      const text = await li.innerText();
      if (!/kept · (train|validation)/.test(text)) throw new Error(`a row is not kept: ${JSON.stringify(text)}`);
    }
    const count = await cur().locator('#count').innerText();
    if (count !== '2 of 2 runs kept') throw new Error(`the count says ${JSON.stringify(count)}`);
    await rowWith('parser').click();
    await cur().locator('#detail details.reasons').click();
    const reasons = await cur().locator('#detail details.reasons').innerText();
    if (!/outcome succeeded \(taken: succeeded\)/.test(reasons)) throw new Error(`the reasons say ${JSON.stringify(reasons)}`);
    await h.shot('1-list');
  });
  if (!opened) h.gaveUp = 'the curator did not open';

  await h.check('the outcome, agent and date filters narrow the list', async () => {
    await choose('outcome', 'failed');
    await cur().locator('#rows', { hasText: 'No agent run matches these filters.' }).waitFor({ timeout: 30_000 });
    await choose('outcome', 'succeeded');
    await h.eventually(async () => {
      if ((await rowIds()).length !== 2) throw new Error('the two runs are not back');
    });
    const options = await cur()
      .locator('#agent vscode-option')
      .evaluateAll((els) => els.map((o) => o.getAttribute('value')));
    if (!options.includes('opencode')) throw new Error(`the agent filter offers ${JSON.stringify(options)}`);
    await choose('agent', 'opencode');
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    await setField('since', tomorrow);
    await cur().locator('#rows', { hasText: 'No agent run matches these filters.' }).waitFor({ timeout: 30_000 });
    await setField('since', '');
    await h.eventually(async () => {
      if ((await rowIds()).length !== 2) throw new Error('the two runs are not back after clearing the date');
    });
  });

  await h.check('the planted token is redacted and highlighted in the conversation with its tool calls', async () => {
    await rowWith('deploy').click();
    const mark = cur().locator('#detail mark.redaction', { hasText: '[REDACTED:github]' }).first();
    await mark.waitFor({ timeout: 30_000 });
    const detail = await cur().locator('#detail').innerText();
    if (detail.includes(token)) throw new Error('the token is shown');
    if (!(await cur().locator('#detail .toolcall').count())) throw new Error('no tool call is shown');
    if (!/Redacted:\s+github/.test(detail)) throw new Error(`the redaction list is missing: ${JSON.stringify(detail.slice(0, 400))}`);
    await h.shot('2-redaction');
  });

  await h.check('excluding a run drops it at curator and the stats follow', async () => {
    await rowWith('parser').click();
    await cur().locator('#detail vscode-button[data-exclude="true"]').click();
    await rowWith('parser').locator('.tag.dropped', { hasText: 'dropped: excluded' }).waitFor({ timeout: 30_000 });
    await h.eventually(async () => {
      const kept = await cur().locator('#stats [data-stat="kept"]').innerText();
      if (kept !== '1') throw new Error(`kept: ${kept}`);
    });
    await cur().locator('#detail vscode-button[data-exclude="false"]').waitFor({ timeout: 10_000 });
  });

  await h.check('editing a message records the edit', async () => {
    await rowWith('deploy').click();
    const last = cur().locator('#detail li.msg.assistant').last();
    await last.locator('vscode-button[data-edit="open"]').click();
    await cur().locator('#edit-text textarea').fill(editText);
    await cur().locator('#detail vscode-button[data-edit="save"]').click();
    await rowWith('deploy').locator('.tag.edited').waitFor({ timeout: 30_000 });
    await cur().locator('#detail li.msg.edited', { hasText: editText }).waitFor({ timeout: 10_000 });
  });

  await h.check('Export writes the dataset and shows its files; the file holds the kept, edited, redacted example', async () => {
    await cur().locator('#ds-name input').fill('e2e-curated');
    await cur().locator('#export').click();
    const paths = await h.eventually(async () => {
      const p = await cur().locator('#exported code.path').allInnerTexts();
      if (!p.length) throw new Error('no exported files shown');
      return p;
    }, 90_000);
    const lines = paths.flatMap((p) => fs.readFileSync(p, 'utf8').split('\n').filter(Boolean));
    if (lines.length !== 1) throw new Error(`${lines.length} examples exported in ${paths.join(', ')}`);
    const ex = JSON.parse(lines[0]);
    const text = JSON.stringify(ex);
    if (text.includes(token)) throw new Error('the token reached the export');
    if (!text.includes('[REDACTED:github]')) throw new Error('the redaction placeholder is not in the export');
    if (!text.includes(editText)) throw new Error('the edit is not in the export');
    if (text.includes('parser retries')) throw new Error('the excluded run is in the export');
    if (!ex.messages?.some((m) => m.tool_calls?.length)) throw new Error('the exported example has no tool calls');
    const records = fs.readFileSync(path.join(path.dirname(paths[0]), '..', 'records.jsonl'), 'utf8');
    if (!/"stage":"curator"/.test(records) || !/"edited":\[\d+\]/.test(records)) throw new Error(`records: ${records}`);
    console.log(`    exported: ${paths.join(', ')}`);
    await h.shot('3-exported');
  });

  await h.check('Create fine-tune job submits it on the exported dataset and shows its state', async () => {
    await cur().locator('#ft-steps input').fill('2');
    await cur().locator('#finetune').click();
    const state = cur().locator('#job .job-state');
    await h.eventually(async () => {
      const err = await cur().locator('#ft-error').innerText();
      if (err) throw Object.assign(new Error(`the fine-tune form says: ${err}`), { final: true });
      await state.waitFor({ timeout: 1_000 });
    }, 60_000);
    const first = await state.innerText();
    if (!/^(queued|running|succeeded|failed|cancelled)$/.test(first)) throw new Error(`the job state says ${JSON.stringify(first)}`);
    const final = await h
      .eventually(async () => {
        const s = await state.innerText();
        if (!['succeeded', 'failed', 'cancelled'].includes(s)) throw new Error(s);
        return s;
      }, 90_000)
      .catch((e) => `still ${e.message}`);
    console.log(`    fine-tune job: ${first} → ${final}: ${(await cur().locator('#job').innerText()).replace(/\s+/g, ' ')}`);
    await h.shot('4-finetune');
  });
} catch (e) {
  setupError = e;
}
await h.finish(setupError);
