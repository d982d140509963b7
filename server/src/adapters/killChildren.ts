/**
 * Kills child processes and waits until each has exited. It waits for 'exit', not 'close': a process the
 * child started may keep the pipes open after the child is gone, which would hold 'close' for as long as it
 * lives. The pipes are destroyed afterwards, so nothing of ours waits on them either.
 */
import type { ChildProcess } from 'node:child_process';

export async function killChildren(children: readonly ChildProcess[]): Promise<void> {
  for (const c of children) c.kill('SIGKILL');
  await Promise.all(
    children.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('exit', r)))),
  );
  for (const c of children) {
    c.stdout?.destroy();
    c.stderr?.destroy();
  }
}
