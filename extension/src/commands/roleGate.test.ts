import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { commandIds } from './ids';
import { hiddenForViewers, mutatingCommands, refusal } from './roleGate';

const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8'));
type MenuItem = { command: string; when?: string };
const menus = manifest.contributes.menus as Record<string, MenuItem[]>;

describe('a viewer sees no mutating action', () => {
  it('every menu item of a mutating command is hidden for viewers', () => {
    const shown: string[] = [];
    for (const [menu, items] of Object.entries(menus))
      for (const item of items)
        if (mutatingCommands.has(item.command as never) && item.when !== 'false' && !(item.when ?? '').includes(hiddenForViewers))
          shown.push(`${menu}: ${item.command} (when ${item.when ?? 'always'})`);
    assert.deepEqual(shown, []);
  });

  it('every mutating command is hidden for viewers in the command palette', () => {
    const palette = new Map(menus.commandPalette.map((m) => [m.command, m.when ?? '']));
    const missing = [...mutatingCommands].filter((c) => {
      const when = palette.get(c);
      return when === undefined || (when !== 'false' && !when.includes(hiddenForViewers));
    });
    assert.deepEqual(missing, []);
  });

  it('the commands refuse a viewer with a clear message, and nobody else', () => {
    assert.match(refusal(commandIds.startSession, 'viewer', 'Start Session') ?? '', /"Start Session" is not available: .*viewer role/);
    assert.equal(refusal(commandIds.startSession, 'developer', 'Start Session'), undefined);
    assert.equal(refusal(commandIds.startSession, 'local', 'Start Session'), undefined);
    assert.equal(refusal(commandIds.showStatus, 'viewer', 'Show Status'), undefined);
  });
});
