/**
 * The idle agent process of one ACP adapter, ready for the next run: a spare spawned and initialized ahead of
 * time (`start()`, refilled after a run took it), or the process of a run that ended cleanly and was released
 * (`give`), so a run does not pay a spawn and an `initialize` when a process is idle. At most one is kept; it is
 * stopped when no run takes it within the idle period. A taken process serves one run at a time.
 */
import type { AcpLink } from './link';
import type { Route } from './route';

export interface PooledProcess {
  link: AcpLink;
  route: Route;
}

export interface ProcessPoolOptions {
  /** Spawns and initializes a new process. */
  open(): Promise<PooledProcess>;
  /** An idle process is stopped after this long. */
  idleMs: number;
  log?: (line: string) => void;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export class ProcessPool {
  private idle?: Promise<PooledProcess>;
  private timer?: NodeJS.Timeout;
  /** `start()` was called: a spare is kept ready (refilled after each run that took it). */
  private warm = false;
  private disposed = false;

  constructor(private readonly opts: ProcessPoolOptions) {}

  /** Spawns the spare now and waits for it (its failure is the caller's). */
  async start(): Promise<void> {
    this.warm = true;
    this.idle ??= this.opts.open();
    try {
      await this.idle;
    } catch (e) {
      this.idle = undefined;
      throw e;
    }
  }

  /** Takes the idle process (it may still be starting); undefined when there is none. */
  take(): Promise<PooledProcess | undefined> | undefined {
    const idle = this.idle;
    if (!idle) return undefined;
    this.idle = undefined;
    clearTimeout(this.timer);
    return idle.then(
      (p) => (p.link.alive ? p : undefined),
      () => undefined,
    );
  }

  /**
   * Keeps the process of a run that ended cleanly for the next run (it replaces a spare that may still be
   * starting). False when the pool is disposed or the process is gone: the caller stops it.
   */
  give(p: PooledProcess): boolean {
    if (this.disposed || !p.link.alive) return false;
    const previous = this.idle;
    this.keep(Promise.resolve(p));
    if (previous)
      void previous.then(
        (old) => (old.link === p.link ? undefined : old.link.stop()),
        () => undefined,
      );
    return true;
  }

  /** A new spare after a run took the last one (only once `start()` asked for spares). */
  refill(): void {
    if (!this.warm || this.disposed || this.idle) return;
    const spare = this.opts.open();
    spare.catch((e: unknown) => this.opts.log?.(`the spare agent process did not start: ${message(e)}`));
    this.keep(spare);
  }

  private keep(p: Promise<PooledProcess>): void {
    this.idle = p;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.idle !== p) return;
      this.idle = undefined;
      void p.then(
        (x) => x.link.stop(),
        () => undefined,
      );
    }, this.opts.idleMs);
    this.timer.unref();
  }

  /** Pid of the idle process when it is ready (diagnostics and tests). */
  async idlePid(): Promise<number | undefined> {
    const p = await this.idle?.catch(() => undefined);
    return p?.link.alive ? p.link.proc.pid : undefined;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    clearTimeout(this.timer);
    const idle = this.idle;
    this.idle = undefined;
    const p = await idle?.catch(() => undefined);
    await p?.link.stop();
  }
}
