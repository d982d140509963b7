/**
 * `orchestrator run --agent opencode --cwd <repo> [--model p/m] [--json] [--timeout-ms N] "<prompt>"`:
 * one run (a single agent turn) with a live progress line, then the summary and the diff. Exit 0 when it
 * succeeded. The input is validated here, at the edge, with the `run/start` schema.
 */
import path from 'node:path';
import { describeIssues } from '../../protocol/messages';
import { runStartParams, type RunView } from '../../protocol/run';
import type { AgentSettings } from './agents';
import { createRunServices, createServices } from './compose';
import { DomainError } from './domain/errors';
import type { Logger } from './ports/logger';
import { transcriptFolder } from './services/runService';

export interface RunArgs {
  agent: string;
  cwd: string;
  prompt: string;
  model?: string;
  json: boolean;
  dataDir: string;
  yes: boolean;
  /** Programs allowed in shell commands besides the default list (`--allow`, the config's `allow`). */
  allow: readonly string[];
  /** From the config file (providers, default model, timeouts). */
  agentSettings: AgentSettings;
  /** Set when the scripted demo model answers: repeated in the summary. */
  demoNotice?: string;
}

function progressLine(t: RunView, withEvents: boolean): string {
  const tokens = t.usage.inputTokens + t.usage.outputTokens;
  const doing = t.state === 'running' ? (t.currentTool ? ` tool: ${t.currentTool} ·` : ' thinking ·') : '';
  return `[${t.state}]${doing} ${tokens} tokens${withEvents ? ` · ${t.events} events` : ''}`;
}

export async function runAgent(args: RunArgs, logger: Logger): Promise<number> {
  const input = runStartParams.safeParse({ agent: args.agent, cwd: path.resolve(args.cwd), prompt: args.prompt, model: args.model });
  if (!input.success) {
    process.stderr.write(`orchestrator: ${describeIssues(input.error)}\n`);
    return 2;
  }
  const base = await createServices({ dataDir: args.dataDir, mode: 'cli', logger, access: 'write-or-fail' });
  const tty = process.stderr.isTTY;
  let last = '';
  const services = await createRunServices(base, {
    agentSettings: args.agentSettings,
    allowCommands: args.allow,
    logger,
    publish: ({ run }) => {
      if (args.json) return;
      const line = progressLine(run, tty);
      if (line === last) return;
      last = line;
      process.stderr.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
    },
    // Headless: what the policy cannot decide is denied unless --yes was given.
    askUser: async (ask) => {
      const decision = args.yes ? 'allow' : 'deny';
      process.stderr.write(
        `${tty ? '\n' : ''}permission ${ask.permission} ${ask.patterns.join(' ')} (${ask.reason}): ${decision}${args.yes ? '' : ' (use --yes to allow)'}\n`,
      );
      return decision;
    },
  });
  try {
    let started;
    try {
      started = await services.runs.start(input.data);
    } catch (e) {
      if (DomainError.is(e, 'bad_input')) {
        process.stderr.write(`orchestrator: ${e.message}\n`);
        return 2;
      }
      throw e;
    }
    const onSignal = () => void services.runs.cancel(started.runId);
    process.once('SIGINT', onSignal);
    await started.done;
    process.off('SIGINT', onSignal);
    const run = services.runs.get(started.runId);
    if (tty && !args.json) process.stderr.write('\n');
    if (args.json) {
      process.stdout.write(`${JSON.stringify(run, null, 2)}\n`);
    } else {
      const out: string[] = [`run ${run.id}: ${run.state}${run.warnings?.length ? ' (with warnings)' : ''}`];
      for (const w of run.warnings ?? []) out.push(`warning: ${w}`);
      if (run.error)
        out.push(
          `error (${run.error.reason}): ${run.error.message}`,
          ...(run.error.stderrTail ? [`stderr:\n${run.error.stderrTail}`] : []),
        );
      if (run.summary) out.push(`summary: ${run.summary}`);
      out.push(`usage: ${run.usage.inputTokens} in / ${run.usage.outputTokens} out tokens, cost ${run.usage.cost}`);
      out.push(`transcript: ${path.join(base.dataDir, 'transcripts', transcriptFolder(run), `${run.id}.jsonl`)}`);
      const diff = run.diff ?? [];
      out.push(
        diff.length
          ? `changed files:\n${diff.map((f) => `  ${f.status} ${f.path} (+${f.additions} -${f.deletions})`).join('\n')}`
          : 'no files changed',
      );
      for (const f of diff) if (f.patch) out.push(f.patch.trimEnd());
      if (args.demoNotice) out.push(`note: ${args.demoNotice}`);
      process.stdout.write(`${out.join('\n')}\n`);
    }
    return run.state === 'succeeded' ? 0 : 1;
  } finally {
    await services.dispose();
  }
}
