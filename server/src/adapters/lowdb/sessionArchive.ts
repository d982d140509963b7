/**
 * Per-session archive files: `<data>/store-archive/<sessionId>.json`, written atomically (temp + fsync +
 * rename + dir fsync), read and validated on demand. A file that fails to read or validate is reported
 * (`store_corrupt` naming the file) and left exactly as it is: it is never rewritten or removed here.
 */
import { readFileSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { describeIssues } from '../../../../protocol/messages';
import { DomainError } from '../../domain/errors';
import { archiveIndexSchema, archivedSessionSchema, type ArchiveEntry, type ArchivedSession } from '../../domain/storeEntities';
import { writeFileAtomic, type AtomicFs } from '../fs/atomicFile';

/** Session ids become file names: the same characters our ids use, nothing that walks a path. */
const safeId = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;

export class SessionArchiveFiles {
  /** A few recently read archives (a list or a transcript view reads the same ones again). */
  private readonly cache = new Map<string, ArchivedSession>();

  constructor(
    readonly dir: string,
    private readonly fsImpl?: AtomicFs,
    private readonly cacheSize = 64,
  ) {}

  fileOf(id: string): string {
    if (!safeId.test(id) || id.includes('..'))
      throw new DomainError('bad_input', `sessionId: ${JSON.stringify(id)} cannot name an archive file`, { field: 'sessionId' });
    return path.join(this.dir, `${id}.json`);
  }

  async write(a: ArchivedSession): Promise<void> {
    await writeFileAtomic(this.fileOf(a.session.id), `${JSON.stringify(a)}\n`, this.fsImpl);
    this.cache.delete(a.session.id);
  }

  /** The archive of session `id`; throws `store_corrupt` naming the file when it is missing, unreadable or invalid. */
  read(id: string): ArchivedSession {
    const hit = this.cache.get(id);
    if (hit) {
      // Most recently used last.
      this.cache.delete(id);
      this.cache.set(id, hit);
      return hit;
    }
    const a = parseArchive(this.readText(id), this.fileOf(id), id);
    this.cache.set(id, a);
    while (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
    return a;
  }

  /**
   * The archive index (what lists need without opening the files), kept here rather than in `store.json`
   * so that a store write does not grow with history. The leading dot keeps it apart from session files.
   */
  get indexFile(): string {
    return path.join(this.dir, '.index.json');
  }

  /** The index, or undefined when there is none yet; throws `store_corrupt` naming the file when it is unreadable or invalid. */
  readIndex(): ArchiveEntry[] | undefined {
    let text: string;
    try {
      text = readFileSync(this.indexFile, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new DomainError('store_corrupt', `the archive index ${this.indexFile} could not be read: ${(e as Error).message}`);
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new DomainError('store_corrupt', `the archive index ${this.indexFile} is not valid JSON (${(e as Error).message})`);
    }
    const parsed = archiveIndexSchema.safeParse(raw);
    if (!parsed.success)
      throw new DomainError('store_corrupt', `the archive index ${this.indexFile} failed validation: ${describeIssues(parsed.error)}`);
    return parsed.data.entries;
  }

  /** Replaces the index atomically (temp + fsync + rename + dir fsync). */
  async writeIndex(entries: readonly ArchiveEntry[]): Promise<void> {
    await writeFileAtomic(this.indexFile, `${JSON.stringify({ schemaVersion: 1, entries })}\n`, this.fsImpl);
  }

  /** Where each archived run went: one `runId sessionId` line per run, appended (fsync) before the store write. */
  get runLog(): string {
    return path.join(this.dir, 'runs.log');
  }

  async appendRuns(archived: readonly ArchivedSession[]): Promise<void> {
    const lines = archived.flatMap((a) => a.runs.map((r) => `${r.id} ${a.session.id}\n`)).join('');
    if (!lines) return;
    await fs.mkdir(this.dir, { recursive: true });
    const h = await fs.open(this.runLog, 'a', 0o600);
    try {
      await h.writeFile(lines, 'utf8');
      await h.datasync();
    } finally {
      await h.close();
    }
  }

  /** The session an archived run was moved with (the last line wins; a torn line is ignored). */
  sessionOfRun(runId: string): string | undefined {
    let text: string;
    try {
      text = readFileSync(this.runLog, 'utf8');
    } catch {
      return undefined;
    }
    const needle = `${runId} `;
    let found: string | undefined;
    for (const line of text.split('\n')) if (line.startsWith(needle)) found = line.slice(needle.length) || found;
    return found;
  }

  /** Drops the file of a session that is back in the hot store (or deleted). A missing file is fine. */
  async remove(id: string): Promise<void> {
    this.cache.delete(id);
    await fs.rm(this.fileOf(id), { force: true });
  }

  private readText(id: string): string {
    const file = this.fileOf(id);
    try {
      return readFileSync(file, 'utf8');
    } catch (e) {
      throw new DomainError('store_corrupt', `the archive of session ${id} (${file}) could not be read: ${(e as Error).message}`);
    }
  }
}

export function parseArchive(text: string, file: string, id: string): ArchivedSession {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new DomainError(
      'store_corrupt',
      `the archive of session ${id} (${file}) is not valid JSON (${(e as Error).message}); it is kept as it is`,
    );
  }
  const parsed = archivedSessionSchema.safeParse(raw);
  if (!parsed.success)
    throw new DomainError(
      'store_corrupt',
      `the archive of session ${id} (${file}) failed validation: ${describeIssues(parsed.error)}; it is kept as it is`,
    );
  if (parsed.data.session.id !== id)
    throw new DomainError('store_corrupt', `the archive ${file} holds session ${parsed.data.session.id}, not ${id}; it is kept as it is`);
  return parsed.data;
}
