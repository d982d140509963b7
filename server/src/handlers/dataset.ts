/** `dataset/*` handlers: thin wrappers over DatasetService. Params arrive decoded by the protocol's schemas. */
import type { RpcEndpoint } from '../../../protocol/messages';
import { datasetCandidates, datasetCreate, datasetExport, datasetGet, datasetList, datasetPreview } from '../../../protocol/dataset';
import { DomainError } from '../domain/errors';
import type { Logger } from '../ports/logger';
import type { DatasetService } from '../services/datasetService';
import { onRequest } from './register';

export function registerDatasetHandlers(connection: RpcEndpoint, datasets: DatasetService, logger: Logger): void {
  onRequest(connection, datasetCandidates, logger, async (p) => ({ candidates: await datasets.candidates(p.filter, p.limit) }));
  onRequest(connection, datasetCreate, logger, (p) => datasets.create(p));
  onRequest(connection, datasetPreview, logger, async (p) => {
    const r = await datasets.preview(p.filter, p.options, p.curation);
    return {
      records: r.records,
      examples: r.examples.map((e) => ({ source: e.source, split: e.split, tokens: e.tokens, messages: e.messages })),
      stats: r.stats,
      warnings: r.warnings,
    };
  });
  onRequest(connection, datasetList, logger, () => datasets.list());
  onRequest(connection, datasetGet, logger, async (p) => {
    const dataset = await datasets.get(p.name);
    if (!dataset) throw new DomainError('not_found', `name: no dataset named ${JSON.stringify(p.name)}`, { field: 'name' });
    return { dataset, records: await datasets.records(p.name) };
  });
  onRequest(connection, datasetExport, logger, async (p) => ({ format: p.format, files: await datasets.exportPaths(p.name, p.format) }));
}
