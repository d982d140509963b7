/**
 * The protocol's zod schemas the extension validates with (webview messages, provider entries). A bundle of its
 * own, `dist/extensionSchemas.js`, that `schemas.ts` loads on first use: zod is not evaluated at activation
 * (issue 13). Import it only through `schemas()`.
 */
export { providerSchema } from '../../protocol/provider';
export { dashboardToHost } from '../../protocol/webview/dashboard';
export { curatorToHost } from '../../protocol/webview/curator';
export { marketplaceToHost } from '../../protocol/webview/marketplace';
