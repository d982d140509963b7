/**
 * Append-only JSONL transcripts under `<dataDir>/transcripts/<session>/<run>.jsonl`. Each append is
 * one `write` of a whole line followed by `fdatasync`, so an acknowledged line survives `kill -9`.
 * A torn last line (a crash mid-write) is skipped on read and reported, never rewritten. A failed append
 * (ENOSPC, EIO, …) is cut back to the file's previous length, so the next append never lands on half a line.
 *
 * Group commit: lines appended to one file while its previous write is in flight are written together by the
 * next write (in order) and share its `fdatasync`; each append still resolves only after the fdatasync that
 * holds its line, and a failed group write fails every append in it (and is cut back as a whole).
 */
import { promises as nodeFs } from 'node:fs';
import path from 'node:path';
import { DomainError } from '../../domain/errors';
import { redactValue } from '../../domain/redact';
import type { Logger } from '../../ports/logger';
import type { TranscriptEntry, TranscriptPort } from '../../ports/transcript';

const safeId = /^[A-Za-z0-9_.-]{1,128}$/;

/** The part of `fs/promises` appends use; tests pass a spying or failing one. */
export interface TranscriptFs {
  mkdir(dir: string, opts: { recursive: true }): Promise<unknown>;
  open(
    file: string,
    flags: 'a',
    mode: number,
  ): Promise<{
    stat(): Promise<{ size: number }>;
    write(data: string): Promise<unknown>;
    datasync(): Promise<void>;
    truncate(len: number): Promise<void>;
    close(): Promise<void>;
  }>;
  readFile(file: string, encoding: 'utf8'): Promise<string>;
}

interface Pending {
  line: string;
  resolve(): void;
  reject(e: unknown): void;
}

export class JsonlTranscripts<E extends { seq: number } = TranscriptEntry> implements TranscriptPort<E> {
  /** Lines waiting for the file's next write, per file; a file is in the map while its writer runs. */
  private readonly queues = new Map<string, Pending[]>();

  /** Files with an append in flight (diagnostics and tests). */
  get pendingFiles(): number {
    return this.queues.size;
  }

  constructor(
    private readonly root: string,
    private readonly logger: Logger,
    private readonly fs: TranscriptFs = nodeFs,
    /** Told about every failed append (ENOSPC, EIO, EACCES, …) after the file was cut back. */
    private readonly onWriteError?: (e: unknown) => void,
  ) {}

  fileFor(folder: string, runId: string): string {
    for (const [name, id] of [
      ['folder', folder],
      ['runId', runId],
    ] as const) {
      if (!safeId.test(id) || id === '.' || id === '..')
        throw new DomainError('bad_input', `${name} must match ${safeId} (got ${JSON.stringify(id)})`);
    }
    return path.join(this.root, folder, `${runId}.jsonl`);
  }

  append(folder: string, runId: string, entry: E): Promise<void> {
    const file = this.fileFor(folder, runId);
    const line = `${JSON.stringify(redactValue(entry))}\n`;
    return new Promise<void>((resolve, reject) => {
      const queue = this.queues.get(file);
      if (queue) return void queue.push({ line, resolve, reject });
      this.queues.set(file, [{ line, resolve, reject }]);
      void this.drain(file);
    }).catch((e: unknown) => {
      this.onWriteError?.(e);
      throw e;
    });
  }

  /** Writes the file's queued lines, a group at a time, in order, until none is left. */
  private async drain(file: string): Promise<void> {
    for (;;) {
      const queue = this.queues.get(file);
      if (!queue?.length) {
        this.queues.delete(file);
        return;
      }
      const group = queue.splice(0);
      try {
        await this.write(file, group.map((p) => p.line).join(''));
        for (const p of group) p.resolve();
      } catch (e) {
        for (const p of group) p.reject(e);
      }
    }
  }

  /** One write of whole lines and its fdatasync; cut back to the previous length when either fails. */
  private async write(file: string, text: string): Promise<void> {
    await this.fs.mkdir(path.dirname(file), { recursive: true });
    const handle = await this.fs.open(file, 'a', 0o600);
    try {
      const { size } = await handle.stat();
      try {
        const written = await handle.write(text);
        // A short write (a file-size limit, a nearly full disk) is not retried: the group fails and is cut back, so
        // no half line stays for the next group to be appended onto.
        const n = (written as { bytesWritten?: unknown } | undefined)?.bytesWritten;
        const want = Buffer.byteLength(text);
        if (typeof n === 'number' && n !== want) throw new Error(`short write to ${file}: ${n} of ${want} bytes`);
        // Resolving means acknowledged: the lines are on disk, not only in the page cache.
        await handle.datasync();
      } catch (e) {
        await handle.truncate(size).catch(() => undefined);
        throw e;
      }
    } finally {
      await handle.close();
    }
  }

  async read(folder: string, runId: string): Promise<E[]> {
    const file = this.fileFor(folder, runId);
    let text: string;
    try {
      text = await this.fs.readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const out: E[] = [];
    const lines = text.split('\n');
    lines.forEach((l, i) => {
      if (!l) return;
      try {
        out.push(JSON.parse(l) as E);
      } catch {
        this.logger.warn(`${file}:${i + 1} is not a complete JSON line (a crash mid-write?); skipped`);
      }
    });
    return out;
  }
}
