/**
 * Marketplace surface messages. Webview → host messages are untrusted and parsed with `marketplaceToHost`;
 * host → webview messages are typed by `HostToMarketplace`.
 *
 * The host sends one complete snapshot (`marketplace/view`, numbered by `seq`) after every change: the
 * entries matching the webview's query, the selected entry in full with exactly what will run, what is in
 * progress and the last error of each entry. The webview only asks (query, select, action); the host
 * talks to the server and asks for consent in a modal dialog of its own, never in the webview.
 */
import { z } from 'zod';
import { distributionKinds, type MarketplaceDetails, type MarketplaceEntry, type MarketplaceProblem } from '../marketplace';
import { readyMessage } from './host';

/** The filters of the list; they combine with AND. */
export const marketplaceQuery = z
  .object({
    search: z.string().max(200),
    installed: z.boolean(),
    capability: z.string().max(100),
    distribution: z.union([z.enum(distributionKinds), z.literal('')]),
  })
  .strict();
export type MarketplaceQuery = z.infer<typeof marketplaceQuery>;

export { emptyQuery } from '../constants';

/** What an entry's buttons can ask for (`install` also updates to the index's version). */
export const marketplaceActions = ['install', 'uninstall', 'enable', 'disable'] as const;
export type MarketplaceAction = (typeof marketplaceActions)[number];

/** The selected entry with what will run, rendered once by the host (`commandLine.ts`). */
export interface MarketplaceSelected {
  details: MarketplaceDetails;
  /** The program and its arguments as one shell line (the installed command when installed, else the plan's). */
  runs?: string;
  /** The environment's variable names by group, one line each. */
  env: string[];
}

/** host → webview: the complete state of the marketplace. */
export interface MarketplaceViewMessage {
  type: 'marketplace/view';
  seq: number;
  query: MarketplaceQuery;
  /** The entries matching the query (installed first, then by name). */
  entries: MarketplaceEntry[];
  /** How many entries there are before filtering. */
  total: number;
  /** Every capability some entry offers, for the filter. */
  capabilities: string[];
  problems: MarketplaceProblem[];
  selected: MarketplaceSelected | null;
  /** Entry id → what is running on it now. */
  busy: Record<string, MarketplaceAction>;
  /** Entry id → why its last action failed (shown in place until the next action on it). */
  errors: Record<string, string>;
  /** Set while the list cannot be read (server down, request failed). */
  listError?: string;
  loading: boolean;
  /** Installing, updating, enabling, disabling and uninstalling need an admin on a team server: not drawn for others. */
  readOnly?: boolean;
}

export type HostToMarketplace = MarketplaceViewMessage;

const entryId = z.string().regex(/^[a-z][a-z0-9-]{0,99}$/, 'must be an agent id');

/** webview → host: the filters changed. */
export const marketplaceQueryMessage = z.object({ type: z.literal('marketplace/query'), query: marketplaceQuery }).strict();
/** webview → host: show this entry's details (null: none). */
export const marketplaceSelect = z.object({ type: z.literal('marketplace/select'), id: entryId.nullable() }).strict();
/** webview → host: a button on an entry. */
export const marketplaceActionMessage = z
  .object({ type: z.literal('marketplace/action'), action: z.enum(marketplaceActions), id: entryId })
  .strict();
/** webview → host: the snapshot `seq` was drawn (tests wait on it). */
export const marketplaceDidRender = z
  .object({
    type: z.literal('marketplace/didRender'),
    seq: z.number().int().nonnegative(),
    entries: z.array(entryId).max(5000),
  })
  .strict();

export const marketplaceToHost = z.union([
  readyMessage,
  marketplaceQueryMessage,
  marketplaceSelect,
  marketplaceActionMessage,
  marketplaceDidRender,
]);
export type MarketplaceToHost = z.infer<typeof marketplaceToHost>;
