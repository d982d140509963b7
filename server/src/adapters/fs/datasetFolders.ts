/**
 * Dataset folders on disk (`<root>/<name>/…`), written atomically: files go into `<root>/.tmp-<name>-<rand>/`
 * and are fsynced, then the folder is renamed into place and the root fsynced. A half-written dataset is
 * never visible under its name, and a failed write leaves nothing (the temp folder is removed).
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { datasetNameProblem } from '../../domain/dataset/version';
import { DomainError } from '../../domain/errors';
import type { DatasetFile, DatasetFolderPort } from '../../ports/datasetTools';

const safeRelative = (p: string) =>
  !!p && !p.startsWith('/') && !p.includes('\\') && p.split('/').every((s) => s && s !== '.' && s !== '..');

export class DatasetFolders implements DatasetFolderPort {
  constructor(private readonly root: string) {}

  private folder(name: string): string {
    const problem = datasetNameProblem(name);
    if (problem) throw new DomainError('bad_input', `name: ${problem}`, { field: 'name' });
    return path.join(this.root, name);
  }

  async create(name: string, files: readonly DatasetFile[]): Promise<string> {
    const target = this.folder(name);
    for (const f of files)
      if (!safeRelative(f.path))
        throw new DomainError('bad_input', `files: ${JSON.stringify(f.path)} is not a relative path inside the dataset`);
    await fs.mkdir(this.root, { recursive: true });
    if (await exists(target))
      throw new DomainError('conflict', `name: a dataset named ${JSON.stringify(name)} already exists`, { field: 'name' });
    const tmp = path.join(this.root, `.tmp-${name}-${randomBytes(4).toString('hex')}`);
    try {
      for (const f of files) {
        const file = path.join(tmp, ...f.path.split('/'));
        await fs.mkdir(path.dirname(file), { recursive: true });
        const h = await fs.open(file, 'wx', 0o600);
        try {
          await h.writeFile(f.content, 'utf8');
          await h.sync();
        } finally {
          await h.close();
        }
      }
      // rename() replaces an empty folder silently: check again right before (a concurrent create lost the race).
      if (await exists(target))
        throw new DomainError('conflict', `name: a dataset named ${JSON.stringify(name)} already exists`, { field: 'name' });
      await fs.rename(tmp, target);
      const dir = await fs.open(this.root, 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
      return target;
    } catch (e) {
      await fs.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
      throw e;
    }
  }

  path(name: string): string {
    return this.folder(name);
  }

  async read(name: string, file: string): Promise<string | undefined> {
    if (!safeRelative(file)) throw new DomainError('bad_input', `file: ${JSON.stringify(file)} is not a relative path inside the dataset`);
    try {
      return await fs.readFile(path.join(this.folder(name), ...file.split('/')), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  async list(): Promise<string[]> {
    try {
      return (await fs.readdir(this.root, { withFileTypes: true }))
        .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
        .map((d) => d.name)
        .sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
  }
}

async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(
    () => true,
    (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return false;
      throw e;
    },
  );
}
