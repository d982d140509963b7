/**
 * Append-only JSONL transcripts under `<dataDir>/transcripts/<session>/<task>.jsonl`. Each append is
 * one `write` of a whole line followed by `fdatasync`, so an acknowledged line survives `kill -9`.
 * A torn last line (a crash mid-write) is skipped on read and reported, never rewritten.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { DomainError } from '../../domain/errors';
import { redactValue } from '../../domain/redact';
import type { Logger } from '../../ports/logger';
import type { TranscriptEntry, TranscriptPort } from '../../ports/transcript';

const safeId = /^[A-Za-z0-9_.-]{1,128}$/;

export class JsonlTranscripts implements TranscriptPort {
  private readonly chains = new Map<string, Promise<void>>();

  constructor(private readonly root: string, private readonly logger: Logger) {}

  fileFor(sessionId: string, taskId: string): string {
    for (const [name, id] of [['sessionId', sessionId], ['taskId', taskId]] as const) {
      if (!safeId.test(id) || id === '.' || id === '..') throw new DomainError('bad_input', `${name} must match ${safeId} (got ${JSON.stringify(id)})`);
    }
    return path.join(this.root, sessionId, `${taskId}.jsonl`);
  }

  append(sessionId: string, taskId: string, entry: TranscriptEntry): Promise<void> {
    const file = this.fileFor(sessionId, taskId);
    const line = `${JSON.stringify(redactValue(entry))}\n`;
    // Appends to one file are chained so lines never interleave.
    const prev = this.chains.get(file) ?? Promise.resolve();
    const next = prev.then(async () => {
      await fs.mkdir(path.dirname(file), { recursive: true });
      const handle = await fs.open(file, 'a', 0o600);
      try {
        await handle.write(line);
        await handle.datasync();
      } finally {
        await handle.close();
      }
    });
    this.chains.set(file, next.catch(() => undefined));
    return next;
  }

  async read(sessionId: string, taskId: string): Promise<TranscriptEntry[]> {
    const file = this.fileFor(sessionId, taskId);
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const out: TranscriptEntry[] = [];
    const lines = text.split('\n');
    lines.forEach((l, i) => {
      if (!l) return;
      try {
        out.push(JSON.parse(l) as TranscriptEntry);
      } catch {
        this.logger.warn(`${file}:${i + 1} is not a complete JSON line (a crash mid-write?); skipped`);
      }
    });
    return out;
  }
}
