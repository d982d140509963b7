/**
 * The headless CLI (`orchestrator`). It builds the same services as the spawned server. Commands, their
 * options and help are in `cliArgs.ts`; the config file in `cliConfig.ts`.
 * Exit codes: 0 done, 1 failed, 2 bad input (usage, config), 3 waiting for the user, 4 data folder in use.
 */
import path from 'node:path';
import { createLogger, stderrSink } from './adapters/lspLogger';
import {
  CliUsageError,
  commandHelp,
  generalHelp,
  listValue,
  parseCommandLine,
  positiveInt,
  stringValue,
  type ParsedValues,
} from './cliArgs';
import { agentSettingsOf, allowedProgramSchema, checkModelChoice, demoNotice, loadCliConfig, type LoadedConfig } from './cliConfig';
import { adminCommand } from './cliAdmin';
import { datasetCommand } from './cliDataset';
import { serve } from './cliServe';
import { runWorker } from './cliWorker';
import { runAgent } from './cliRun';
import { listSessions, resumeSession, runSession, type SessionArgs } from './cliSession';
import { createServices } from './compose';
import { defaultDataDir } from './dataDir';
import { DomainError } from './domain/errors';
import { claimPluginFault } from './plugins';
import type { LogLevel } from './ports/logger';
import { version } from './version';

const logLevels = ['error', 'warn', 'info', 'debug'];

/** The config, `--allow` and `--model` checked together; throws CliUsageError / DomainError('bad_input'). */
async function agentOptions(values: ParsedValues): Promise<{ loaded: LoadedConfig; allow: string[]; model?: string }> {
  const loaded = await loadCliConfig(stringValue(values, 'config'));
  for (const a of listValue(values, 'allow')) {
    const r = allowedProgramSchema.safeParse(a);
    if (!r.success) throw new CliUsageError(`--allow ${JSON.stringify(a)}: ${r.error.issues[0].message}`);
  }
  const model = stringValue(values, 'model');
  const wrong = model === undefined ? undefined : checkModelChoice(loaded.config, model);
  if (wrong) throw new CliUsageError(wrong);
  for (const w of loaded.warnings) process.stderr.write(`orchestrator: warning: ${w}\n`);
  const demo = !loaded.config.providers?.length;
  if (demo) process.stderr.write(`orchestrator: ${demoNotice(loaded.file)}\n`);
  return { loaded, allow: [...(loaded.config.allow ?? []), ...listValue(values, 'allow')], model };
}

async function dispatch(argv: string[]): Promise<number> {
  const parsed = parseCommandLine(argv);
  if (parsed.kind === 'version') {
    process.stdout.write(`${version}\n`);
    return 0;
  }
  if (parsed.kind === 'help') {
    process.stdout.write(parsed.command ? commandHelp(parsed.command) : generalHelp());
    return 0;
  }
  const { command, values, positionals } = parsed;
  const levelArg = stringValue(values, 'log-level') ?? 'warn';
  if (!logLevels.includes(levelArg))
    throw new CliUsageError(`--log-level must be one of ${logLevels.join(', ')} (got ${JSON.stringify(levelArg)})`);
  const logger = createLogger(stderrSink, () => levelArg as LogLevel);
  const dataDir = stringValue(values, 'data-dir') ?? defaultDataDir();
  const asJson = values.json === true;
  switch (command) {
    case 'status': {
      if (positionals.length) throw new CliUsageError(`status takes no arguments (got ${JSON.stringify(positionals.join(' '))})`);
      const services = await createServices({ dataDir, mode: 'cli', logger, access: 'read' });
      const s = services.status.get();
      if (asJson) process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
      else {
        process.stdout.write(
          [
            `health:   ${s.health}`,
            `message:  ${s.message}`,
            `version:  ${s.version}`,
            `data dir: ${s.dataDir}`,
            `store:    ${s.store.path} (schema ${s.store.schemaVersion}, ${s.store.state})`,
            ...(s.store.backupPath ? [`backup:   ${s.store.backupPath}`] : []),
          ].join('\n') + '\n',
        );
      }
      return s.health === 'ok' ? 0 : 1;
    }
    case 'sessions': {
      if (positionals.length) throw new CliUsageError(`sessions takes no arguments (got ${JSON.stringify(positionals.join(' '))})`);
      return listSessions({ dataDir, json: asJson, approve: false, yes: false, allow: [] }, logger);
    }
    case 'resume': {
      if (positionals.length !== 1) throw new CliUsageError('resume needs one session id (see orchestrator sessions)');
      const maxParallel = positiveInt(values, 'max-parallel');
      const budgetTokens = positiveInt(values, 'budget-tokens');
      const { loaded, allow } = await agentOptions(values);
      const args: SessionArgs = {
        dataDir,
        json: asJson,
        approve: values.approve === true,
        yes: values.yes === true,
        allow,
        maxParallel: maxParallel ?? loaded.config.maxParallel,
        budgetTokens,
        agentSettings: agentSettingsOf(loaded.config),
        demoNotice: demoOf(loaded),
      };
      return resumeSession(positionals[0], args, logger);
    }
    case 'run': {
      const maxParallel = positiveInt(values, 'max-parallel');
      const budgetTokens = positiveInt(values, 'budget-tokens');
      const timeoutMs = positiveInt(values, 'timeout-ms', { allowZero: true });
      const planner = stringValue(values, 'planner');
      if (planner !== undefined && planner !== 'template' && planner !== 'llm')
        throw new CliUsageError(`--planner must be template or llm (got ${JSON.stringify(planner)})`);
      const agent = stringValue(values, 'agent');
      const text = positionals.join(' ');
      if (!text.trim()) {
        throw new CliUsageError(
          agent === undefined
            ? 'run needs a goal, e.g. orchestrator run "add a --verbose flag with tests" --cwd .'
            : 'run --agent needs a prompt, e.g. orchestrator run --agent opencode --cwd . "fix the failing test"',
        );
      }
      if (agent !== undefined) {
        const sessionOnly = ['plan-only', 'approve', 'planner', 'max-parallel', 'budget-tokens'].filter((k) => values[k] !== undefined);
        if (sessionOnly.length) throw new CliUsageError(`--${sessionOnly[0]} is for run "GOAL" (a session), not run --agent`, 'run');
      }
      const { loaded, allow, model } = await agentOptions(values);
      const cwd = path.resolve(stringValue(values, 'cwd') ?? process.cwd());
      if (agent !== undefined) {
        return runAgent(
          {
            agent,
            cwd,
            prompt: text,
            model: model ?? loaded.config.model,
            json: asJson,
            dataDir,
            yes: values.yes === true,
            allow,
            agentSettings: agentSettingsOf(loaded.config, { turnMs: timeoutMs || undefined }),
            demoNotice: demoOf(loaded),
          },
          logger,
        );
      }
      const args: SessionArgs = {
        dataDir,
        json: asJson,
        approve: values.approve === true,
        yes: values.yes === true,
        allow,
        maxParallel: maxParallel ?? loaded.config.maxParallel,
        budgetTokens: budgetTokens ?? loaded.config.budgetTokens,
        agentSettings: agentSettingsOf(loaded.config, { turnMs: timeoutMs || undefined }),
        demoNotice: demoOf(loaded),
      };
      return runSession(text, cwd, { planOnly: values['plan-only'] === true, planner, model }, args, logger);
    }
    case 'dataset':
      return datasetCommand(positionals, values, { dataDir, json: asJson }, logger);
    case 'serve': {
      if (positionals.length) throw new CliUsageError(`serve takes no arguments (got ${JSON.stringify(positionals.join(' '))})`, 'serve');
      const { loaded } = await agentOptions(values);
      return serve(
        {
          dataDir,
          listen: stringValue(values, 'listen'),
          agentSettings: agentSettingsOf(loaded.config),
          maxRequestsPerMinute: positiveInt(values, 'max-requests-per-minute'),
          store: stringValue(values, 'store'),
          workers: values.workers === true,
          remote: stringValue(values, 'remote'),
          workersTenant: stringValue(values, 'workers-tenant'),
          workerWarnSeconds: positiveInt(values, 'worker-warn-seconds'),
          workerDeadlineSeconds: positiveInt(values, 'worker-deadline-seconds'),
        },
        logger,
      );
    }
    case 'worker': {
      if (positionals.length) throw new CliUsageError(`worker takes no arguments (got ${JSON.stringify(positionals.join(' '))})`, 'worker');
      const loaded = await loadCliConfig(stringValue(values, 'config'));
      for (const w of loaded.warnings) process.stderr.write(`orchestrator: warning: ${w}\n`);
      return runWorker(
        {
          store: stringValue(values, 'store'),
          remote: stringValue(values, 'remote'),
          data: stringValue(values, 'data'),
          concurrency: positiveInt(values, 'concurrency'),
          leaseSeconds: positiveInt(values, 'lease-seconds'),
          agentSettings: agentSettingsOf(loaded.config),
        },
        logger,
      );
    }
    case 'admin':
      return adminCommand(positionals, values, { dataDir, json: asJson });
    case 'help':
      process.stdout.write(generalHelp());
      return 0;
  }
}

function demoOf(loaded: LoadedConfig): string | undefined {
  return loaded.config.providers?.length ? undefined : demoNotice(loaded.file);
}

export async function runCli(argv: string[]): Promise<number> {
  try {
    return await dispatch(argv);
  } catch (e) {
    if (e instanceof CliUsageError) {
      process.stderr.write(`orchestrator: ${e.message}\n`);
      if (e.showHelp) process.stderr.write(`\n${generalHelp()}`);
      return 2;
    }
    if (DomainError.is(e, 'bad_input')) {
      process.stderr.write(`orchestrator: ${e.message}\n`);
      return 2;
    }
    if (DomainError.is(e, 'conflict') && typeof e.data?.holderPid === 'number') {
      process.stderr.write(
        `orchestrator: ${e.message}. Wait for it to finish or stop it (kill ${e.data.holderPid}); status and sessions still work meanwhile.\n`,
      );
      return 4;
    }
    throw e;
  }
}

// A fault in a plugin's code (its stack points into the plugin's folder) is reported and the run goes on;
// any other uncaught exception or unhandled rejection ends the CLI as before.
process.on('uncaughtException', (e, origin) => {
  if (claimPluginFault(e, origin)) return;
  process.stderr.write(`orchestrator: uncaught exception: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(1);
});

runCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`orchestrator: ${(e as Error)?.message ?? String(e)}\n`);
    process.exit(1);
  },
);
