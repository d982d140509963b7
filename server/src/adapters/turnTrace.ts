/**
 * Bench-only phase trace of a turn: with `ORCH_TURN_TRACE=<file>` each call appends `<epoch ms> <run> <phase>`
 * to that file (synchronously: only for profiling). Off (the default), a call returns at once.
 */
import fs from 'node:fs';

const file = process.env.ORCH_TURN_TRACE;

export function turnTrace(run: string, phase: string | (() => string)): void {
  if (!file) return;
  const t = performance.timeOrigin + performance.now();
  try {
    fs.appendFileSync(file, `${t.toFixed(1)} ${run} ${typeof phase === 'string' ? phase : phase()}\n`);
  } catch {
    // A trace that cannot be written never breaks a turn.
  }
}
