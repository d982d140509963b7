/**
 * `@agentclientprotocol/sdk` is ESM-only while the server is CommonJS (tsx in tests, an esbuild cjs bundle in
 * production), so it is loaded with a dynamic import, falling back to the package file on the normal
 * node_modules path when a loader cannot resolve the bare specifier (same approach as the OpenCode SDK).
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import type * as AcpModule from '@agentclientprotocol/sdk';

export type Acp = typeof AcpModule;

let loading: Promise<Acp> | undefined;

export function loadAcp(): Promise<Acp> {
  loading ??= import('@agentclientprotocol/sdk').catch(async (e: unknown) => {
    for (const dir of require.resolve.paths('@agentclientprotocol/sdk') ?? []) {
      const file = path.join(dir, '@agentclientprotocol', 'sdk', 'dist', 'v1', 'stable', 'acp.js');
      if (fs.existsSync(file)) return (await import(pathToFileURL(file).href)) as Acp;
    }
    throw e;
  });
  return loading;
}
