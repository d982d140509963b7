// Headless Chromium for the workbench through playwright-core: the binary from the npm package
// @sparticuz/chromium (no apt, no root), or $CHROMIUM when set.
import fs from 'node:fs';
import path from 'node:path';
import { chromium as pw } from 'playwright-core';
import { cacheDir } from './installVscode.mjs';

const args = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
];

export async function launchBrowser() {
  if (process.env.CHROMIUM) return pw.launch({ executablePath: process.env.CHROMIUM, headless: true, args });
  // @sparticuz/chromium unpacks into os.tmpdir() and reuses any $TMPDIR/chromium without checking it,
  // so point TMPDIR at a private versioned folder while importing and unpacking.
  const { version } = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.resolve('@sparticuz/chromium')), 'utf8'));
  const dir = path.join(cacheDir(), `sparticuz-chromium-${version}`);
  fs.mkdirSync(dir, { recursive: true });
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  let executablePath;
  try {
    const { default: sparticuz } = await import('@sparticuz/chromium');
    executablePath = await sparticuz.executablePath();
  } catch (e) {
    throw new Error(`could not unpack Chromium from @sparticuz/chromium into ${dir}: ${e.message}`, { cause: e });
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
  return pw.launch({ executablePath, headless: true, args });
}
