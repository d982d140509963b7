/**
 * One `opencode serve` process: spawn on 127.0.0.1 with a random port and Basic-auth password, wait for
 * readiness (the "listening" line, then `/global/health`, each under the start deadline), keep a stderr
 * tail, and kill the whole process group on stop. Requests sent before the "listening" line can hang
 * forever (docs/opencode.md §8.1), so nothing is sent before it.
 *
 * Orphans: the process runs in its own group (`detached`), is killed on our `exit`, and its pid is written
 * to `<home>/serve.pid` so a later start can reap a server left behind by a `kill -9` of this process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { AgentError } from '../../ports/agentRuntime';

export interface ServerProcessOptions {
  binary: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  password: string;
  startTimeoutMs: number;
  /** OpenCode's own log level, printed to stderr (and kept in the tail). Default WARN. */
  logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** Where the pid file lives (the isolated home root). */
  pidDir: string;
  /** Called once when the process exits after having become ready. */
  onExit?: (info: ExitInfo) => void;
  log?: (line: string) => void;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderrTail: string;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const c of live) killGroup(c, 'SIGKILL');
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(process.platform === 'win32' ? child.pid : -child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      /* already gone */
    }
  }
}

export function randomPassword(): string {
  return randomBytes(24).toString('base64url');
}

// A tiny detached watcher: when this process dies without running its exit hook (kill -9), it kills
// OpenCode's process group, so no `opencode serve` outlives the orchestrator. It exits with either side.
const reaperScript = `const [p, c] = process.argv.slice(1).map(Number);
const alive = (x) => { try { process.kill(x, 0); return true; } catch { return false; } };
setInterval(() => {
  if (!alive(c)) process.exit(0);
  if (!alive(p)) { try { process.kill(-c, 'SIGKILL'); } catch { try { process.kill(c, 'SIGKILL'); } catch {} } process.exit(0); }
}, 500);`;

function spawnReaper(childPid: number): void {
  if (process.platform === 'win32') return;
  try {
    const r = spawn(process.execPath, ['-e', reaperScript, String(process.pid), String(childPid)], {
      detached: true,
      stdio: 'ignore',
      // In desktop VS Code process.execPath is Electron; this makes it behave as node.
      env: { PATH: process.env.PATH ?? '', ELECTRON_RUN_AS_NODE: '1' },
    });
    r.unref();
  } catch {
    // Best effort: the pid file still lets the next start reap a leftover server.
  }
}

/** Kills a server recorded in `pidDir/serve.pid` if that pid still runs `opencode … serve` (Linux /proc check). */
export function reapStale(pidDir: string): void {
  const file = path.join(pidDir, 'serve.pid');
  let pid: number;
  try {
    pid = Number(fs.readFileSync(file, 'utf8').trim());
  } catch {
    return;
  }
  if (Number.isInteger(pid) && pid > 1) {
    let cmd = '';
    try {
      cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      /* not Linux, or gone */
    }
    if (cmd.includes('opencode') && cmd.includes('serve')) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
  }
  fs.rmSync(file, { force: true });
}

class Tail {
  private lines: string[] = [];
  private partial = '';
  constructor(private readonly max = 60) {}
  push(chunk: string): string[] {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    const done = parts.filter((l) => l.trim() !== '');
    this.lines.push(...done);
    if (this.lines.length > this.max) this.lines.splice(0, this.lines.length - this.max);
    return done;
  }
  text(): string {
    return [...this.lines, this.partial].filter(Boolean).join('\n').slice(-4000);
  }
}

export class ServerProcess {
  url = '';
  readonly authHeader: string;
  private child?: ChildProcess;
  private readonly tail = new Tail();
  private exited?: ExitInfo;
  private readonly exitWaiters: ((i: ExitInfo) => void)[] = [];

  constructor(private readonly opts: ServerProcessOptions) {
    this.authHeader = `Basic ${Buffer.from(`opencode:${opts.password}`).toString('base64')}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get alive(): boolean {
    return !!this.child && !this.exited;
  }

  stderrTail(): string {
    return this.tail.text();
  }

  /** Spawns and waits until ready; rejects with `AgentError('start_failed')` (the process is then killed). */
  async start(): Promise<void> {
    installExitHook();
    reapStale(this.opts.pidDir);
    const deadline = Date.now() + this.opts.startTimeoutMs;
    const args = ['serve', '--hostname', '127.0.0.1', '--port', '0', '--pure', '--print-logs', '--log-level', this.opts.logLevel ?? 'WARN'];
    const child = spawn(this.opts.binary, args, {
      cwd: this.opts.cwd,
      env: this.opts.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: process.platform !== 'win32',
      windowsHide: true,
    });
    this.child = child;
    live.add(child);
    if (child.pid !== undefined) {
      fs.writeFileSync(path.join(this.opts.pidDir, 'serve.pid'), String(child.pid));
      spawnReaper(child.pid);
    }
    let ready = false;
    child.on('exit', (code, signal) => {
      live.delete(child);
      const info: ExitInfo = { code, signal, stderrTail: this.tail.text() };
      this.exited = info;
      fs.rmSync(path.join(this.opts.pidDir, 'serve.pid'), { force: true });
      for (const w of this.exitWaiters.splice(0)) w(info);
      if (ready) this.opts.onExit?.(info);
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      for (const l of this.tail.push(d)) this.opts.log?.(`opencode: ${l}`);
    });
    const spawnError = new Promise<never>((_, reject) => {
      child.once('error', (e) => reject(new AgentError('start_failed', `Could not spawn ${this.opts.binary}: ${e.message}`)));
    });
    spawnError.catch(() => undefined);
    try {
      this.url = await Promise.race([this.waitListening(child, deadline), spawnError]);
      await this.waitHealthy(deadline);
      ready = true;
    } catch (e) {
      await this.stop();
      if (e instanceof AgentError) throw new AgentError(e.reason, e.message, e.stderrTail ?? this.tail.text());
      throw new AgentError('start_failed', `OpenCode did not start: ${String(e)}`, this.tail.text());
    }
  }

  private waitListening(child: ChildProcess, deadline: number): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      let buf = '';
      const timer = setTimeout(
        () => done(new AgentError('start_failed', `OpenCode printed no "listening" line within ${this.opts.startTimeoutMs} ms.`)),
        Math.max(0, deadline - Date.now()),
      );
      const onData = (d: string) => {
        buf += d;
        const m = /listening on (https?:\/\/[^\s]+)/.exec(buf);
        if (m) done(undefined, m[1].replace(/\/$/, ''));
        else if (buf.length > 65536) buf = buf.slice(-4096);
      };
      const onExit = (i: ExitInfo) =>
        done(new AgentError('start_failed', `OpenCode exited while starting (code ${i.code}, signal ${i.signal}).`, i.stderrTail));
      const done = (err?: Error, url?: string) => {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        const idx = this.exitWaiters.indexOf(onExit);
        if (idx >= 0) this.exitWaiters.splice(idx, 1);
        // Keep draining stdout so the pipe never fills up.
        child.stdout?.on('data', (d: string) => this.tail.push(d));
        if (err) reject(err);
        else resolve(url ?? '');
      };
      child.stdout?.setEncoding('utf8').on('data', onData);
      this.exitWaiters.push(onExit);
    });
  }

  private async waitHealthy(deadline: number): Promise<void> {
    let last = '';
    while (Date.now() < deadline) {
      if (this.exited)
        throw new AgentError('start_failed', `OpenCode exited while starting (code ${this.exited.code}).`, this.exited.stderrTail);
      try {
        const res = await fetch(`${this.url}/global/health`, {
          headers: { authorization: this.authHeader },
          signal: AbortSignal.timeout(Math.max(100, Math.min(3000, deadline - Date.now()))),
        });
        const body = (await res.json()) as { healthy?: boolean };
        if (res.ok && body.healthy) return;
        last = `HTTP ${res.status}`;
      } catch (e) {
        last = e instanceof Error ? e.message : String(e);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new AgentError('start_failed', `OpenCode did not report healthy within ${this.opts.startTimeoutMs} ms (${last}).`);
  }

  /** Resolves when the process has exited (immediately if it has). */
  waitExit(): Promise<ExitInfo> {
    if (this.exited) return Promise.resolve(this.exited);
    if (!this.child) return Promise.resolve({ code: null, signal: null, stderrTail: '' });
    return new Promise((r) => this.exitWaiters.push(r));
  }

  /** SIGTERM to the process group, SIGKILL after `graceMs`; resolves once it exited (bounded). */
  async stop(graceMs = 2000): Promise<void> {
    const child = this.child;
    if (!child || this.exited) return;
    killGroup(child, 'SIGTERM');
    const exited = this.waitExit();
    const t = await Promise.race([exited.then(() => 'exited'), new Promise((r) => setTimeout(() => r('timeout'), graceMs))]);
    if (t !== 'exited') {
      killGroup(child, 'SIGKILL');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
    }
    // Children of the server (bash tools, git) may outlive it in the group; make sure none remain.
    if (process.platform !== 'win32' && child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* group empty */
      }
    }
  }
}
