/**
 * Reads the marketplace's index sources: the bundled registry snapshot (in the bundle), index files (JSON, the
 * registry's `{ agents: [...] }` shape or an array), index URLs (http/https, 10 s deadline) and the custom entries
 * of the settings. A source that cannot be read becomes an `error` naming it; the others are unaffected. A relative
 * `_meta.orchestrator.packageSource` in an index file is made absolute against the file's folder here.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import snapshot from '../acp/registry/snapshot.json';
import { customDescriptor, type CatalogSource, type CustomEntry } from '../../domain/marketplace/catalog';
import type { IndexSourcesPort } from '../../ports/marketplace';

const urlDeadlineMs = 10_000;

function withAbsolutePackageSources(raw: unknown, dir: string): unknown {
  const list = Array.isArray(raw) ? raw : (raw as { agents?: unknown } | null)?.agents;
  if (!Array.isArray(list)) return raw;
  for (const entry of list) {
    const o = (entry as { _meta?: { orchestrator?: { packageSource?: unknown } } } | null)?._meta?.orchestrator;
    if (o && typeof o.packageSource === 'string' && o.packageSource && !path.isAbsolute(o.packageSource))
      o.packageSource = path.resolve(dir, o.packageSource);
  }
  return raw;
}

async function readFileSource(file: string): Promise<CatalogSource> {
  const label = path.resolve(file);
  let text: string;
  try {
    text = await fs.readFile(label, 'utf8');
  } catch (e) {
    return { kind: 'file', label, error: `could not be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` };
  }
  try {
    return { kind: 'file', label, raw: withAbsolutePackageSources(JSON.parse(text), path.dirname(label)) };
  } catch (e) {
    return { kind: 'file', label, error: `is not JSON (${(e as Error).message})` };
  }
}

async function readUrlSource(url: string): Promise<CatalogSource> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(urlDeadlineMs), redirect: 'follow' });
    if (!res.ok) return { kind: 'url', label: url, error: `answered HTTP ${res.status}` };
    const text = await res.text();
    try {
      return { kind: 'url', label: url, raw: JSON.parse(text) };
    } catch (e) {
      return { kind: 'url', label: url, error: `is not JSON (${(e as Error).message})` };
    }
  } catch (e) {
    const reason = (e as Error).name === 'TimeoutError' ? `no answer within ${urlDeadlineMs} ms` : (e as Error).message;
    return { kind: 'url', label: url, error: `could not be fetched (${reason})` };
  }
}

export class IndexSources implements IndexSourcesPort {
  constructor(private readonly o: { indexes: readonly string[]; custom: readonly CustomEntry[] }) {}

  async read(): Promise<CatalogSource[]> {
    const user = await Promise.all(this.o.indexes.map((i) => (/^https?:\/\//.test(i) ? readUrlSource(i) : readFileSource(i))));
    // A fresh copy each time: nothing downstream may change the bundled entries.
    const bundled: CatalogSource = { kind: 'bundled', label: 'bundled snapshot', raw: structuredClone(snapshot) as unknown };
    const custom: CatalogSource[] = this.o.custom.length
      ? [{ kind: 'custom', label: 'custom entries', raw: { agents: this.o.custom.map(customDescriptor) } }]
      : [];
    return [bundled, ...user, ...custom];
  }
}
