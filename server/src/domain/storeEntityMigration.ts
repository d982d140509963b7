/**
 * Store migration to the typed store (issue 10; 2 → 3 on this branch): from it on, the store validates
 * every record against its entity schema (storeEntities.ts). Records written by older servers may lack
 * fields that have a natural default; this fills exactly those (never overwriting a value, never guessing one that has no
 * default), so an older store loads, and anything still wrong is then named by validation.
 * Pure. Kept apart from the vocabulary migrations (storeMigrations.ts) so the two merge independently.
 */
import { emptyUsage } from './agentEvent';
import { newBudget } from './orchestration/budget';
import { defaultMaxAttempts } from './orchestration/taskState';

type Raw = Record<string, unknown>;

const isObject = (v: unknown): v is Raw => !!v && typeof v === 'object' && !Array.isArray(v);

/** `rec` with `defaults` for the keys it does not have. Non-objects are returned as they are (validation names them). */
function withDefaults(rec: unknown, defaults: Raw): unknown {
  if (!isObject(rec)) return rec;
  const out: Raw = { ...rec };
  for (const [k, v] of Object.entries(defaults)) if (!(k in out)) out[k] = v;
  return out;
}

const mapList = (list: unknown, fn: (rec: unknown, i: number) => unknown): unknown => (Array.isArray(list) ? list.map(fn) : list);

/** Fills the defaults; the caller (storeSchema.ts's migration list) sets the schema version. */
export function migrateToTypedEntities(raw: Raw): Raw {
  const sessions = mapList(raw.sessions, (s) =>
    withDefaults(s, {
      priority: 2,
      budget: newBudget(),
      usage: emptyUsage(),
      ...(isObject(s) && typeof s.createdAt === 'number' ? { updatedAt: s.createdAt } : {}),
    }),
  );
  const orderInSession = new Map<string, number>();
  const tasks = mapList(raw.tasks, (t) => {
    if (!isObject(t)) return t;
    const session = typeof t.sessionId === 'string' ? t.sessionId : '';
    const order = orderInSession.get(session) ?? 0;
    orderInSession.set(session, order + 1);
    return withDefaults(t, {
      ...(typeof t.id === 'string' ? { planId: t.id } : {}),
      dependsOn: [],
      expectedFiles: [],
      capabilities: [],
      estimate: { tokens: 20_000, minutes: 10 },
      mode: 'write',
      order,
      attempts: 0,
      maxAttempts: defaultMaxAttempts,
      ...(typeof t.createdAt === 'number' ? { updatedAt: t.createdAt } : {}),
    });
  });
  const runs = mapList(raw.runs, (r) => withDefaults(r, { usage: emptyUsage(), events: 0 }));
  const agentHealth = isObject(raw.agentHealth)
    ? Object.fromEntries(
        Object.entries(raw.agentHealth).map(([k, h]) => [
          k,
          withDefaults(h, { running: 0, successes: 0, failures: 0, consecutiveFailures: 0, circuit: 'closed' }),
        ]),
      )
    : raw.agentHealth;
  return { ...raw, sessions, tasks, runs, agentHealth };
}
