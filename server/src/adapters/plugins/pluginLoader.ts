/**
 * Finding and loading a plugin's entry file. The entry file's sha256 is taken from the bytes on disk just
 * before the import; the caller loads only a trusted (source, sha256) pair. A module is imported in-process
 * (ESM or CommonJS), with a deadline on the import.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PluginSource } from '../../domain/plugins';

export interface PluginEntry {
  /** Absolute path of the entry file. */
  entry: string;
  /** The folder the plugin lives in (faults whose stack points inside it are the plugin's). */
  root: string;
  sha256: string;
}

/** The folder where `orchestrator.plugins.packages` are installed (`npm install --prefix <this> NAME@VERSION`). */
export const packagesRoot = (dataDir: string): string => path.join(dataDir, 'plugins');

function entryOf(folder: string): string {
  const pkgFile = path.join(folder, 'package.json');
  if (fs.existsSync(pkgFile)) {
    let pkg: { main?: unknown; exports?: unknown };
    try {
      pkg = JSON.parse(fs.readFileSync(pkgFile, 'utf8')) as { main?: unknown };
    } catch (e) {
      throw new Error(`${pkgFile} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    const main = typeof pkg.exports === 'string' ? pkg.exports : pkg.main;
    if (typeof main === 'string') {
      const file = path.resolve(folder, main);
      if (!fs.existsSync(file)) throw new Error(`package.json names the entry file ${main}, which does not exist`);
      return file;
    }
  }
  const found = ['index.js', 'index.mjs', 'index.cjs'].map((f) => path.join(folder, f)).find((f) => fs.existsSync(f));
  if (!found) throw new Error(`${folder} has no entry file (package.json "main", index.js, index.mjs or index.cjs)`);
  return found;
}

/** Resolves the entry file of a source and hashes it; throws a plain Error naming what is missing. */
export function resolvePlugin(src: PluginSource, dataDir: string): PluginEntry {
  const where =
    src.kind === 'package' ? path.join(packagesRoot(dataDir), 'node_modules', ...src.source.split('/')) : path.resolve(src.source);
  if (!fs.existsSync(where))
    throw new Error(
      src.kind === 'package'
        ? `package ${src.source} is not installed in ${packagesRoot(dataDir)} (npm install --prefix ${packagesRoot(dataDir)} ${src.source}@VERSION)`
        : `${where} does not exist`,
    );
  const isFile = fs.statSync(where).isFile();
  const entry = fs.realpathSync(isFile ? where : entryOf(where));
  const root = fs.realpathSync(isFile ? path.dirname(where) : where);
  const sha256 = createHash('sha256').update(fs.readFileSync(entry)).digest('hex');
  return { entry, root, sha256 };
}

/** Imports the entry file (the sha256 in the URL keeps a changed file from being served from the module cache). */
export function importPlugin(e: PluginEntry): Promise<unknown> {
  return import(`${pathToFileURL(e.entry).href}?sha256=${e.sha256}`) as Promise<unknown>;
}
