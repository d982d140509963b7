/**
 * The client side of ACP `terminal/*` (advertised only when a descriptor sets `quirks.advertiseTerminal`):
 * commands the agent asks us to run, in a folder inside the task's worktree, each judged first by the
 * permission policy as a `bash` command line. Output is kept up to the agent's byte limit (oldest dropped);
 * every terminal of a turn is killed when the turn ends. With an OS sandbox, every command runs through its
 * shell (`<shellPath> -c <command line>`): writable only in the task's worktree (allowed by the route for the
 * turn) and a private temp folder, without the provider keys.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { CommandSandbox } from '../../ports/commandSandbox';

export interface TerminalExit {
  exitCode: number | null;
  signal: string | null;
}

interface Term {
  child: ChildProcess;
  output: string;
  truncated: boolean;
  limit: number;
  exit?: TerminalExit;
  exited: Promise<TerminalExit>;
}

const defaultLimit = 1024 * 1024;

/** The command line the policy judges (and, for a bare command string, what the shell runs). */
export function commandLine(command: string, args: readonly string[]): string {
  const quote = (w: string) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`);
  return args.length ? [command, ...args].map(quote).join(' ') : command;
}

export class Terminals {
  private readonly terms = new Map<string, Term>();
  private next = 1;

  constructor(
    private readonly env: Record<string, string>,
    private readonly sandbox?: Pick<CommandSandbox, 'shellPath'>,
  ) {}

  create(p: {
    command: string;
    args?: string[];
    env?: { name: string; value: string }[];
    cwd: string;
    outputByteLimit?: number | null;
  }): string {
    const env = { ...this.env };
    for (const v of p.env ?? []) env[v.name] = v.value;
    const args = p.args ?? [];
    // A bare command string is a shell command line (what the policy judged); otherwise the program runs directly.
    const child = this.sandbox
      ? spawn(this.sandbox.shellPath, ['-c', commandLine(p.command, args)], {
          cwd: p.cwd,
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
          detached: process.platform !== 'win32',
        })
      : args.length || !/\s/.test(p.command)
        ? spawn(p.command, args, { cwd: p.cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: process.platform !== 'win32' })
        : spawn('/bin/sh', ['-c', p.command], {
            cwd: p.cwd,
            env,
            stdio: ['ignore', 'pipe', 'pipe'],
            detached: process.platform !== 'win32',
          });
    const id = `term_${this.next++}`;
    const term: Term = {
      child,
      output: '',
      truncated: false,
      limit: p.outputByteLimit && p.outputByteLimit > 0 ? p.outputByteLimit : defaultLimit,
      exited: new Promise((resolve) => {
        const done = (exitCode: number | null, signal: string | null) => {
          if (term.exit) return;
          term.exit = { exitCode, signal };
          resolve(term.exit);
        };
        child.once('exit', (c, s) => done(c, s));
        child.once('error', (e) => {
          term.output += `${e.message}\n`;
          done(127, null);
        });
      }),
    };
    const onData = (d: Buffer) => {
      term.output += d.toString('utf8');
      if (Buffer.byteLength(term.output) > term.limit) {
        term.output = term.output.slice(-Math.floor(term.limit / 2));
        term.truncated = true;
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    this.terms.set(id, term);
    return id;
  }

  private get(id: string): Term {
    const t = this.terms.get(id);
    if (!t) throw new Error(`no terminal ${id}`);
    return t;
  }

  output(id: string): { output: string; truncated: boolean; exitStatus?: TerminalExit } {
    const t = this.get(id);
    return { output: t.output, truncated: t.truncated, ...(t.exit ? { exitStatus: t.exit } : {}) };
  }

  waitForExit(id: string): Promise<TerminalExit> {
    return this.get(id).exited;
  }

  kill(id: string): void {
    const t = this.get(id);
    if (t.exit || t.child.pid === undefined) return;
    try {
      process.kill(process.platform === 'win32' ? t.child.pid : -t.child.pid, 'SIGKILL');
    } catch {
      t.child.kill('SIGKILL');
    }
  }

  release(id: string): void {
    if (!this.terms.has(id)) return;
    this.kill(id);
    this.terms.delete(id);
  }

  releaseAll(): void {
    for (const id of [...this.terms.keys()]) this.release(id);
  }
}
