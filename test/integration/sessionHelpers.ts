/** Helpers for the session integration tests: sample repos, waiting on session states, intervals. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sessionGet, type SessionView } from '../../protocol/session';
import type { ServerHandle } from './serverProcess';

export function sampleRepo(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'orch-sess-'));
  const git = (...a: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...a], { cwd: d, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  writeFileSync(path.join(d, 'README.md'), '# sample\n');
  git('add', '-A');
  git('commit', '-qm', 'init');
  return d;
}

/** A fresh sample repository moved to `root/name` (a team tenant's repositories live under its root). */
export function sampleRepoAt(root: string, name: string): string {
  const p = path.join(root, name);
  renameSync(sampleRepo(), p);
  return p;
}

export async function waitSession(
  s: ServerHandle,
  sessionId: string,
  done: (v: SessionView) => boolean,
  ms = 180_000,
): Promise<SessionView> {
  const end = Date.now() + ms;
  let last: SessionView | undefined;
  while (Date.now() < end) {
    last = await s.request(sessionGet, { sessionId });
    if (done(last)) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `session ${sessionId} did not reach the expected state within ${ms} ms; last: ${JSON.stringify(last?.tasks.map((t) => [t.planId, t.state, t.lastError]))} ${last?.state}`,
  );
}

export const ended = (v: SessionView) => ['completed', 'partially_completed', 'failed', 'cancelled', 'timed_out'].includes(v.state);

export function task(v: SessionView, planId: string) {
  const t = v.tasks.find((x) => x.planId === planId);
  if (!t) throw new Error(`no task ${planId} in ${v.tasks.map((x) => x.planId)}`);
  return t;
}

/** Epoch milliseconds of a protocol time (ISO 8601). */
export const ms = (iso: string | undefined): number => Date.parse(iso!);
export const overlapsInTime = (a: { startedAt?: string; finishedAt?: string }, b: { startedAt?: string; finishedAt?: string }) =>
  ms(a.startedAt) < ms(b.finishedAt) && ms(b.startedAt) < ms(a.finishedAt);
