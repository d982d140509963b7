/**
 * `orchestrator dataset create|list|export`: the same DatasetService the server's `dataset/*` methods
 * use, over the data folder's store and transcripts (read-only: only the dataset folder is written).
 */
import { datasetFilter, datasetFormats, datasetOptions, type DatasetFormat } from '../../protocol/dataset';
import { describeIssues } from '../../protocol/messages';
import { CliUsageError, listValue, positiveInt, stringValue, type ParsedValues } from './cliArgs';
import { createServices } from './compose';
import type { DatasetSummary } from './services/datasetService';
import type { Logger } from './ports/logger';

const out = (text: string) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);

function formatsOf(values: ParsedValues): DatasetFormat[] | undefined {
  const list = listValue(values, 'format');
  const bad = list.find((f) => !(datasetFormats as readonly string[]).includes(f));
  if (bad !== undefined)
    throw new CliUsageError(`--format must be one of ${datasetFormats.join(', ')} (got ${JSON.stringify(bad)})`, 'dataset');
  return list.length ? (list as DatasetFormat[]) : undefined;
}

function fraction(values: ParsedValues): number | undefined {
  const raw = stringValue(values, 'validation-fraction');
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^\d*\.?\d+$/.test(raw) || !(n >= 0 && n < 1))
    throw new CliUsageError(`--validation-fraction must be a number from 0 to below 1 (got ${JSON.stringify(raw)})`, 'dataset');
  return n;
}

/** The filter and options from the command line, checked by the protocol's own schemas. */
function createInput(values: ParsedValues) {
  const applied = values.applied === true ? true : values['not-applied'] === true ? false : undefined;
  if (values.applied === true && values['not-applied'] === true)
    throw new CliUsageError('--applied and --not-applied exclude each other', 'dataset');
  const rawFilter = {
    ...(listValue(values, 'outcome').length ? { outcomes: listValue(values, 'outcome') } : {}),
    ...(applied === undefined ? {} : { applied }),
    ...(listValue(values, 'agent').length ? { agents: listValue(values, 'agent') } : {}),
    ...(listValue(values, 'model').length ? { models: listValue(values, 'model') } : {}),
    ...(listValue(values, 'session').length ? { sessionIds: listValue(values, 'session') } : {}),
    ...(stringValue(values, 'since') ? { since: stringValue(values, 'since') } : {}),
    ...(stringValue(values, 'until') ? { until: stringValue(values, 'until') } : {}),
  };
  const filter = datasetFilter.safeParse(rawFilter);
  if (!filter.success) throw new CliUsageError(`filter: ${describeIssues(filter.error)}`, 'dataset');
  const rawOptions = {
    ...(values['max-tokens'] !== undefined ? { maxTokens: positiveInt(values, 'max-tokens') } : {}),
    ...(values['validation-fraction'] !== undefined ? { validationFraction: fraction(values) } : {}),
    ...(stringValue(values, 'seed') ? { seed: stringValue(values, 'seed') } : {}),
  };
  const options = datasetOptions.safeParse(rawOptions);
  if (!options.success) throw new CliUsageError(`options: ${describeIssues(options.error)}`, 'dataset');
  return { filter: filter.data, options: options.data, formats: formatsOf(values) };
}

function describe(d: DatasetSummary): string {
  const dropped = Object.entries(d.stats.dropped)
    .map(([stage, n]) => `${stage} ${n}`)
    .join(', ');
  return [
    `${d.name}  ${d.id}`,
    `  ${d.stats.kept} of ${d.stats.candidates} runs kept${dropped ? ` (dropped: ${dropped})` : ''}; train ${d.stats.train.examples} (${d.stats.train.tokens} tokens), validation ${d.stats.validation.examples} (${d.stats.validation.tokens} tokens)`,
    `  folder: ${d.folder}`,
    ...d.warnings.map((w) => `  warning: ${w}`),
  ].join('\n');
}

export async function datasetCommand(
  positionals: string[],
  values: ParsedValues,
  opts: { dataDir: string; json: boolean },
  logger: Logger,
): Promise<number> {
  const [sub, ...args] = positionals;
  const usage = 'dataset needs a subcommand: create NAME [filters], list, export NAME --format F';
  if (sub !== 'create' && sub !== 'list' && sub !== 'export')
    throw new CliUsageError(sub ? `dataset: unknown subcommand ${JSON.stringify(sub)}; ${usage}` : usage, 'dataset');
  if (sub === 'list' ? args.length !== 0 : args.length !== 1)
    throw new CliUsageError(sub === 'list' ? 'dataset list takes no arguments' : `dataset ${sub} needs one NAME`, 'dataset');
  const input = sub === 'create' ? createInput(values) : undefined;
  const services = await createServices({ dataDir: opts.dataDir, mode: 'cli', logger, access: 'read' });
  const { datasets } = services;
  if (sub === 'list') {
    const all = await datasets.list();
    out(opts.json ? JSON.stringify(all, null, 2) : all.length ? all.map(describe).join('\n') : 'no datasets');
    return 0;
  }
  const name = args[0]!;
  if (sub === 'create') {
    const d = await datasets.create({ name, ...input });
    out(opts.json ? JSON.stringify(d, null, 2) : `${describe(d)}\n${d.files.map((f) => `  ${f.format}: ${f.path}`).join('\n')}`);
    return 0;
  }
  const formats = formatsOf(values);
  if (formats?.length !== 1) throw new CliUsageError('dataset export needs one --format (openai, sharegpt or mlx)', 'dataset');
  const files = await datasets.exportPaths(name, formats[0]!);
  out(opts.json ? JSON.stringify({ format: formats[0], files }, null, 2) : files.join('\n'));
  return 0;
}
