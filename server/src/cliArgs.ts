/**
 * Command-line parsing of the headless CLI: one option table per command, parsed strictly with
 * `node:util` `parseArgs`, and the help text of each command. An unknown option, a missing value or a
 * value given to a flag is a `CliUsageError` naming it (exit 2).
 *
 * Goals may start with `-` (a task list `- [a] …`): an argument that starts with `-` but does not look
 * like an option (`-x`, `--name`, `--name=value`) is a positional, and everything after `--` is too.
 */
import { parseArgs } from 'node:util';
import { version } from './version';

type OptionSpec = { type: 'string' | 'boolean'; multiple?: boolean; short?: string; value?: string; help: string };

const common = {
  'data-dir': {
    type: 'string',
    value: 'DIR',
    help: 'where the store and transcripts live (default: $ORCHESTRATOR_DATA_DIR, else $XDG_DATA_HOME/industrial-orchestrator or ~/.local/share/industrial-orchestrator)',
  },
  'log-level': { type: 'string', value: 'L', help: 'error | warn | info | debug (default: warn)' },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
} satisfies Record<string, OptionSpec>;
const json = { type: 'boolean', help: 'print machine-readable JSON on stdout' } satisfies OptionSpec;
const config = {
  type: 'string',
  value: 'FILE',
  help: 'config file (default: $XDG_CONFIG_HOME/industrial-orchestrator/config.json, else ~/.config/industrial-orchestrator/config.json; optional there)',
} satisfies OptionSpec;
const yes = { type: 'boolean', help: 'allow what the permission policy would ask about (default: deny it)' } satisfies OptionSpec;
const allow = {
  type: 'string',
  multiple: true,
  value: 'PROGRAM',
  help: 'also allow PROGRAM in agents\' shell commands (repeatable; adds to the config\'s "allow"), e.g. --allow node to let agents run tests',
} satisfies OptionSpec;
const maxParallel = { type: 'string', value: 'N', help: "tasks at once (default: the config's maxParallel, else 4)" } satisfies OptionSpec;
const budgetTokens = {
  type: 'string',
  value: 'N',
  help: "token budget (default: the config's budgetTokens for a new session)",
} satisfies OptionSpec;
const approve = { type: 'boolean', help: 'run without asking for confirmation' } satisfies OptionSpec;
const model = { type: 'string', value: 'P/M', help: "one of the configured models (default: the config's model)" } satisfies OptionSpec;

interface CommandSpec {
  usage: string;
  summary: string;
  options: Record<string, OptionSpec>;
  /** What the positionals are, for the help text. */
  notes?: string[];
}

export const commands = {
  status: {
    usage: 'orchestrator status [--data-dir DIR] [--json]',
    summary: 'show the health and the store state (read-only; exit 1 when degraded)',
    options: { json, ...common },
  },
  run: {
    usage: 'orchestrator run "GOAL" --cwd REPO [options]\n  orchestrator run --agent opencode --cwd REPO [options] "PROMPT"',
    summary:
      'plan GOAL into tasks and run them in parallel worktrees (or, with --agent, do one agent run with PROMPT); print the summary and the diff',
    options: {
      cwd: { type: 'string', value: 'REPO', help: 'the git repository to work on (default: the current folder)' },
      agent: {
        type: 'string',
        value: 'ID',
        help: 'do one agent run (opencode, or any registered agent id) with PROMPT instead of planning a session',
      },
      model,
      config,
      allow,
      yes,
      'plan-only': { type: 'boolean', help: 'print the plan and stop (saved as a draft)' },
      approve,
      planner: { type: 'string', value: 'P', help: 'template or llm (default: llm with a real model, template with the demo model)' },
      'max-parallel': maxParallel,
      'budget-tokens': budgetTokens,
      'timeout-ms': { type: 'string', value: 'N', help: 'wall-clock limit of an agent turn in milliseconds' },
      json,
      ...common,
    },
    notes: [
      'GOAL may be a task list, one task per line: - [id] Title (after: a, b) {files: src/a.ts}: prompt',
      'A goal that starts with "-" is a goal, not an option; after "--" every word is part of the goal.',
      'Without configured providers, OpenCode uses the scripted demo model (offline, no real LLM); see the config file.',
      'Exit: 0 done, 1 failed, 2 bad input, 3 waiting for you (resume it), 4 the data folder is in use by another process.',
    ],
  },
  sessions: {
    usage: 'orchestrator sessions [--data-dir DIR] [--json]',
    summary: 'list sessions, newest first (read-only)',
    options: { json, ...common },
  },
  resume: {
    usage: 'orchestrator resume ID [options]',
    summary: 'continue a session (after a crash, a budget stop, or a draft)',
    options: { approve, 'budget-tokens': budgetTokens, 'max-parallel': maxParallel, config, allow, yes, json, ...common },
    notes: ['Exit: as for run; 4 when another process holds the data folder (its pid is printed).'],
  },
  dataset: {
    usage:
      'orchestrator dataset create NAME [filters] [--max-tokens N] [--validation-fraction F] [--seed S] [--format F]...\n  orchestrator dataset list\n  orchestrator dataset export NAME --format F',
    summary: 'curate a fine-tuning dataset from the stored agent runs, list the datasets, print the paths of an export',
    options: {
      outcome: {
        type: 'string',
        multiple: true,
        value: 'STATE',
        help: 'take runs that ended so: succeeded (default), failed, cancelled (repeatable)',
      },
      applied: { type: 'boolean', help: 'only runs of sessions whose diff was applied' },
      'not-applied': { type: 'boolean', help: "only runs whose session's diff was not applied" },
      agent: { type: 'string', multiple: true, value: 'ID', help: 'only runs of this agent (repeatable)' },
      model: { type: 'string', multiple: true, value: 'P/M', help: 'only runs with this model (repeatable)' },
      session: {
        type: 'string',
        multiple: true,
        value: 'ID',
        help: "only runs of this session (repeatable; a single run's is run-<runId>)",
      },
      since: { type: 'string', value: 'TIME', help: 'only runs created at or after this ISO 8601 time' },
      until: { type: 'string', value: 'TIME', help: 'only runs created at or before this ISO 8601 time' },
      'max-tokens': { type: 'string', value: 'N', help: 'drop examples longer than N tokens (default 16384)' },
      'validation-fraction': { type: 'string', value: 'F', help: 'share of groups for validation, 0 to below 1 (default 0.1)' },
      seed: { type: 'string', value: 'S', help: 'seed of the train/validation split' },
      format: {
        type: 'string',
        multiple: true,
        value: 'F',
        help: 'openai, sharegpt or mlx (create: repeatable, default all; export: one)',
      },
      json,
      ...common,
    },
    notes: [
      'A dataset is written once, as one folder under DIR/datasets/NAME; the same NAME with the same content prints the existing one.',
      'Exit: 0 done, 1 the name holds other content or no such dataset, 2 bad input (nothing written).',
    ],
  },
  serve: {
    usage:
      'orchestrator serve --listen HOST:PORT [--store lowdb|postgres://…] [--workers --remote GIT_URL [--worker-warn-seconds N] [--worker-deadline-seconds N]] [--data-dir DIR] [--config FILE]',
    summary: 'run the team server: the protocol over WebSocket for clients with API keys (see docs/team-server.md)',
    options: {
      listen: { type: 'string', value: 'HOST:PORT', help: 'where to listen, e.g. 127.0.0.1:7420 (port 0: any free port, printed)' },
      store: {
        type: 'string',
        value: 'STORE',
        help: "lowdb (default: DIR/tenants/TENANT/store.json) or postgres://USER:PASSWORD@HOST:PORT/DATABASE (every tenant's rows, scoped by tenant)",
      },
      config,
      'max-requests-per-minute': {
        type: 'string',
        value: 'N',
        help: 'requests per API key per minute before tooManyRequests (default 6000)',
      },
      workers: {
        type: 'boolean',
        help: 'run session tasks on `orchestrator worker` processes, not in this server (needs --store postgres://…, --remote and --workers-tenant)',
      },
      remote: {
        type: 'string',
        value: 'GIT_URL',
        help: "with --workers: the team's git remote the workers serve (base commits are pushed there)",
      },
      'workers-tenant': {
        type: 'string',
        value: 'ID',
        help: "with --workers: the one tenant whose sessions go to the workers (other tenants' sessions run in this server)",
      },
      'worker-warn-seconds': {
        type: 'string',
        value: 'N',
        help: 'with --workers: a task no worker has taken for N seconds shows as waiting for a worker (default 60)',
      },
      'worker-deadline-seconds': {
        type: 'string',
        value: 'N',
        help: 'with --workers: a task (or merge) no worker has taken for N seconds fails (default 1800)',
      },
      ...common,
    },
    notes: [
      "Accounts and keys live in DIR/auth.json (orchestrator admin); each tenant's data in DIR/tenants/TENANT/.",
      'Prints "listening on ws://HOST:PORT" once it listens; stops on SIGTERM or SIGINT.',
    ],
  },
  worker: {
    usage: 'orchestrator worker --store postgres://… --remote GIT_URL --data DIR [--concurrency N] [--lease-seconds N] [--config FILE]',
    summary: "run queued session tasks from the team's PostgreSQL (several workers, on several machines, share the queue)",
    options: {
      store: {
        type: 'string',
        value: 'URL',
        help: "the team's PostgreSQL: postgres://USER:PASSWORD@HOST:PORT/DATABASE (queue and task ledger)",
      },
      remote: {
        type: 'string',
        value: 'GIT_URL',
        help: "the team's git remote this worker serves: jobs naming another remote fail (clone, task branches and merges go there)",
      },
      data: { type: 'string', value: 'DIR', help: "this worker's own folder: its clone of the remote, task worktrees, agents' homes" },
      concurrency: { type: 'string', value: 'N', help: 'tasks at once in this worker (default 2)' },
      'lease-seconds': {
        type: 'string',
        value: 'N',
        help: 'how long a task may run before it goes to another worker as if this one had died (default 900; sets the queue)',
      },
      config,
      ...common,
    },
    notes: [
      'Agents come from the config file (acpAgents). Prints "worker ID ready" once it takes jobs; stops on SIGTERM or SIGINT.',
      'Each task runs in its own worktree, its branch orchestrator/SESSION/TASK is pushed to the remote; the last task of a session queues its merge (orchestrator/SESSION/integration), done by one worker at a time.',
    ],
  },
  admin: {
    usage:
      'orchestrator admin create-tenant ID [--name NAME] [--root PATH]…\n  orchestrator admin create-user --tenant ID --name NAME --role viewer|developer|admin\n  orchestrator admin create-key --tenant ID --user NAME [--label TEXT] [--expires-in-days N]\n  orchestrator admin revoke-key KEY_ID\n  orchestrator admin set-roots ID [PATH…]   (none: clears them)\n  orchestrator admin set-quota ID [--user NAME|ID | --key KEY_ID] [--max-sessions N|none] [--max-tasks N|none] [--tokens N|none] [--money X|none] [--price-per-million X|none] [--window-minutes N|none]\n  orchestrator admin audit ID [--limit N]\n  orchestrator admin usage ID [--by user|agent|model|day] [--from DATE] [--to DATE]\n  orchestrator admin list',
    summary: "manage the team server's tenants, users and API keys (a key is shown once; only its hash is kept)",
    options: {
      tenant: { type: 'string', value: 'ID', help: 'the tenant' },
      name: { type: 'string', value: 'NAME', help: 'the name of the tenant or user' },
      role: { type: 'string', value: 'ROLE', help: 'viewer (reads), developer (runs sessions), admin (manages agents)' },
      user: { type: 'string', value: 'NAME', help: "the user (name or id) the key belongs to; set-quota: that user's quotas" },
      key: { type: 'string', value: 'KEY_ID', help: "set-quota: that API key's quotas" },
      label: { type: 'string', value: 'TEXT', help: 'a note on the key' },
      'expires-in-days': { type: 'string', value: 'N', help: 'the key stops working after N days (default: never)' },
      root: {
        type: 'string',
        multiple: true,
        value: 'PATH',
        help: "a folder the tenant's clients may name as cwd (repeatable; existing, stored as its real path)",
      },
      'max-sessions': { type: 'string', value: 'N|none', help: 'sessions running, paused or awaiting approval at once' },
      'max-tasks': { type: 'string', value: 'N|none', help: 'agent turns (session tasks and single runs) running at once' },
      tokens: { type: 'string', value: 'N|none', help: 'agent tokens per window' },
      money: { type: 'string', value: 'X|none', help: 'money per window (cost reported by agents, else tokens × --price-per-million)' },
      'price-per-million': {
        type: 'string',
        value: 'X|none',
        help: 'price hint: money per million tokens for runs whose agent reports no cost',
      },
      'window-minutes': { type: 'string', value: 'N|none', help: 'the rolling tokens and money window (default 1440, one day)' },
      limit: { type: 'string', value: 'N', help: 'audit: newest N entries (default 100)' },
      by: { type: 'string', value: 'GROUP', help: 'usage: rows per user (default), agent, model or day (UTC)' },
      from: { type: 'string', value: 'DATE', help: 'usage: runs ended at or after (ISO date or date-time)' },
      to: { type: 'string', value: 'DATE', help: 'usage: runs ended before (ISO date or date-time)' },
      json,
      ...common,
    },
    notes: ['Exit: 0 done, 1 failed (no such tenant, user or key; a name taken), 2 bad input.'],
  },
  help: {
    usage: 'orchestrator help [COMMAND]',
    summary: 'show the help of a command',
    options: { help: common.help },
  },
} satisfies Record<string, CommandSpec>;
export type CommandName = keyof typeof commands;

export function isCommand(name: string): name is CommandName {
  return Object.hasOwn(commands, name);
}

/** Bad usage: exit 2, with the message on stderr. */
export class CliUsageError extends Error {
  /** `showHelp`: also print the general help (the command itself was missing or unknown). */
  constructor(
    message: string,
    readonly command?: CommandName,
    readonly showHelp = false,
  ) {
    super(message);
    this.name = 'CliUsageError';
  }
}

export function generalHelp(): string {
  const rows = (Object.keys(commands) as CommandName[]).map((c) => `  ${c.padEnd(10)} ${commands[c].summary}`);
  return (
    `Industrial Orchestrator ${version}\n\nUsage: orchestrator COMMAND [options]\n\nCommands:\n${rows.join('\n')}\n\n` +
    "orchestrator help COMMAND (or COMMAND --help) shows a command's options; orchestrator --version prints the version.\n"
  );
}

export function commandHelp(name: CommandName): string {
  const spec: CommandSpec = commands[name];
  const opts = Object.entries(spec.options).map(([k, o]) => {
    const left = `${o.short ? `-${o.short}, ` : ''}--${k}${o.value ? ` ${o.value}` : ''}`;
    return `  ${left.padEnd(24)} ${o.help}`;
  });
  return `Usage: ${spec.usage}\n\n${spec.summary}\n\nOptions:\n${opts.join('\n')}\n${spec.notes?.length ? `\n${spec.notes.join('\n')}\n` : ''}`;
}

/** The `parseArgs` option table of a command (only defined keys: parseArgs rejects `short: undefined`). */
function parseTable(
  options: Record<string, OptionSpec>,
): Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> {
  return Object.fromEntries(
    Object.entries(options).map(([k, o]) => [
      k,
      { type: o.type, ...(o.multiple ? { multiple: true } : {}), ...(o.short ? { short: o.short } : {}) },
    ]),
  );
}

const optionLike = /^--?[A-Za-z][A-Za-z0-9-]*(=[\s\S]*)?$/;

/** Edit distance, for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}

export type ParsedValues = Record<string, string | boolean | string[] | undefined>;

export type ParsedCommandLine =
  | { kind: 'version' }
  | { kind: 'help'; command?: CommandName }
  | { kind: 'command'; command: CommandName; values: ParsedValues; positionals: string[] };

/**
 * Parses `argv` (without node and the script). Throws `CliUsageError` for an unknown command or option,
 * a missing value, or a value given to a flag.
 */
export function parseCommandLine(argv: readonly string[]): ParsedCommandLine {
  // The command is the first word that is neither an option nor the value of a leading --data-dir/--log-level.
  let first = -1;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--' || !optionLike.test(argv[i])) {
      first = i;
      break;
    }
    if (argv[i] === '--data-dir' || argv[i] === '--log-level') i++;
  }
  const leading = first === -1 ? argv : argv.slice(0, first);
  const word = first === -1 ? undefined : argv[first];
  if (word === undefined || word === '--') {
    if (leading.includes('--version')) return { kind: 'version' };
    if (leading.includes('--help') || leading.includes('-h')) return { kind: 'help' };
    throw new CliUsageError('missing command', undefined, true);
  }
  if (!isCommand(word)) throw new CliUsageError(`unknown command ${JSON.stringify(word)}`, undefined, true);
  const command = word;
  const rest = [...leading, ...argv.slice(first + 1)];
  // Arguments that start with "-" but are not options (a goal "- [a] …") go to parseArgs as placeholders
  // that do not start with "-", so it keeps them as positionals (or option values); they are put back after.
  const held = new Map<string, string>();
  let afterDashes = false;
  const args = rest.map((a, i) => {
    if (a === '--') afterDashes = true;
    if (afterDashes || !a.startsWith('-') || a === '-' || a === '--' || optionLike.test(a)) return a;
    const key = `\u0000arg${i}`;
    held.set(key, a);
    return key;
  });
  const restore = (v: string) => held.get(v) ?? v;
  const options = commands[command].options as Record<string, OptionSpec>;
  let parsed;
  try {
    parsed = parseArgs({ args, options: parseTable(options), allowPositionals: true, strict: true });
  } catch (e) {
    throw usageErrorOf(e, command, args.map(restore), options);
  }
  const values: ParsedValues = {};
  for (const [k, v] of Object.entries(parsed.values))
    values[k] = Array.isArray(v) ? v.map((x) => restore(String(x))) : typeof v === 'string' ? restore(v) : v;
  const positionals = parsed.positionals.map(restore);
  if (command === 'help') {
    if (values.help || positionals.length === 0) return { kind: 'help' };
    if (positionals.length > 1 || !isCommand(positionals[0]))
      throw new CliUsageError(
        `help: unknown command ${JSON.stringify(positionals.join(' '))} (commands: ${Object.keys(commands).join(', ')})`,
        'help',
      );
    return { kind: 'help', command: positionals[0] };
  }
  if (values.help) return { kind: 'help', command };
  return { kind: 'command', command, values, positionals };
}

function usageErrorOf(e: unknown, command: CommandName, args: string[], options: Record<string, OptionSpec>): Error {
  const code = (e as NodeJS.ErrnoException).code;
  if (code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && code !== 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') return e as Error;
  const see = `see orchestrator help ${command}`;
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    // Find the offender ourselves (the tokens of a lenient parse) rather than reading it out of the message.
    const { tokens } = parseArgs({ args, options: parseTable(options), allowPositionals: true, strict: false, tokens: true });
    const unknown = tokens.find((t) => t.kind === 'option' && !Object.hasOwn(options, t.name));
    const raw = unknown?.kind === 'option' ? unknown.rawName : undefined;
    if (raw) {
      const name = raw.replace(/^-+/, '');
      const near = Object.keys(options).filter((k) => distance(k, name) <= (k.length <= 3 ? 1 : 2));
      return new CliUsageError(
        `${command}: unknown option ${raw}${near.length ? ` (did you mean ${near.map((k) => `--${k}`).join(' or ')}?)` : ''}; ${see}`,
        command,
      );
    }
  }
  return new CliUsageError(`${command}: ${(e as Error).message.split('\n')[0]}; ${see}`, command);
}

/** A positive whole number option, or a usage error naming it. */
export function positiveInt(values: ParsedValues, name: string, opts: { allowZero?: boolean } = {}): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !(opts.allowZero ? /^\d+$/ : /^[1-9]\d*$/).test(raw)) {
    throw new CliUsageError(
      `--${name} must be a ${opts.allowZero ? 'whole number' : 'positive whole number'} (got ${JSON.stringify(raw)})`,
    );
  }
  return Number(raw);
}

export function stringValue(values: ParsedValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function listValue(values: ParsedValues, name: string): string[] {
  const v = values[name];
  return Array.isArray(v) ? v : [];
}
