// Localisation: package.json's user-visible `contributes` strings are `%key%` placeholders resolved by
// package.nls.json; the extension host's strings go through `vscode.l10n.t` and the dashboard's through
// `@vscode/l10n`, both exported to l10n/bundle.l10n.json by `npm run l10n:export`. A new string without its
// key, or without a re-export, turns these red.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { listFiles, PackageManager } from '@vscode/vsce';

const root = path.resolve(__dirname, '..', '..');
const manifestText = readFileSync(path.join(root, 'package.json'), 'utf8');
const manifest = JSON.parse(manifestText);
const nls: Record<string, string> = JSON.parse(readFileSync(path.join(root, 'package.nls.json'), 'utf8'));

test('every %key% of package.json has its English text in package.nls.json, and every text there is used', () => {
  const keys = [...manifestText.matchAll(/"%([^%"\s]+)%"/g)].map((m) => m[1]);
  assert.ok(keys.length > 50, 'the contributes strings are placeholders');
  const missing = keys.filter((k) => typeof nls[k] !== 'string' || !nls[k].trim());
  assert.deepEqual(missing, [], 'keys used in package.json without an English text in package.nls.json');
  const unused = Object.keys(nls).filter((k) => !keys.includes(k));
  assert.deepEqual(unused, [], 'texts in package.nls.json that package.json no longer uses');
  assert.equal(manifest.l10n, './l10n', 'package.json points VS Code at the l10n bundles');
});

test('commands, views, settings and walkthrough steps are written as %key% placeholders, not raw text', () => {
  const c = manifest.contributes;
  const raw: string[] = [];
  const check = (where: string, v: unknown) => {
    if (typeof v === 'string' && !/^%[^%\s]+%$/.test(v)) raw.push(`${where}: ${v.slice(0, 40)}`);
  };
  for (const cmd of c.commands) {
    check(`${cmd.command}.title`, cmd.title);
    check(`${cmd.command}.category`, cmd.category);
  }
  for (const vs of Object.values(c.views) as { id: string; name: string }[][]) for (const v of vs) check(`${v.id}.name`, v.name);
  for (const w of c.viewsWelcome) check(`${w.view}.contents`, w.contents);
  for (const [k, p] of Object.entries(c.configuration.properties) as [string, { description?: string; enumDescriptions?: string[] }][]) {
    check(`${k}.description`, p.description);
    for (const d of p.enumDescriptions ?? []) check(`${k}.enumDescriptions`, d);
  }
  for (const w of c.walkthroughs)
    for (const s of w.steps) {
      check(`${s.id}.title`, s.title);
      check(`${s.id}.description`, s.description);
    }
  assert.deepEqual(raw, []);
});

test('l10n/bundle.l10n.json is what `npm run l10n:export` makes from the code now', { timeout: 60_000 }, () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'orch-l10n-'));
  try {
    const cli = path.join(root, 'node_modules', '@vscode', 'l10n-dev', 'dist', 'cli.js');
    const r = spawnSync(process.execPath, [cli, 'export', '--outDir', out, './extension/src', './webview/src'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 50_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const fresh = JSON.parse(readFileSync(path.join(out, 'bundle.l10n.json'), 'utf8'));
    const committed = JSON.parse(readFileSync(path.join(root, 'l10n', 'bundle.l10n.json'), 'utf8'));
    assert.ok(Object.keys(fresh).length > 100, 'the extension host strings go through vscode.l10n.t');
    assert.deepEqual(committed, fresh, 'run `npm run l10n:export` and commit l10n/bundle.l10n.json');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('package.nls.json and the l10n bundle are packaged into the .vsix', { timeout: 60_000 }, async () => {
  const packaged = new Set((await listFiles({ cwd: root, packageManager: PackageManager.None })).map((f) => f.replace(/\\/g, '/')));
  for (const f of ['package.nls.json', 'l10n/bundle.l10n.json']) assert.ok(packaged.has(f), `${f} is in the .vsix (check .vscodeignore)`);
});
