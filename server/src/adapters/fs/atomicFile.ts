/**
 * Crash-safe file writes: write a temp file beside the target, fsync it, rename over the target,
 * fsync the directory. A reader sees the old or the new content, never a torn one.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

export async function writeFileAtomic(file: string, content: string): Promise<void> {
  const dir = path.dirname(file);
  await fs.mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await fs.open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(content, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
  await syncDir(dir);
}

async function syncDir(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on directories; the rename is still atomic there.
  } finally {
    await handle?.close();
  }
}

/** Copy `file` to `<file>.<label>.bak` without touching the original; returns the backup path. */
export async function backupFile(file: string, label: string): Promise<string> {
  const backup = `${file}.${label.replace(/[:.]/g, '-')}.bak`;
  await fs.copyFile(file, backup);
  return backup;
}
