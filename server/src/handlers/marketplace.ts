/** `marketplace/*` handlers: thin wrappers over MarketplaceService. */
import type { RpcEndpoint } from '../../../protocol/messages';
import {
  marketplaceGet,
  marketplaceInstall,
  marketplaceList,
  marketplaceSetEnabled,
  marketplaceUninstall,
} from '../../../protocol/marketplace';
import type { Logger } from '../ports/logger';
import type { MarketplaceService } from '../services/marketplaceService';
import { onRequest } from './register';

export function registerMarketplaceHandlers(connection: RpcEndpoint, marketplace: MarketplaceService, logger: Logger): void {
  onRequest(connection, marketplaceList, logger, (p) => marketplace.list(p));
  onRequest(connection, marketplaceGet, logger, (p) => marketplace.get(p.id));
  onRequest(connection, marketplaceInstall, logger, (p) => marketplace.install(p));
  onRequest(connection, marketplaceUninstall, logger, (p) => marketplace.uninstall(p.id));
  onRequest(connection, marketplaceSetEnabled, logger, (p) => marketplace.setEnabled(p.id, p.enabled));
}
