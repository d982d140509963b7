/**
 * Store migrations of the run/task vocabulary (issue 10), kept apart from `storeSchema.ts`, which lists
 * them in its ordered migrations. Pure: raw objects in, raw objects out.
 */

type Raw = Record<string, unknown>;
const isObject = (x: unknown): x is Raw => !!x && typeof x === 'object' && !Array.isArray(x);

/**
 * Version 2 → 3: a record in `runs` (one agent turn) says what it belongs to with `sessionId` and `taskId`.
 * Version 2 gave a single run the made-up session id `run-<id>` (clients told single runs apart by that
 * prefix) and did not record which session task a run was an attempt of. Now a single run has no
 * `sessionId`, and a run that is the `runId` of a session task gets that task's id as `taskId`. Times
 * stay ISO 8601 strings (the protocol's format). Anything that is not a record is left for validation.
 */
export function migrateRunsV2ToV3(raw: Raw): Raw {
  const attemptOf = new Map<string, string>();
  if (Array.isArray(raw.tasks))
    for (const t of raw.tasks) if (isObject(t) && typeof t.runId === 'string' && typeof t.id === 'string') attemptOf.set(t.runId, t.id);
  const runs = Array.isArray(raw.runs)
    ? raw.runs.map((r: unknown) => {
        if (!isObject(r) || typeof r.id !== 'string') return r;
        const { sessionId, ...rest } = r;
        const single = sessionId === `run-${r.id}`;
        const taskId = typeof r.taskId === 'string' ? r.taskId : attemptOf.get(r.id);
        return { ...rest, ...(single || sessionId === undefined ? {} : { sessionId }), ...(taskId ? { taskId } : {}) };
      })
    : raw.runs;
  return { ...raw, schemaVersion: 3, runs };
}
