/**
 * Protocol values that need no zod, importable without loading it (the extension's activation, issue 13). The
 * modules that build the schemas use and re-export them; `methodRefs.ts` is the same for the method names.
 */
import type { CuratorQuery } from './webview/curator';
import type { MarketplaceQuery } from './webview/marketplace';

export const providerIdPattern = /^[a-z0-9_-]+$/i;

/** The marketplace's list filters before the user sets any. */
export const emptyQuery: MarketplaceQuery = { search: '', installed: false, capability: '', distribution: '' };

/** The curator's candidate filters before the user sets any. */
export const emptyCuratorQuery: CuratorQuery = { outcome: 'succeeded', agent: '', model: '', since: '', until: '' };
