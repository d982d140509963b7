// The Get Started walkthrough's media files go into the .vsix: vsce's own file list (what tools/vsix.mjs packages,
// without dependencies) holds every step's media, so .vscodeignore cannot drop them unnoticed.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { listFiles, PackageManager } from '@vscode/vsce';

const root = path.resolve(__dirname, '..', '..', '..');
/** `walkthroughId` of walkthrough.ts (which imports `vscode`, so not importable here). */
const walkthroughId = 'getStarted';

test("every walkthrough step's media file is packaged into the .vsix", { timeout: 60_000 }, async () => {
  const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const walkthrough = manifest.contributes.walkthroughs.find((w: { id: string }) => w.id === walkthroughId);
  assert.ok(walkthrough, `package.json contributes the walkthrough "${walkthroughId}"`);
  const media: string[] = walkthrough.steps.map((s: { media: { markdown?: string; image?: string } }) => s.media.markdown ?? s.media.image);
  assert.equal(media.length, 4);
  const packaged = new Set((await listFiles({ cwd: root, packageManager: PackageManager.None })).map((f) => f.replace(/\\/g, '/')));
  for (const m of media) assert.ok(packaged.has(m), `${m} is in the .vsix (check .vscodeignore)`);
});
