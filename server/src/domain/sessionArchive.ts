/**
 * Which finished sessions leave the hot store, and the records that go with them. Pure: the store
 * adapter writes the files, the archiver service decides when to ask.
 */
import { isSessionTerminal } from './orchestration/sessionState';
import type { ArchiveEntry, ArchivedSession } from './storeEntities';
import type { StoreData } from './storeSchema';

/** How long a session stays in the hot store after it reached a terminal state. */
export const defaultArchiveAfterMs = 10 * 60_000;

/**
 * Sessions that finished at least `afterMs` ago, have no task still running, and are not `busy` (an
 * operation on them is in flight), oldest first.
 */
export function sessionsToArchive(
  data: Pick<StoreData, 'sessions' | 'tasks'>,
  nowMs: number,
  afterMs: number,
  busy: ReadonlySet<string> = new Set(),
): string[] {
  const running = new Set(data.tasks.filter((t) => t.state === 'running').map((t) => t.sessionId));
  return data.sessions
    .filter(
      (s) =>
        isSessionTerminal(s.state) &&
        s.finishedAt !== undefined &&
        nowMs - s.finishedAt >= afterMs &&
        !running.has(s.id) &&
        !busy.has(s.id),
    )
    .sort((a, b) => (a.finishedAt ?? 0) - (b.finishedAt ?? 0))
    .map((s) => s.id);
}

/** The records of session `id` in `data` (undefined when it is not in the hot store). */
export function collectSession(data: Pick<StoreData, 'sessions' | 'tasks' | 'runs'>, id: string): ArchivedSession | undefined {
  return collectSessions(data, [id])[0];
}

/**
 * The records of the sessions `ids` that are in `data`, in the order of `ids`: one pass over the tasks and
 * runs whatever the number of sessions (a sweep moves hundreds at once).
 */
export function collectSessions(data: Pick<StoreData, 'sessions' | 'tasks' | 'runs'>, ids: readonly string[]): ArchivedSession[] {
  const byId = new Map<string, ArchivedSession>();
  const wanted = new Set(ids);
  for (const session of data.sessions)
    if (wanted.has(session.id) && !byId.has(session.id)) byId.set(session.id, { schemaVersion: 1, session, tasks: [], runs: [] });
  for (const t of data.tasks) byId.get(t.sessionId)?.tasks.push(t);
  for (const r of data.runs) if (r.sessionId !== undefined) byId.get(r.sessionId)?.runs.push(r);
  return ids.flatMap((id) => {
    const a = byId.get(id);
    byId.delete(id);
    return a ? [a] : [];
  });
}

export function archiveEntryOf(a: ArchivedSession, nowMs: number): ArchiveEntry {
  const s = a.session;
  return {
    id: s.id,
    tenantId: s.tenantId,
    title: s.goal.length > 200 ? `${s.goal.slice(0, 199)}…` : s.goal,
    state: s.state,
    createdAt: s.createdAt,
    ...(s.finishedAt !== undefined ? { finishedAt: s.finishedAt } : {}),
    archivedAt: nowMs,
  };
}

/** Moves the sessions `ids` out of `draft` into its archive index (their records must be in files already). */
export function removeArchived(draft: StoreData, archived: readonly ArchivedSession[], nowMs: number): void {
  const ids = new Set(archived.map((a) => a.session.id));
  draft.sessions = draft.sessions.filter((s) => !ids.has(s.id));
  draft.tasks = draft.tasks.filter((t) => !ids.has(t.sessionId));
  draft.runs = draft.runs.filter((r) => r.sessionId === undefined || !ids.has(r.sessionId));
  const taskIds = new Set(archived.flatMap((a) => a.tasks.map((t) => t.id)));
  draft.leases = { leases: draft.leases.leases.filter((l) => !taskIds.has(l.taskId)) };
  draft.archive = [...draft.archive.filter((e) => !ids.has(e.id)), ...archived.map((a) => archiveEntryOf(a, nowMs))];
}

/** Brings an archived session back into `draft` (a change to it is coming) and drops its index entry. */
export function restoreArchived(draft: StoreData, a: ArchivedSession): void {
  const id = a.session.id;
  draft.archive = draft.archive.filter((e) => e.id !== id);
  if (draft.sessions.some((s) => s.id === id)) return;
  draft.sessions.push(a.session);
  draft.tasks.push(...a.tasks);
  const runIds = new Set(draft.runs.map((r) => r.id));
  draft.runs.push(...a.runs.filter((r) => !runIds.has(r.id)));
}
