/**
 * `orchestrator run --agent opencode --cwd <repo> [--model p/m] [--json] [--timeout-ms N] "<prompt>"`:
 * one task with a live progress line, then the summary and the diff. Exit 0 when it succeeded.
 */
import path from 'node:path';
import type { TaskView } from '../../protocol/task';
import type { AgentSettings } from './agents';
import { createRunServices, createServices } from './compose';
import { DomainError } from './domain/errors';
import type { Logger } from './ports/logger';

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

function progressLine(t: TaskView, withEvents: boolean): string {
  const tokens = t.usage.inputTokens + t.usage.outputTokens;
  const doing = t.state === 'running' ? (t.currentTool ? ` tool: ${t.currentTool} ·` : ' thinking ·') : '';
  return `[${t.state}]${doing} ${tokens} tokens${withEvents ? ` · ${t.events} events` : ''}`;
}

export async function runTask(args: RunArgs, logger: Logger): Promise<number> {
  const base = await createServices({ dataDir: args.dataDir, mode: 'cli', logger, access: 'write-or-fail' });
  const tty = process.stderr.isTTY;
  let last = '';
  const run = await createRunServices(base, {
    agentSettings: args.agentSettings,
    allowCommands: args.allow,
    logger,
    publish: ({ task }) => {
      if (args.json) return;
      const line = progressLine(task, tty);
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
      started = await run.tasks.run({ agent: args.agent, cwd: path.resolve(args.cwd), prompt: args.prompt, model: args.model });
    } catch (e) {
      if (DomainError.is(e, 'bad_input')) {
        process.stderr.write(`orchestrator: ${e.message}\n`);
        return 2;
      }
      throw e;
    }
    const onSignal = () => void run.tasks.cancel(started.taskId);
    process.once('SIGINT', onSignal);
    await started.done;
    process.off('SIGINT', onSignal);
    const task = run.tasks.get(started.taskId);
    if (tty && !args.json) process.stderr.write('\n');
    if (args.json) {
      process.stdout.write(`${JSON.stringify(task, null, 2)}\n`);
    } else {
      const out: string[] = [`task ${task.id}: ${task.state}${task.warnings?.length ? ' (with warnings)' : ''}`];
      for (const w of task.warnings ?? []) out.push(`warning: ${w}`);
      if (task.error)
        out.push(
          `error (${task.error.reason}): ${task.error.message}`,
          ...(task.error.stderrTail ? [`stderr:\n${task.error.stderrTail}`] : []),
        );
      if (task.summary) out.push(`summary: ${task.summary}`);
      out.push(`usage: ${task.usage.inputTokens} in / ${task.usage.outputTokens} out tokens, cost ${task.usage.cost}`);
      out.push(`transcript: ${path.join(base.dataDir, 'transcripts', task.sessionId, `${task.id}.jsonl`)}`);
      const diff = task.diff ?? [];
      out.push(
        diff.length
          ? `changed files:\n${diff.map((f) => `  ${f.status} ${f.path} (+${f.additions} -${f.deletions})`).join('\n')}`
          : 'no files changed',
      );
      for (const f of diff) if (f.patch) out.push(f.patch.trimEnd());
      if (args.demoNotice) out.push(`note: ${args.demoNotice}`);
      process.stdout.write(`${out.join('\n')}\n`);
    }
    return task.state === 'succeeded' ? 0 : 1;
  } finally {
    await run.dispose();
  }
}
