/**
 * Append-only JSONL transcripts under `<dataDir>/transcripts/<session>/<run>.jsonl`. Each append is
 * one `write` of a whole line followed by `fdatasync`, so an acknowledged line survives `kill -9`.
 * A torn last line (a crash mid-write) is skipped on read and reported, never rewritten. A failed append
 * (ENOSPC, EIO, …) is cut back to the file's previous length, so the next append never lands on half a line.
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

export class JsonlTranscripts<E extends { seq: number } = TranscriptEntry> implements TranscriptPort<E> {
  private readonly chains = new Map<string, Promise<void>>();

  constructor(
    private readonly root: string,
    private readonly logger: Logger,
    private readonly fs: TranscriptFs = nodeFs,
    /** Told about every failed append (ENOSPC, EIO, EACCES, …) after the file was cut back. */
    private readonly onWriteError?: (e: unknown) => void,
  ) {}

  /** Files with an append in flight (diagnostics and tests). */
  get pendingFiles(): number {
    return this.chains.size;
  }

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
    // Appends to one file are chained so lines never interleave.
    const prev = this.chains.get(file) ?? Promise.resolve();
    const next = prev
      .then(async () => {
        await this.fs.mkdir(path.dirname(file), { recursive: true });
        const handle = await this.fs.open(file, 'a', 0o600);
        try {
          const { size } = await handle.stat();
          try {
            await handle.write(line);
            // Resolving means acknowledged: the line is on disk, not only in the page cache.
            await handle.datasync();
          } catch (e) {
            await handle.truncate(size).catch(() => undefined);
            throw e;
          }
        } finally {
          await handle.close();
        }
      })
      .catch((e: unknown) => {
        this.onWriteError?.(e);
        throw e;
      });
    const tail = next.catch(() => undefined);
    this.chains.set(file, tail);
    // A file with no append in flight needs no chain: a finished run's entry would be kept for good.
    void tail.then(() => {
      if (this.chains.get(file) === tail) this.chains.delete(file);
    });
    return next;
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
