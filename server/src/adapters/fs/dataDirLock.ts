/**
 * One writer per data folder: `<dataDir>/server.lock` holds the owner's pid. A second server (another
 * VS Code window, a CLI run on the extension's folder) sees a live owner and stays read-only; a lock
 * left by a process that died (kill -9) is taken over.
 */
import { promises as fs, unlinkSync } from 'node:fs';
import path from 'node:path';

export type LockResult = { ok: true; release(): Promise<void> } | { ok: false; holderPid: number; file: string };

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function acquireDataDirLock(dataDir: string): Promise<LockResult> {
  const file = path.join(dataDir, 'server.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await fs.open(file, 'wx', 0o600);
      await handle.writeFile(JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString() }));
      await handle.close();
      const onExit = () => {
        try {
          unlinkSync(file);
        } catch {
          /* already gone */
        }
      };
      process.once('exit', onExit);
      return {
        ok: true,
        release: async () => {
          process.off('exit', onExit);
          await fs.rm(file, { force: true });
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let pid = 0;
      try {
        pid = Number(JSON.parse(await fs.readFile(file, 'utf8')).pid) || 0;
      } catch {
        // A torn lock file (crash while writing it): treat as stale.
      }
      if (pid && pid !== process.pid && alive(pid)) return { ok: false, holderPid: pid, file };
      await fs.rm(file, { force: true });
    }
  }
  return { ok: false, holderPid: 0, file };
}
