/**
 * In-memory stand-ins for the service-level unit tests (recovery, write faults): a store that keeps its data
 * in memory (and can be made to fail like a full disk), a silent logger, an executor that runs jobs at once,
 * a path resolver that takes paths as written, a polling wait with a deadline, a RunService on a fixture agent,
 * and a real git repository with one commit.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { StoreStatus } from '../../../protocol/server';
import type { StoreData } from '../domain/storeSchema';
import type { Executor } from '../ports/executor';
import type { Logger } from '../ports/logger';
import type { PathResolverPort } from '../ports/pathResolver';
import type { StorePort } from '../ports/store';
import { emptyStore } from '../domain/storeSchema';
import { RunService, type RunServiceDeps } from './runService';

export const enospc = (): Error => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

export class MemoryStore implements StorePort {
  /** While true, every write fails with ENOSPC and changes nothing. */
  full = false;
  constructor(public data: StoreData) {}
  async load(): Promise<StoreStatus> {
    return this.status();
  }
  status(): StoreStatus {
    return { kind: 'lowdb', path: ':memory:', schemaVersion: 1, state: 'ok' };
  }
  read(): Readonly<StoreData> {
    return this.data;
  }
  async update(mutate: (d: StoreData) => void | boolean): Promise<void> {
    const draft = structuredClone(this.data);
    if (mutate(draft) === false) return;
    if (this.full) throw enospc();
    this.data = draft;
  }
}

/** Paths are taken as written (no symlinks in these tests). */
export const identityPaths: PathResolverPort = { resolve: async (p) => p, expand: async () => [], home: () => '/home/user' };
export const quiet: Logger = { error() {}, warn() {}, info() {}, debug() {} };
export const immediate: Executor = { add: (job) => void job(), load: 0, onIdle: async () => undefined };

export async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * A RunService for one run (`r1`) of the fixture agent `runtime`, with a memory store (unless given), a
 * policy that denies every ask, the clock at 0, and each published event's key pushed to `published`.
 */
export function fixtureRunService(
  d: Pick<RunServiceDeps, 'transcripts' | 'workspace'> & {
    runtime: ReturnType<RunServiceDeps['runtime']>;
    published: string[];
    store?: StorePort;
  },
): RunService {
  return new RunService({
    store: d.store ?? new MemoryStore(emptyStore(new Date(0).toISOString())),
    transcripts: d.transcripts,
    workspace: d.workspace,
    runtime: () => d.runtime,
    checkModel: () => undefined,
    publish: (u) => {
      if (u.event) d.published.push(u.event.key);
    },
    askUser: async () => 'deny',
    newId: () => 'r1',
    now: () => new Date(0),
    logger: quiet,
    paths: identityPaths,
  });
}

/** A real git repository (branch `main`) in a new temp folder, with one commit holding README.md. */
export function gitRepo(prefix = 'orch-repo-'): string {
  const d = mkdtempSync(path.join(os.tmpdir(), prefix));
  const git = (...a: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...a], { cwd: d, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  writeFileSync(path.join(d, 'README.md'), '# r\n');
  git('add', '-A');
  git('commit', '-qm', 'init');
  return d;
}
