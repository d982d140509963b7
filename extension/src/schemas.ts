/** The protocol's schemas, loaded (with zod) the first time something validates, not at activation (issue 13). */
import type * as ProtocolSchemas from './protocolSchemas';

export type Schemas = typeof ProtocolSchemas;

let loaded: Schemas | undefined;

/**
 * The schemas, evaluated on the first call. Synchronous, so validation stays where it was; esbuild's `lazyParts`
 * turns this `require` into one of `dist/extensionSchemas.js` (see esbuild.mjs).
 */
export function schemas(): Schemas {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy, synchronous load is the point (issue 13)
  return (loaded ??= require('./protocolSchemas') as Schemas);
}
