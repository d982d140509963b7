import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  commandPrograms,
  decidePermission,
  defaultAllowedCommands,
  isInside,
  requestGlobs,
  requestPaths,
  resolvePosix,
  type PolicyConfig,
  type PolicyRequest,
} from './permissionPolicy';

/** The task's worktree, the user's repository and the user's home of every case. */
const cwd = '/data/worktrees/s1/t1';
const repoRoot = '/home/u/repo';
const home = '/home/u';

/**
 * A fake file system of symbolic links (link path → target), resolved as the real adapter does:
 * component by component, `..` climbing from a link's target, relative targets against the link's folder.
 */
const links: Record<string, string> = {
  [`${cwd}/escape`]: '/etc',
  [`${cwd}/out`]: '/tmp/elsewhere',
  [`${cwd}/docs/shared`]: '../../../../../home/u/repo/docs',
  [`${cwd}/keys`]: '/home/u/.ssh',
  [`${cwd}/deep`]: '/tmp/a/b/c',
  [`${cwd}/loop`]: `${cwd}/loop`,
  [`${repoRoot}/linked`]: '/opt/vendor',
  [`${cwd}/notes.txt`]: '/home/u/.ssh/id_rsa',
  [`${cwd}/src/vendor.ts`]: '/opt/vendor/index.ts',
};
/** What wildcards match in the fake file system (as the resolver's `expand` lists them: not resolved). */
const wildcardMatches: Record<string, string[]> = {
  [`${cwd}/*.txt`]: [`${cwd}/a.txt`, `${cwd}/notes.txt`],
  [`${cwd}/src/*.ts`]: [`${cwd}/src/a.ts`, `${cwd}/src/b.ts`],
  [`${cwd}/src/v*`]: [`${cwd}/src/vendor.ts`],
  [`${cwd}/big/*`]: null as unknown as string[],
};

function fakeResolve(p: string, depth = 0): string {
  if (depth > 40) return '/nonexistent/symlink-loop';
  let cur = '/';
  const parts = p.split('/');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (!part || part === '.') continue;
    if (part === '..') {
      cur = cur.slice(0, cur.lastIndexOf('/')) || '/';
      continue;
    }
    const next = cur === '/' ? `/${part}` : `${cur}/${part}`;
    const target = links[next];
    if (target === undefined) {
      cur = next;
      continue;
    }
    cur = fakeResolve(target.startsWith('/') ? target : `${cur}/${target}`, depth + 1);
  }
  return cur;
}

/** Builds a request the way the task service does: every path the policy names, resolved. */
function decide(permission: string, patterns: string[], extra: Partial<PolicyRequest> = {}, config?: PolicyConfig) {
  const base: PolicyRequest = { permission, patterns, cwd, repoRoot, home, ...extra };
  base.expanded = Object.fromEntries(requestGlobs(base, config).map((g) => [g, g in wildcardMatches ? wildcardMatches[g] : []]));
  const resolved = Object.fromEntries(requestPaths(base, config).map((p) => [p, fakeResolve(p)]));
  return decidePermission({ ...base, resolved }, config);
}

type Case = [cls: string, permission: string, pattern: string, expected: 'allow' | 'ask' | 'deny', extra?: Partial<PolicyRequest>];

const cases: Case[] = [
  // Symbolic links: judged by where they really lead.
  ['symlink', 'edit', 'escape/passwd', 'deny'],
  ['symlink', 'edit', `${cwd}/out/x.txt`, 'deny'],
  ['symlink', 'edit', 'x.txt', 'deny', { filepath: `${cwd}/out/new.txt` }],
  ['symlink', 'edit', 'deep/../../x', 'deny'],
  ['symlink', 'edit', 'loop/x', 'deny'],
  ['symlink', 'read', `${cwd}/escape/hostname`, 'ask'],
  ['symlink', 'read', `${cwd}/keys/id_rsa`, 'deny'],
  ['symlink', 'read', `${cwd}/docs/shared/guide.md`, 'allow'],
  ['symlink', 'read', `${repoRoot}/linked/lib.c`, 'ask'],
  ['symlink', 'bash', 'cat escape/shadow', 'deny'],
  ['symlink', 'bash', 'touch out/x', 'ask'],
  ['symlink', 'bash', 'cp README.md out/', 'ask'],
  ['symlink', 'bash', 'cd out && touch x', 'ask'],
  ['symlink', 'bash', 'mkdir -p deep/../../new', 'ask'],
  ['symlink', 'bash', 'cat *.txt', 'deny'],
  ['symlink', 'bash', 'grep -n foo src/v*', 'ask'],
  ['symlink', 'bash', 'wc -l big/*', 'ask'],
  // Writes carried by options or operands.
  ['option-write', 'bash', 'sort -o /tmp/x a.txt', 'ask'],
  ['option-write', 'bash', 'sort -o/elsewhere/x a.txt', 'ask'],
  ['option-write', 'bash', 'sort -ro/x a.txt', 'ask'],
  ['option-write', 'bash', 'sort --output=/tmp/x a.txt', 'ask'],
  ['option-write', 'bash', 'sort --outp=/tmp/x a.txt', 'ask'],
  ['option-write', 'bash', 'sort -T /tmp a.txt', 'ask'],
  ['option-write', 'bash', 'uniq a.txt /tmp/out.txt', 'ask'],
  ['option-write', 'bash', 'git diff --output=/tmp/patch', 'ask'],
  ['option-write', 'bash', 'git log --output /tmp/x', 'ask'],
  ['option-write', 'bash', 'cp -t /tmp a.txt', 'ask'],
  ['option-write', 'bash', 'cp --target-directory=/tmp a.txt', 'ask'],
  ['option-write', 'bash', 'cp -l /home/u/repo/a.txt hard.txt', 'ask'],
  ['option-write', 'bash', 'mv /home/u/repo/a.txt here.txt', 'ask'],
  ['option-write', 'bash', 'touch .git/hooks/pre-commit', 'ask'],
  ['option-write', 'bash', 'cp evil.sh .git/hooks/post-checkout', 'ask'],
  ['option-write', 'bash', 'touch src/*.ts', 'ask'],
  // Programs run through options.
  ['option-exec', 'bash', 'git -c core.pager=./evil.sh log', 'ask'],
  ['option-exec', 'bash', 'git -c alias.st=!sh status', 'ask'],
  ['option-exec', 'bash', 'git --exec-path=. status', 'ask'],
  ['option-exec', 'bash', 'git -C /tmp status', 'ask'],
  ['option-exec', 'bash', 'git --git-dir=/tmp/x/.git log', 'ask'],
  ['option-exec', 'bash', 'git -p log', 'ask'],
  ['option-exec', 'bash', 'git diff --ext-diff', 'ask'],
  ['option-exec', 'bash', 'git log -p --textconv', 'ask'],
  ['option-exec', 'bash', 'git grep -O foo', 'ask'],
  ['option-exec', 'bash', 'git grep --open-files-in-pager=vim foo', 'ask'],
  ['option-exec', 'bash', 'git fetch --upload-pack=./x origin', 'ask'],
  ['option-exec', 'bash', 'git st', 'ask'],
  ['option-exec', 'bash', 'git commit -m x', 'ask'],
  ['option-exec', 'bash', 'git config core.fsmonitor ./x', 'ask'],
  ['option-exec', 'bash', 'git push', 'ask'],
  ['option-exec', 'bash', 'git branch evil', 'ask'],
  ['option-exec', 'bash', 'git add -p', 'ask'],
  ['option-exec', 'bash', 'git add -e', 'ask'],
  ['option-exec', 'bash', 'git add --interactive', 'ask'],
  ['option-exec', 'bash', 'rg --pre ./evil.sh foo', 'ask'],
  ['option-exec', 'bash', 'rg -z foo', 'ask'],
  ['option-exec', 'bash', 'sort --compress-program=./x a.txt', 'ask'],
  ['option-exec', 'bash', 'find . -exec sh {} ;', 'ask'],
  ['option-exec', 'bash', 'grep -R secret .', 'ask'],
  ['option-exec', 'bash', 'tail -f log.txt', 'ask'],
  ['option-exec', 'bash', 'ls --frobnicate', 'ask'],
  ['option-exec', 'bash', 'sh -c "ls"', 'ask'],
  ['option-exec', 'bash', 'bash -c ls', 'ask'],
  ['option-exec', 'bash', 'xargs rm < list', 'ask'],
  ['option-exec', 'bash', 'ls | xargs cat', 'ask'],
  ['option-exec', 'bash', 'env ls', 'ask'],
  ['option-exec', 'bash', 'eval ls', 'ask'],
  ['option-exec', 'bash', 'exec ls', 'ask'],
  ['option-exec', 'bash', 'node -e 1', 'ask'],
  ['option-exec', 'bash', 'npm test', 'ask'],
  ['option-exec', 'bash', 'npx some-pkg', 'ask'],
  // Reads outside the task folder and the repository.
  ['read-outside', 'read', '/etc/hostname', 'ask'],
  ['read-outside', 'read', '/tmp/other/file.txt', 'ask'],
  ['read-outside', 'bash', 'cat /etc/hosts', 'ask'],
  ['read-outside', 'bash', 'cat ../../../../../tmp/x', 'ask'],
  ['read-outside', 'bash', 'head -5 ~/notes.txt', 'ask'],
  ['read-outside', 'bash', 'grep -rn foo /var/log', 'ask'],
  ['read-outside', 'bash', 'diff a.txt /tmp/b.txt', 'ask'],
  ['read-outside', 'bash', 'ls ~otheruser', 'ask'],
  ['read-outside', 'external_directory', '/tmp/other/*', 'ask'],
  ['read-outside', 'external_directory', `${repoRoot}/*`, 'ask'],
  ['read-outside', 'bash', 'cat x.txt', 'ask', { commandCwd: '/tmp' }],
  // Secret locations.
  ['secret', 'read', '/etc/shadow', 'deny'],
  ['secret', 'read', '/etc/sudoers', 'deny'],
  ['secret', 'read', '/home/u/.ssh/id_ed25519', 'deny'],
  ['secret', 'read', '/home/u/.aws/credentials', 'deny'],
  ['secret', 'read', '/home/u/.config/gcloud/application_default_credentials.json', 'deny'],
  ['secret', 'read', '/home/u/.gnupg/private-keys-v1.d/x.key', 'deny'],
  ['secret', 'read', '/root/.ssh/authorized_keys', 'deny'],
  ['secret', 'read', '/proc/self/environ', 'deny'],
  ['secret', 'read', '/tmp/other/.env', 'deny'],
  ['secret', 'read', `${repoRoot}/.env`, 'ask'],
  ['secret', 'read', `${cwd}/.env.local`, 'ask'],
  ['secret', 'read', `${cwd}/certs/server.pem`, 'ask'],
  ['secret', 'bash', 'cat /etc/shadow', 'deny'],
  ['secret', 'bash', 'cat ~/.ssh/id_rsa', 'deny'],
  ['secret', 'bash', 'grep -r key ~/.aws', 'deny'],
  ['secret', 'bash', 'cat .env', 'ask'],
  ['secret', 'external_directory', '/home/u/.ssh/*', 'deny'],
  // Shell syntax the policy does not reason about.
  ['shell', 'bash', 'echo $(rm -rf /)', 'ask'],
  ['shell', 'bash', 'echo `id`', 'ask'],
  ['shell', 'bash', 'echo $OPENCODE_SERVER_PASSWORD', 'ask'],
  ['shell', 'bash', 'echo "$HOME"', 'ask'],
  ['shell', 'bash', 'echo pwned >> ~/.bashrc', 'ask'],
  ['shell', 'bash', 'echo hi > out.txt', 'ask'],
  ['shell', 'bash', 'cat <<EOF\nhi\nEOF', 'ask'],
  ['shell', 'bash', 'LD_PRELOAD=./x.so ls', 'ask'],
  ['shell', 'bash', './ls -c id', 'ask'],
  ['shell', 'bash', '/bin/ls', 'ask'],
  ['shell', 'bash', '(cd /tmp && ls)', 'ask'],
  ['shell', 'bash', '{ ls; }', 'ask'],
  ['shell', 'bash', 'echo "unbalanced', 'ask'],
  ['shell', 'bash', "echo 'unbalanced", 'ask'],
  ['shell', 'bash', 'ls & rm -rf ~', 'ask'],
  ['shell', 'bash', 'ls\nrm -rf .', 'ask'],
  ['shell', 'bash', 'l\\s; r\\m -rf /', 'ask'],
  ['shell', 'bash', '"rm" -rf x', 'ask'],
  ['shell', 'bash', 'cat "/etc/shadow"', 'deny'],
  ['shell', 'bash', 'cat /et"c/sha"dow', 'deny'],
  ['shell', 'bash', 'cd /tmp && cat x', 'ask'],
  ['shell', 'bash', 'cd src | touch x', 'ask'],
  ['shell', 'bash', '! ls', 'ask'],
  ['shell', 'bash', 'ls |', 'ask'],
  // `..` and absolute paths.
  ['dotdot', 'edit', '../other/x.ts', 'deny'],
  ['dotdot', 'edit', 'src/../../t2/x.ts', 'deny'],
  ['dotdot', 'edit', '/data/worktrees/s1/t1x/a.ts', 'deny'],
  ['dotdot', 'bash', 'cp src/a.ts ../outside.ts', 'ask'],
  ['dotdot', 'bash', 'mkdir ../sibling', 'ask'],
  ['absolute', 'edit', '/tmp/x.txt', 'deny'],
  ['absolute', 'edit', `${repoRoot}/src/a.ts`, 'deny'],
  ['absolute', 'edit', `${cwd}/.git/config`, 'deny'],
  ['absolute', 'bash', 'touch /tmp/x', 'ask'],
  ['absolute', 'bash', `mv a.txt ${repoRoot}/a.txt`, 'ask'],
  ['absolute', 'edit', '*', 'ask'],
  // What agents do every day stays allowed.
  ['allowed', 'bash', 'ls -la', 'allow'],
  ['allowed', 'bash', 'ls -la src', 'allow'],
  ['allowed', 'bash', 'git status', 'allow'],
  ['allowed', 'bash', 'git status --porcelain', 'allow'],
  ['allowed', 'bash', 'git diff HEAD~1', 'allow'],
  ['allowed', 'bash', 'git diff --stat HEAD~1..HEAD', 'allow'],
  ['allowed', 'bash', 'git log --oneline -5', 'allow'],
  ['allowed', 'bash', 'git log -n 3 --format="%h %s"', 'allow'],
  ['allowed', 'bash', 'git --no-pager show HEAD --stat', 'allow'],
  ['allowed', 'bash', 'git add -A', 'allow'],
  ['allowed', 'bash', 'git grep -n foo -- src', 'allow'],
  ['allowed', 'bash', 'git grep -e foo -i', 'allow'],
  ['allowed', 'bash', 'git log --patch -i --grep=fix', 'allow'],
  ['allowed', 'bash', 'git branch --show-current', 'allow'],
  ['allowed', 'bash', 'grep -rn foo src', 'allow'],
  ['allowed', 'bash', 'grep -rn "two words" src --include=*.ts', 'allow'],
  ['allowed', 'bash', 'grep -e -x -- file.txt', 'allow'],
  ['allowed', 'bash', 'rg -n "TODO" src', 'allow'],
  ['allowed', 'bash', 'cat README.md | head -5', 'allow'],
  ['allowed', 'bash', 'cat README.md | head -n 5 | wc -l', 'allow'],
  ['allowed', 'bash', 'tail -n 20 log.txt', 'allow'],
  ['allowed', 'bash', 'ls src/*.ts', 'allow'],
  ['allowed', 'bash', 'mkdir -p src/lib && touch src/lib/index.ts', 'allow'],
  ['allowed', 'bash', 'cp src/a.ts src/b.ts', 'allow'],
  ['allowed', 'bash', 'mv old.txt new.txt', 'allow'],
  ['allowed', 'bash', 'sort -u names.txt | uniq -c', 'allow'],
  ['allowed', 'bash', 'cut -d, -f1 data.csv | tr a-z A-Z', 'allow'],
  ['allowed', 'bash', 'diff -u a.txt b.txt', 'allow'],
  ['allowed', 'bash', 'echo "hello world" --not-an-option', 'allow'],
  ['allowed', 'bash', 'printf "%s\\n" a b', 'allow'],
  ['allowed', 'bash', 'pwd; true && false || echo done', 'allow'],
  ['allowed', 'bash', 'test -f package.json && echo yes', 'allow'],
  ['allowed', 'bash', 'git status 2>&1', 'allow'],
  ['allowed', 'bash', 'ls missing 2>/dev/null', 'allow'],
  ['allowed', 'bash', 'cd src && ls -la', 'allow'],
  ['allowed', 'bash', 'ls # list the files', 'allow'],
  ['allowed', 'bash', `cat ${repoRoot}/README.md`, 'allow'],
  ['allowed', 'bash', 'cat docs/shared/guide.md', 'allow'],
  ['allowed', 'read', `${cwd}/src/env.ts`, 'allow'],
  ['allowed', 'read', `${repoRoot}/src/main.ts`, 'allow'],
  ['allowed', 'read', `${cwd}/.env.example`, 'allow'],
  ['allowed', 'edit', 'src/a.ts', 'allow'],
  ['allowed', 'edit', `${cwd}/new/dir/b.ts`, 'allow'],
  ['allowed', 'edit', 'x.txt', 'allow', { filepath: `${cwd}/x.txt` }],
  ['allowed', 'external_directory', `${repoRoot}/src/*`, 'allow', { filepath: `${repoRoot}/src/a.ts` }],
  ['allowed', 'glob', '**/*.ts', 'allow'],
];

test(`the policy table has at least 60 cases in every class (${cases.length})`, () => {
  assert.ok(cases.length >= 60);
  for (const cls of ['symlink', 'option-write', 'option-exec', 'read-outside', 'secret', 'shell', 'dotdot', 'absolute', 'allowed']) {
    assert.ok(
      cases.some((c) => c[0] === cls),
      cls,
    );
  }
});

for (const [cls, permission, pattern, expected, extra] of cases) {
  test(`${cls}: ${permission} ${JSON.stringify(pattern)}${extra ? ` ${JSON.stringify(extra)}` : ''} → ${expected}`, () => {
    const v = decide(permission, [pattern], extra);
    assert.equal(v.decision, expected, v.reason);
    assert.ok(v.reason.length > 0);
  });
}

test('reasons name what was refused and where a symlink really leads', () => {
  const edit = decide('edit', ['escape/passwd']);
  assert.match(edit.reason, /escape\/passwd.*\/etc\/passwd.*symbolic link/);
  assert.match(decide('bash', ['sort -o/x a']).reason, /sort -o writes a file/);
  assert.match(decide('bash', ['git -c core.pager=x log']).reason, /git -c overrides configuration/);
  assert.match(decide('bash', ['ls --frobnicate']).reason, /--frobnicate is not an option known to be safe/);
  assert.match(decide('read', ['/etc/shadow']).reason, /secrets/);
});

test('user-added programs: any option, but path-like arguments are still judged', () => {
  const config = { allowedCommands: [...defaultAllowedCommands, 'node', 'npm', 'find'] };
  assert.equal(decide('bash', ['npm test -- --watch=false'], {}, config).decision, 'allow');
  assert.equal(decide('bash', ['node --test test/a.test.js'], {}, config).decision, 'allow');
  assert.equal(decide('bash', ['node /tmp/evil.js'], {}, config).decision, 'ask');
  assert.equal(decide('bash', ['node --require=/tmp/evil.js x.js'], {}, config).decision, 'ask');
  assert.equal(decide('bash', ['node ~/.ssh/id_rsa'], {}, config).decision, 'deny');
  assert.equal(decide('bash', ['node escape/x.js'], {}, config).decision, 'ask', 'through a symlink');
  // A program with a table keeps its table when a user allows it.
  assert.equal(decide('bash', ['find . -name "*.ts"'], {}, config).decision, 'allow');
  assert.equal(decide('bash', ['find . -exec rm {} +'], {}, config).decision, 'ask');
  assert.equal(decide('bash', ['find . -delete'], {}, config).decision, 'ask');
  // Program runners stay asked even when allowed.
  assert.equal(decide('bash', ['xargs ls'], {}, { allowedCommands: [...defaultAllowedCommands, 'xargs'] }).decision, 'ask');
  assert.ok(!defaultAllowedCommands.includes('node') && !defaultAllowedCommands.includes('npm'));
});

test('relative patterns follow patternBase (OpenCode reports them from the project root)', () => {
  assert.equal(decide('edit', ['sub/a.ts'], { cwd: `${repoRoot}/sub`, patternBase: repoRoot }).decision, 'allow');
  assert.equal(decide('edit', ['other/a.ts'], { cwd: `${repoRoot}/sub`, patternBase: repoRoot }).decision, 'deny');
  assert.equal(decide('read', ['other/a.ts'], { cwd: `${repoRoot}/sub`, patternBase: repoRoot }).decision, 'allow');
});

test("requestPaths lists every path the decision looks up, raw (so `..` after a link is the resolver's job)", () => {
  const paths = requestPaths({ permission: 'bash', patterns: ['cat deep/../../x && cp a.txt out/'], cwd, repoRoot, home });
  assert.ok(paths.includes(`${cwd}/deep/../../x`));
  assert.ok(paths.includes(`${cwd}/out/`));
  assert.ok(paths.includes(cwd) && paths.includes(repoRoot));
});

test('a denied command is denied even after one that needs asking (a deny never becomes a question)', () => {
  assert.equal(decide('bash', ['npm test', 'cat /home/u/.ssh/id_rsa']).decision, 'deny');
  assert.equal(decide('bash', ['cat /home/u/.ssh/id_rsa', 'npm test']).decision, 'deny');
  assert.equal(decide('bash', ['npm test', 'ls']).decision, 'ask');
});

test('anything else is asked', () => {
  assert.equal(decide('webfetch', ['https://x']).decision, 'ask');
  assert.equal(decide('doom_loop', ['x']).decision, 'ask');
});

test('path helpers', () => {
  assert.equal(resolvePosix('/a/b', '../c/./d'), '/a/c/d');
  assert.ok(isInside('/a/b', '/a/b'));
  assert.ok(!isInside('/a/b', '/a/bc'));
  assert.deepEqual(commandPrograms('ls; grep x y || make'), ['ls', 'grep', 'make']);
  assert.deepEqual(commandPrograms('ls "a b"; echo \'c d\''), ['ls', 'echo']);
  assert.equal(commandPrograms('ls; echo $(x)'), undefined);
});
