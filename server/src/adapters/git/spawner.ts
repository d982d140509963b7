/**
 * Git processes started by a small long-lived helper process instead of by the server itself.
 *
 * Why: starting a process from the server is a synchronous `fork` of the whole server (its heap's page tables
 * copied): 35–140 ms of a blocked event loop per git process on a loaded 2-core machine with a ~200 MB server,
 * against ~0–5 ms of a message to a ~40 MB helper whose own forks are cheap and block nobody else
 * (`docs/performance.md`, ACP turn overhead). The helper is `node -e` over an IPC channel (no file to ship);
 * it exits when the server goes away (the channel closes). A helper that cannot start or dies makes the calls
 * run directly, as before: slower, never wrong.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';

export interface ExecOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeout: number;
  maxBuffer: number;
}

/** The helper: runs each `{ id, file, args, opts }` with `execFile` and answers `{ id, ok, stdout, message }`. */
const helperSource = `
const { execFile } = require('node:child_process');
process.on('disconnect', () => process.exit(0));
process.on('message', (m) => {
  try {
    execFile(m.file, m.args, m.opts, (err, stdout) =>
      process.send({ id: m.id, ok: !err, stdout: err ? '' : stdout, message: err ? String(err.message) : '' }));
  } catch (e) {
    process.send({ id: m.id, ok: false, stdout: '', message: String(e && e.message) });
  }
});
`;

interface Pending {
  resolve(out: string): void;
  reject(e: Error): void;
  direct(): void;
  timer: NodeJS.Timeout;
}

/** Failures that end the helper before the first use are not retried more often than this. */
const restartAfterMs = 5_000;

class Spawner {
  private child?: ChildProcess;
  private next = 0;
  private readonly pending = new Map<number, Pending>();
  private brokenAt = -Infinity;

  run(file: string, args: string[], opts: ExecOptions): Promise<string> {
    const child = this.helper();
    if (!child) return direct(file, args, opts);
    return new Promise<string>((resolve, reject) => {
      const id = ++this.next;
      const entry: Pending = {
        resolve,
        reject,
        direct: () => direct(file, args, opts).then(resolve, reject),
        // The helper's own timeout kills git at `opts.timeout`; this is the deadline for its answer.
        timer: setTimeout(
          () => this.settle(id)?.reject(new Error(`git ${args.join(' ')}: no answer from the spawner`)),
          opts.timeout + 5_000,
        ),
      };
      this.pending.set(id, entry);
      this.refChannel(true);
      try {
        child.send({ id, file, args, opts: { cwd: opts.cwd, env: opts.env, timeout: opts.timeout, maxBuffer: opts.maxBuffer } });
      } catch {
        this.settle(id)?.direct();
      }
    });
  }

  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (this.pending.size === 0) this.refChannel(false);
    return p;
  }

  private refChannel(on: boolean): void {
    const c = this.child as (ChildProcess & { channel?: { ref(): void; unref(): void } }) | undefined;
    if (on) c?.channel?.ref();
    else c?.channel?.unref();
  }

  private helper(): ChildProcess | undefined {
    if (this.child) return this.child;
    if (Date.now() - this.brokenAt < restartAfterMs) return undefined;
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, ['-e', helperSource], {
        stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
        serialization: 'advanced',
        env: { ...process.env, NODE_OPTIONS: '' },
      });
    } catch {
      this.brokenAt = Date.now();
      return undefined;
    }
    child.unref();
    child.on('message', (m: { id: number; ok: boolean; stdout: string; message: string }) => {
      const p = this.settle(m.id);
      if (!p) return;
      if (m.ok) p.resolve(m.stdout);
      else p.reject(new Error(m.message));
    });
    const gone = () => {
      if (this.child !== child) return;
      this.child = undefined;
      this.brokenAt = Date.now();
      // Whatever was in flight runs directly.
      for (const id of [...this.pending.keys()]) this.settle(id)?.direct();
    };
    child.on('exit', gone);
    child.on('error', gone);
    this.child = child;
    this.refChannel(false);
    return child;
  }

  /** Stops the helper (tests). */
  stop(): void {
    this.child?.kill();
  }

  /** The helper's pid, or undefined (tests). */
  get pid(): number | undefined {
    return this.child?.pid;
  }
}

function direct(file: string, args: string[], opts: ExecOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, opts, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
}

const spawner = new Spawner();

/** `execFile(file, args)` through the helper: resolves with stdout (utf8), rejects on a non-zero exit, a timeout or too much output. */
export function execViaSpawner(file: string, args: string[], opts: ExecOptions): Promise<string> {
  if (process.env.ORCH_GIT_SPAWNER === '0') return direct(file, args, opts);
  return spawner.run(file, args, opts);
}

/** The helper process, for tests: its pid and a way to kill it. */
export const spawnerForTests = {
  get pid(): number | undefined {
    return spawner.pid;
  },
  stop(): void {
    spawner.stop();
  },
};
