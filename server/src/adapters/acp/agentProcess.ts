/**
 * One ACP agent process: spawned in its own process group with exactly the environment it was given, stdio
 * pipes for ndjson, a bounded stderr tail, and a kill that takes the whole group (an agent's shell tools
 * included). Processes still running when the orchestrator exits are killed by an exit hook.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderrTail: string;
}

const live = new Set<ChildProcess>();
let hooked = false;

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

/** Keeps the last lines of a stream (bounded in lines and characters). */
export class TextTail {
  private lines: string[] = [];
  private partial = '';
  constructor(
    private readonly maxLines = 60,
    private readonly maxChars = 4000,
  ) {}
  push(chunk: string): string[] {
    const parts = (this.partial + chunk).split('\n');
    this.partial = (parts.pop() ?? '').slice(-this.maxChars);
    const done = parts.filter((l) => l.trim() !== '').map((l) => l.slice(0, this.maxChars));
    this.lines.push(...done);
    if (this.lines.length > this.maxLines) this.lines.splice(0, this.lines.length - this.maxLines);
    return done;
  }
  text(): string {
    return [...this.lines, this.partial].filter(Boolean).join('\n').slice(-this.maxChars);
  }
}

export class AgentProcess {
  readonly child: ChildProcess;
  private readonly tail = new TextTail();
  private exitInfo?: ProcessExit;
  readonly exited: Promise<ProcessExit>;
  /** Rejects when the program could not be spawned at all (ENOENT, EACCES). */
  readonly spawnFailed: Promise<Error>;

  constructor(opts: { command: string; args: string[]; env: Record<string, string>; cwd: string; log?: (line: string) => void }) {
    if (!hooked) {
      hooked = true;
      process.on('exit', () => {
        for (const c of live) killGroup(c, 'SIGKILL');
      });
    }
    this.child = spawn(opts.command, opts.args, {
      cwd: opts.cwd,
      env: opts.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: process.platform !== 'win32',
      windowsHide: true,
    });
    live.add(this.child);
    this.spawnFailed = new Promise<Error>((resolve) => this.child.once('error', resolve));
    this.exited = new Promise<ProcessExit>((resolve) => {
      const done = (code: number | null, signal: NodeJS.Signals | null) => {
        if (this.exitInfo) return;
        live.delete(this.child);
        this.exitInfo = { code, signal, stderrTail: this.tail.text() };
        resolve(this.exitInfo);
      };
      this.child.once('exit', done);
      this.child.once('error', () => done(null, null));
    });
    this.child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      for (const l of this.tail.push(d)) opts.log?.(`stderr: ${l}`);
    });
    // A closed pipe (the agent died) must not throw in our process.
    this.child.stdin?.on('error', () => undefined);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return !this.exitInfo && this.child.exitCode === null && this.child.signalCode === null;
  }

  stderrTail(): string {
    return this.tail.text();
  }

  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves once it exited (bounded). */
  async stop(graceMs = 1500): Promise<void> {
    if (!this.alive) return;
    killGroup(this.child, 'SIGTERM');
    const timeout = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());
    if ((await Promise.race([this.exited.then(() => 'exited'), timeout(graceMs)])) !== 'exited') {
      killGroup(this.child, 'SIGKILL');
      await Promise.race([this.exited, timeout(2000)]);
    }
    if (process.platform !== 'win32' && this.child.pid !== undefined) {
      try {
        process.kill(-this.child.pid, 'SIGKILL');
      } catch {
        /* group empty */
      }
    }
  }
}
