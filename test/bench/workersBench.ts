/**
 * Worker figures for `npm run bench` (issue 15): tasks per minute with one `orchestrator worker` and with two
 * on the same PostgreSQL, in the same run (scripted model, the fixture ACP agent, a bare repository as the
 * team's remote; test/integration/workerTeam.ts). The clock runs from queueing to the last task's recorded
 * outcome (branch pushed); workers are started before. Prints one JSON line: the rows for run.mjs's table.
 */
import { startTestPostgres } from '../../server/src/adapters/postgres/testPostgres';
import { startWorkerTeam, type WorkerTeam } from '../integration/workerTeam';

const tasks = Number(process.env.BENCH_WORKERS_TASKS ?? 40);
const concurrency = Number(process.env.BENCH_WORKERS_CONCURRENCY ?? 4);

async function drain(team: WorkerTeam, sessionId: string): Promise<number> {
  const t0 = Date.now();
  await team.enqueue('bench', [sessionId], tasks);
  for (const end = t0 + 900_000; ;) {
    const r = await team.sql.query<{ n: number }>(
      `select count(*)::int as n from orch_worker_task_outcomes where tenant_id = 'bench' and session_id = $1`,
      [sessionId],
    );
    if (r.rows[0].n >= tasks) return (tasks * 60_000) / (Date.now() - t0);
    if (Date.now() > end) throw new Error(`${r.rows[0].n}/${tasks} tasks done after 900 s`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

async function main(): Promise<void> {
  const db = await startTestPostgres();
  const team = await startWorkerTeam(await db.createDatabase('bench'), 120);
  try {
    const a = await team.startWorker('one', { concurrency });
    const one = await drain(team, 'one');
    await a.stop();
    const [b, c] = await Promise.all([team.startWorker('two-a', { concurrency }), team.startWorker('two-b', { concurrency })]);
    const two = await drain(team, 'two');
    await Promise.all([b.stop(), c.stop()]);
    const rows = [
      [
        `workers: tasks/min, 2 workers (${tasks} tasks)`,
        two,
        NaN,
        one,
        `tasks/min with 1 worker (${concurrency} at once each, same run)`,
        'tasks/min',
      ],
    ];
    console.log(`BENCH_ROWS ${JSON.stringify(rows)}`);
  } finally {
    await team.close();
    await db.stop();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
