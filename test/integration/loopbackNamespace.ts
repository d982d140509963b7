/**
 * A loopback-only network namespace for tests that run real third-party agents: `unshare -n -m` (plus `-r` when
 * not root) around `test/fixtures/acp-real/inNamespace.mjs`, which brings up loopback, points name lookups at a
 * logging DNS sink, starts the scripted model APIs (Gemini on 127.0.0.1:18081, Anthropic on 127.0.0.1:18082)
 * and runs the given command inside. Nothing in it can reach another machine, and every host name anything in it
 * tries to resolve is in `<workDir>/dns.log`.
 *
 * `checkLoopbackNamespace()` throws a message naming what is missing when the namespace cannot be made: the test
 * fails, it never skips.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const scriptedPorts = { gemini: 18081, anthropic: 18082 } as const;
const inNamespace = path.resolve(__dirname, '../fixtures/acp-real/inNamespace.mjs');

function unshareFlags(): string[] {
  const root = process.getuid?.() === 0;
  return [...(root ? [] : ['-r']), '-n', '-m', '--propagation', 'private'];
}

/** Throws when this machine cannot give the test a private network namespace with loopback up. */
export function checkLoopbackNamespace(): void {
  const r = spawnSync('unshare', [...unshareFlags(), 'ip', 'link', 'set', 'lo', 'up'], { encoding: 'utf8', timeout: 20_000 });
  if (r.status === 0) return;
  const why = r.error ? r.error.message : (r.stderr || r.stdout || `exit ${r.status}`).trim();
  throw new Error(
    `cannot create a loopback-only network namespace (unshare ${unshareFlags().join(' ')} ip link set lo up): ${why}. ` +
      'This test runs real agents with no way out of the machine; it needs root (or unprivileged user namespaces), ' +
      'util-linux unshare and iproute2 ip.',
  );
}

/** The argv that runs `argv` inside a fresh namespace with the scripted servers; logs go to `workDir`. */
export function inLoopbackNamespace(workDir: string, argv: string[]): string[] {
  fs.mkdirSync(workDir, { recursive: true });
  return ['unshare', ...unshareFlags(), process.execPath, inNamespace, workDir, ...argv];
}

/** The JSON lines of one of the namespace's logs (`dns`, `gemini`, `anthropic`); none yet → []. */
export function namespaceLog(workDir: string, name: 'dns' | 'gemini' | 'anthropic'): Record<string, unknown>[] {
  const file = path.join(workDir, `${name}.log`);
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
