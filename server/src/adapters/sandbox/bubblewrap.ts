/**
 * The OS sandbox around agents' shell commands: bubblewrap (`bwrap`) on Linux.
 *
 * How it is wired: OpenCode runs its bash tool as `<config.shell> -c <command>` with the command's working
 * directory as cwd (verified against 1.18.33: `shell` in the config wins over `$SHELL`). We point
 * `config.shell` at a generated wrapper named `bash` (so OpenCode still parses commands as bash) that
 * execs `bwrap` with the whole filesystem read-only and only these writable:
 *   - the registered task folder that contains the command's cwd (a session task's worktree, or the
 *     folder a single run was started in), except its `.git` (directory or worktree pointer file), which
 *     stays read-only so an agent cannot plant hooks, rewrite config or repoint a worktree;
 *   - a private temp folder for that task folder (TMPDIR/TMP/TEMP point at it); `/tmp` itself stays read-only.
 * A command whose cwd is in no registered task folder gets nothing writable. The network is kept; /dev and
 * /proc are fresh; the command gets its own pid namespace and dies with OpenCode.
 *
 * Task folders are registered per turn (`allow`) in a roots file the wrapper reads at each command; the
 * file is replaced atomically. Git inside the sandbox reads (status, diff, log) but cannot write: the
 * orchestrator, outside the sandbox, commits a task's work.
 *
 * Detection (`detectBubblewrap`) runs once at start: Linux, a `bwrap` on PATH (or /usr/bin), a `bash`, and a
 * real probe with a deadline proving that the bound folder is writable and the rest is not.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SandboxMode, SandboxStatus } from '../../../../protocol/server';

export interface BubblewrapDetection {
  status: SandboxStatus;
  /** Absolute paths, set when `status.enabled`. */
  bwrap?: string;
  bash?: string;
}

export interface DetectOptions {
  mode: SandboxMode;
  platform?: NodeJS.Platform;
  /** Where to look for `bwrap` and `bash` (default `$PATH` followed by /usr/bin, /bin, /usr/local/bin). */
  pathEnv?: string;
  /** Deadline of each probe run. */
  probeTimeoutMs?: number;
  /** Where the probe makes its scratch folders (default the OS temp folder). */
  scratchDir?: string;
}

/** Flags every sandboxed command gets, before the per-task binds. */
export const baseBwrapArgs: readonly string[] = [
  '--ro-bind',
  '/',
  '/',
  '--dev',
  '/dev',
  '--proc',
  '/proc',
  '--unshare-pid',
  '--die-with-parent',
];

const installHint = 'install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap)';

/** The first executable `name` in the folders of `pathEnv`. */
export function findExecutable(name: string, pathEnv: string | undefined): string | undefined {
  const dirs = (pathEnv ?? '').split(path.delimiter).filter((d) => path.isAbsolute(d));
  for (const file of dirs.map((d) => path.join(d, name))) {
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  error?: string;
}

function run(file: string, args: string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, killSignal: 'SIGKILL', encoding: 'utf8' }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { killed?: boolean; code?: number | string }) | null;
      if (e && typeof e.code !== 'number') {
        resolve({ code: null, stdout, stderr, error: e.killed ? `no answer within ${timeoutMs} ms` : e.message });
      } else resolve({ code: e ? Number(e.code) : 0, stdout, stderr });
    });
  });
}

const firstLine = (s: string) => s.trim().split('\n')[0]?.trim() ?? '';

/** Whether agents' commands can be sandboxed here, and why (not). Never throws; bounded by the probe deadline. */
export async function detectBubblewrap(opts: DetectOptions): Promise<BubblewrapDetection> {
  const platform = opts.platform ?? process.platform;
  const off = (reason: string): BubblewrapDetection => ({ status: { enabled: false, reason } });
  if (opts.mode === 'off')
    return off(
      'Turned off by the sandbox setting (orchestrator.agents.sandbox = "off"): agents\' commands can write wherever the permission policy lets them.',
    );
  if (platform !== 'linux')
    return off(`No OS sandbox on ${platform}: bubblewrap is Linux-only; agents' commands are limited by the permission policy alone.`);
  const pathEnv = opts.pathEnv ?? [process.env.PATH ?? '', '/usr/bin', '/bin', '/usr/local/bin'].join(path.delimiter);
  const bwrap = findExecutable('bwrap', pathEnv);
  if (!bwrap) return off(`bubblewrap (bwrap) is not installed: ${installHint}, then restart the server.`);
  const bash = findExecutable('bash', pathEnv);
  if (!bash) return off('No bash found on PATH, which the sandboxed shell needs.');
  const timeoutMs = opts.probeTimeoutMs ?? 5000;
  const scratch = fs.mkdtempSync(path.join(opts.scratchDir ?? os.tmpdir(), 'orch-sandbox-probe-'));
  try {
    const rw = path.join(scratch, 'rw');
    fs.mkdirSync(rw);
    // The probe proves the two halves of the promise: the bound folder is writable, its sibling is not.
    const probe = await run(
      bwrap,
      [...baseBwrapArgs, '--bind', rw, rw, '--', bash, '-c', 'touch "$1/ok" && ! touch "$2/escaped" 2>/dev/null', 'probe', rw, scratch],
      timeoutMs,
    );
    const wrote = fs.existsSync(path.join(rw, 'ok'));
    const escaped = fs.existsSync(path.join(scratch, 'escaped'));
    if (probe.code !== 0 || !wrote || escaped) {
      const why =
        probe.error ?? (escaped ? 'a write outside the bound folder succeeded' : firstLine(probe.stderr) || `exit code ${probe.code}`);
      const userns = /namespace|permission|operation not permitted/i.test(why)
        ? ' (unprivileged user namespaces may be disabled: e.g. sysctl kernel.unprivileged_userns_clone=1, or an AppArmor profile for bwrap on Ubuntu 24.04+)'
        : '';
      return off(`bwrap at ${bwrap} is installed but could not make a sandbox here: ${why}${userns}.`);
    }
    const version = firstLine((await run(bwrap, ['--version'], timeoutMs)).stdout) || 'bubblewrap';
    return {
      status: {
        enabled: true,
        reason: `${version} (${bwrap}): agents' shell commands can write only in their task folder and a private temp folder.`,
      },
      bwrap,
      bash,
    };
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** POSIX single-quoting. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The wrapper OpenCode runs as its shell (`<wrapper> -c <command>`, cwd = the command's folder). It picks the
 * longest registered task folder containing the physical cwd, then execs bwrap (see the file header).
 */
export function wrapperScript(p: { bwrap: string; bash: string; rootsFile: string; tmpRoot: string }): string {
  return `#!${p.bash}
# Generated by Industrial Orchestrator: runs one agent shell command inside bubblewrap, writable only in
# the task folder that contains the working directory (its .git read-only) and that folder's private temp.
cwd=$(pwd -P) || exit 126
roots=${shellQuote(p.rootsFile)}
root='' id=''
if [[ -r "$roots" ]]; then
  while IFS=$'\\t' read -r i r; do
    if [[ -n "$r" && ( "$cwd" == "$r" || "$cwd" == "$r"/* ) && \${#r} -gt \${#root} ]]; then root=$r; id=$i; fi
  done < "$roots"
fi
args=(${baseBwrapArgs.map(shellQuote).join(' ')})
if [[ -n "$root" ]]; then
  args+=(--bind "$root" "$root")
  if [[ -e "$root/.git" ]]; then args+=(--ro-bind "$root/.git" "$root/.git"); fi
  tmp=${shellQuote(p.tmpRoot)}/"$id"
  if [[ "$id" =~ ^[0-9a-f]+$ && -d "$tmp" ]]; then args+=(--bind "$tmp" "$tmp" --setenv TMPDIR "$tmp" --setenv TMP "$tmp" --setenv TEMP "$tmp"); fi
else
  echo "orchestrator sandbox: $cwd is not in a task folder, so this command can write nowhere" >&2
fi
# Provider keys (ORCH_KEY_*) are for OpenCode's model calls, never for the commands agents run.
for v in "\${!ORCH_KEY_@}"; do unset "$v"; done
exec ${shellQuote(p.bwrap)} "\${args[@]}" --chdir "$cwd" -- ${shellQuote(p.bash)} "$@"
`;
}

/** Id of a task folder's private temp folder. */
export function rootId(root: string): string {
  return createHash('sha256').update(root).digest('hex').slice(0, 16);
}

/**
 * The wrapper, its roots file and the private temp folders, under `dir` (inside the orchestrator's data
 * folder, which is itself read-only inside the sandbox).
 */
export class BubblewrapSandbox {
  /** Path of the wrapper to give OpenCode as its shell. */
  readonly shellPath: string;
  private readonly rootsFile: string;
  private readonly tmpRoot: string;
  private readonly counts = new Map<string, number>();

  constructor(
    private readonly dir: string,
    detection: { bwrap: string; bash: string },
  ) {
    this.shellPath = path.join(dir, 'bin', 'bash');
    this.rootsFile = path.join(dir, 'roots.tsv');
    this.tmpRoot = path.join(dir, 'tmp');
    fs.rmSync(this.tmpRoot, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(this.shellPath), { recursive: true, mode: 0o700 });
    fs.mkdirSync(this.tmpRoot, { recursive: true, mode: 0o700 });
    this.writeRoots();
    const script = wrapperScript({ ...detection, rootsFile: this.rootsFile, tmpRoot: this.tmpRoot });
    const tmp = `${this.shellPath}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, script, { mode: 0o755 });
    fs.renameSync(tmp, this.shellPath);
  }

  /** Folders whose commands may write in them right now (physical paths). */
  roots(): string[] {
    return [...this.counts.keys()];
  }

  /**
   * Makes `folder` (resolved to its physical path) writable for commands run inside it until the returned
   * function is called; registrations are counted, so two turns in one folder keep it open until both end.
   */
  allow(folder: string): () => void {
    const root = fs.realpathSync(folder);
    if (/[\n\r]/.test(root)) throw new Error(`A task folder with a line break in its path cannot be sandboxed: ${JSON.stringify(root)}`);
    const n = this.counts.get(root) ?? 0;
    this.counts.set(root, n + 1);
    if (n === 0) {
      fs.mkdirSync(path.join(this.tmpRoot, rootId(root)), { recursive: true, mode: 0o700 });
      this.writeRoots();
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.counts.get(root) ?? 1) - 1;
      if (left > 0) {
        this.counts.set(root, left);
        return;
      }
      this.counts.delete(root);
      this.writeRoots();
      fs.rmSync(path.join(this.tmpRoot, rootId(root)), { recursive: true, force: true });
    };
  }

  private writeRoots(): void {
    const text = [...this.counts.keys()].map((r) => `${rootId(r)}\t${r}\n`).join('');
    const tmp = `${this.rootsFile}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, text, { mode: 0o600 });
    fs.renameSync(tmp, this.rootsFile);
  }
}
