import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { confinePath } from './confinePath';

function repo(dir: string): string {
  mkdirSync(dir, { recursive: true });
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: dir });
  return dir;
}

test('confinePath: inside → the real path; no roots, "..", relative, missing, outside, a symlink out, a .git pointing out → refused', async () => {
  const top = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'orch-confine-')));
  const root = path.join(top, 'root');
  const outside = repo(path.join(top, 'outside'));
  const inside = repo(path.join(root, 'app'));
  symlinkSync(outside, path.join(root, 'link-out'));
  symlinkSync(inside, path.join(root, 'link-in'));
  // A folder inside the root whose .git file points at a repository outside.
  mkdirSync(path.join(root, 'sneaky'));
  writeFileSync(path.join(root, 'sneaky', '.git'), `gitdir: ${path.join(outside, '.git')}\n`);
  // A plain folder inside the root that lies inside a repository whose top is outside the root.
  const wrapper = repo(path.join(top, 'wrapper'));
  mkdirSync(path.join(wrapper, 'sub'));
  mkdirSync(`${root}-evil`);

  assert.deepEqual(await confinePath('cwd', inside, [root]), { ok: true, real: inside });
  assert.deepEqual(await confinePath('cwd', path.join(root, 'link-in'), [root]), { ok: true, real: inside });
  const refused: [string, string, string[], string, RegExp][] = [
    ['no roots', inside, [], 'no_roots', /no workspace roots/],
    ['relative', 'app', [root], 'bad_path', /absolute/],
    ['..', `${root}/app/../../outside`, [root], 'bad_path', /"\.\."/],
    ['missing', path.join(root, 'nope'), [root], 'bad_path', /does not exist/],
    ['absolute outside', outside, [root], 'outside', /outside this tenant's workspace roots/],
    ['symlink out', path.join(root, 'link-out'), [root], 'outside', /leads to/],
    ['.git file pointing out', path.join(root, 'sneaky'), [root], 'outside', /git repository/],
    ['repo top outside', path.join(wrapper, 'sub'), [path.join(wrapper, 'sub')], 'outside', /git repository/],
    ['a sibling sharing the prefix', `${root}-evil`, [root], 'outside', /outside/],
  ];
  for (const [what, p, roots, kind, message] of refused) {
    const r = await confinePath('cwd', p, roots);
    assert.equal(r.ok, false, what);
    if (!r.ok) {
      assert.equal(r.kind, kind, what);
      assert.match(r.message, message, what);
    }
  }
});
