/**
 * The headless CLI (`orchestrator`). It builds the same services as the spawned server.
 *   orchestrator status [--data-dir D] [--json]
 */
import { createLogger, stderrSink } from './adapters/lspLogger';
import path from 'node:path';
import { runTask } from './cliRun';
import { listSessions, resumeSession, runSession } from './cliSession';
import { createServices } from './compose';
import { argValue, defaultDataDir } from './dataDir';
import type { LogLevel } from './ports/logger';
import { version } from './version';

const usage = `Industrial Orchestrator ${version}

Usage:
  orchestrator status [--data-dir DIR] [--json]   show the server's health and store state
  orchestrator run "GOAL" --cwd REPO [--plan-only] [--approve] [--planner template|llm] [--max-parallel N] [--budget-tokens N] [--json] [--yes]
                                                  plan GOAL into tasks, run them in parallel worktrees, print the summary and the diff
  orchestrator run --agent opencode --cwd REPO [--model P/M] [--json] [--yes] [--timeout-ms N] "PROMPT"
                                                  run one agent task in REPO, print the summary and the diff
  orchestrator sessions [--json]                  list sessions
  orchestrator resume ID [--approve] [--budget-tokens N]
                                                  continue a session (after a crash, a budget stop, or a draft)
  orchestrator --version
  orchestrator --help

Options:
  --data-dir DIR   where the store and transcripts live (default: $ORCHESTRATOR_DATA_DIR or ~/.local/share/industrial-orchestrator)
  --json           print machine-readable JSON
  --yes            allow what the permission policy would ask about (default: deny)
  GOAL may be a task list, one task per line: - [id] Title (after: a, b) {files: src/a.ts}: prompt
  Without configured providers, OpenCode uses the bundled scripted demo model (no API key, offline).
  --log-level L    error | warn | info | debug (default: warn)
`;

export async function runCli(argv: string[]): Promise<number> {
  const valued = ['--data-dir', '--log-level', '--cwd', '--agent', '--model', '--timeout-ms', '--planner', '--max-parallel', '--budget-tokens'];
  // A word with spaces (a goal such as "- [a] …") is positional even when it starts with "-".
  const positional = argv.filter((a, i) => (!a.startsWith('-') || /\s/.test(a)) && !(i > 0 && valued.includes(argv[i - 1])));
  const [command] = positional;
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(usage);
    return 0;
  }
  if (argv.includes('--version')) {
    process.stdout.write(`${version}\n`);
    return 0;
  }
  const levelArg = argValue(argv, '--log-level') ?? 'warn';
  if (!['error', 'warn', 'info', 'debug'].includes(levelArg)) {
    process.stderr.write(`orchestrator: --log-level must be one of error, warn, info, debug (got ${JSON.stringify(levelArg)})\n`);
    return 2;
  }
  const logger = createLogger(stderrSink, () => levelArg as LogLevel);
  switch (command) {
    case 'status': {
      const dataDir = argValue(argv, '--data-dir') ?? defaultDataDir();
      const services = await createServices({ dataDir, mode: 'cli', logger, access: 'read' });
      const s = services.status.get();
      if (argv.includes('--json')) process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
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
    case 'run':
    case 'sessions':
    case 'resume': {
      const ints: Record<string, number | undefined> = {};
      for (const flag of ['--max-parallel', '--budget-tokens']) {
        const raw = argValue(argv, flag);
        if (raw !== undefined && !/^[1-9]\d*$/.test(raw)) {
          process.stderr.write(`orchestrator: ${flag} must be a positive whole number (got ${JSON.stringify(raw)})\n`);
          return 2;
        }
        ints[flag] = raw === undefined ? undefined : Number(raw);
      }
      const planner = argValue(argv, '--planner');
      if (planner !== undefined && planner !== 'template' && planner !== 'llm') {
        process.stderr.write(`orchestrator: --planner must be template or llm (got ${JSON.stringify(planner)})\n`);
        return 2;
      }
      const sessionArgs = {
        dataDir: argValue(argv, '--data-dir') ?? defaultDataDir(), json: argv.includes('--json'), approve: argv.includes('--approve'),
        maxParallel: ints['--max-parallel'], budgetTokens: ints['--budget-tokens'], yes: argv.includes('--yes'),
      };
      if (command === 'sessions') return listSessions(sessionArgs, logger);
      if (command === 'resume') {
        if (!positional[1]) {
          process.stderr.write('orchestrator: resume needs a session id (see `orchestrator sessions`)\n');
          return 2;
        }
        return resumeSession(positional[1], sessionArgs, logger);
      }
      if (argValue(argv, '--agent') === undefined) {
        const goal = positional.slice(1).join(' ');
        if (!goal.trim()) {
          process.stderr.write('orchestrator: run needs a goal, e.g. orchestrator run "add a --verbose flag with tests" --cwd .\n');
          return 2;
        }
        return runSession(goal, path.resolve(argValue(argv, '--cwd') ?? process.cwd()), { planOnly: argv.includes('--plan-only'), planner: planner as 'template' | 'llm' | undefined }, sessionArgs, logger);
      }
      const prompt = positional.slice(1).join(' ');
      const cwd = argValue(argv, '--cwd') ?? process.cwd();
      const timeout = argValue(argv, '--timeout-ms');
      if (timeout !== undefined && !/^\d+$/.test(timeout)) {
        process.stderr.write(`orchestrator: --timeout-ms must be a whole number of milliseconds (got ${JSON.stringify(timeout)})\n`);
        return 2;
      }
      return runTask({
        agent: argValue(argv, '--agent') ?? 'opencode', cwd, prompt, model: argValue(argv, '--model'), json: argv.includes('--json'),
        dataDir: argValue(argv, '--data-dir') ?? defaultDataDir(), timeoutMs: timeout ? Number(timeout) : undefined, yes: argv.includes('--yes'),
      }, logger);
    }
    case undefined:
      process.stderr.write(usage);
      return 2;
    default:
      process.stderr.write(`orchestrator: unknown command ${JSON.stringify(command)}\n\n${usage}`);
      return 2;
  }
}

runCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`orchestrator: ${(e as Error)?.message ?? String(e)}\n`);
    process.exit(1);
  },
);
