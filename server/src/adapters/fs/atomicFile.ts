/**
 * Crash-safe file writes: write a temp file beside the target, fsync it, rename over the target,
 * fsync the directory. A reader sees the old or the new content, never a torn one. On any failure
 * (ENOSPC, EIO, EACCES, …) the temp file is removed and the error is rethrown; the target is untouched.
 */
import { randomBytes } from 'node:crypto';
import { promises as nodeFs } from 'node:fs';
import path from 'node:path';

/** The part of `fs/promises` these writes use; tests pass a spying or failing one. */
export interface AtomicFs {
  mkdir(dir: string, opts: { recursive: true }): Promise<unknown>;
  open(
    file: string,
    flags: string,
    mode?: number,
  ): Promise<{
    writeFile(data: string, encoding: 'utf8'): Promise<void>;
    sync(): Promise<void>;
    close(): Promise<void>;
  }>;
  rename(from: string, to: string): Promise<void>;
  rm(file: string, opts: { force: true }): Promise<void>;
}

export async function writeFileAtomic(file: string, content: string, fs: AtomicFs = nodeFs): Promise<void> {
  const dir = path.dirname(file);
  await fs.mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const handle = await fs.open(tmp, 'w', 0o600);
    try {
      await handle.writeFile(content, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, file);
  } catch (e) {
    // A full disk leaves an empty or partial temp file: never leave it behind.
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
  await syncDir(dir, fs);
}

async function syncDir(dir: string, fs: AtomicFs): Promise<void> {
  let handle: Awaited<ReturnType<AtomicFs['open']>> | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on directories; the rename is still atomic there.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** Copy `file` to `<file>.<label>.bak` without touching the original; returns the backup path. */
export async function backupFile(file: string, label: string): Promise<string> {
  const backup = `${file}.${label.replace(/[:.]/g, '-')}.bak`;
  await nodeFs.copyFile(file, backup);
  return backup;
}
