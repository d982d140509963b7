/**
 * Session commands of the CLI: `run "<goal>"` (plan, approve, watch, summary and diff), `sessions`,
 * `resume <id>`. The same services as the spawned server; a live terminal view of tasks, states,
 * agents and tokens.
 */
import { createInterface } from 'node:readline/promises';
import type { SessionView } from '../../protocol/session';
import type { AgentSettings } from './agents';
import { createRunServices, createServices, type RunServices } from './compose';
import { DomainError } from './domain/errors';
import type { Logger } from './ports/logger';
import type { StorePort } from './ports/store';
import { toView } from './services/sessionRecords';

export interface SessionArgs {
  dataDir: string;
  json: boolean;
  approve: boolean;
  maxParallel?: number;
  budgetTokens?: number;
  yes: boolean;
  /** Programs allowed in shell commands besides the default list (`--allow`, the config's `allow`). */
  allow: readonly string[];
  /** From the config file; absent for the read-only commands. */
  agentSettings?: AgentSettings;
  /** Set when the scripted demo model answers: repeated in the summary. */
  demoNotice?: string;
}

const tokensOf = (u: { inputTokens: number; outputTokens: number }) => u.inputTokens + u.outputTokens;
const isEnded = (s: SessionView['state']) => ['completed', 'partially_completed', 'failed', 'cancelled', 'timed_out'].includes(s);

export function renderPlan(v: SessionView): string {
  const lines = [`session ${v.id} (${v.state}, planner ${v.planner ?? '?'}): ${v.goal.split('\n')[0].slice(0, 100)}`];
  for (const t of v.tasks) {
    const deps = t.dependsOn.length ? ` after ${t.dependsOn.map((d) => d.slice(d.lastIndexOf(':') + 1)).join(', ')}` : '';
    lines.push(`  [${t.planId}] ${t.title}${deps}${t.expectedFiles.length ? ` {${t.expectedFiles.join(', ')}}` : ''}`);
  }
  return lines.join('\n');
}

export function renderBoard(v: SessionView): string {
  const lines = [
    `${v.state.padEnd(19)} ${tokensOf(v.usage)} tokens · ${v.tasks.filter((t) => t.state === 'succeeded').length}/${v.tasks.length} done`,
  ];
  for (const t of v.tasks) {
    const extra =
      t.state === 'blocked'
        ? ` (${t.blocked?.reason ?? ''})`
        : t.lastError && t.state === 'failed'
          ? ` (${t.lastError.slice(0, 80)})`
          : t.result?.warnings?.length
            ? ` (warning: ${t.result.warnings[0].slice(0, 80)})`
            : '';
    lines.push(
      `  ${t.state.padEnd(10)} [${t.planId}] ${t.title.slice(0, 40).padEnd(40)} ${(t.agentId ?? '').padEnd(9)} ${t.result ? tokensOf(t.result.usage) : ''}${extra}`,
    );
  }
  return lines.join('\n');
}

async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

async function open(args: SessionArgs, logger: Logger, onChange: (v: SessionView) => void): Promise<RunServices> {
  const base = await createServices({ dataDir: args.dataDir, mode: 'cli', logger, access: 'write-or-fail' });
  return createRunServices(base, {
    agentSettings: args.agentSettings ?? {},
    allowCommands: args.allow,
    logger,
    maxParallel: args.maxParallel,
    publish: () => undefined,
    publishSession: onChange,
    askUser: async (ask) => {
      process.stderr.write(
        `\npermission ${ask.permission} ${ask.patterns.join(' ')} (${ask.reason}): ${args.yes ? 'allow' : 'deny (use --yes to allow)'}\n`,
      );
      return args.yes ? 'allow' : 'deny';
    },
  });
}

/** Watch a session until it ends or needs the user; returns the exit code. */
async function watch(run: RunServices, sessionId: string, args: SessionArgs, changes: { on?: (v: SessionView) => void }): Promise<number> {
  const tty = process.stderr.isTTY && !args.json;
  let drawn = 0;
  let lastLines = '';
  const draw = (v: SessionView) => {
    if (args.json) return;
    const board = renderBoard(v);
    if (tty) {
      process.stderr.write(`${drawn ? `\x1b[${drawn}A\x1b[0J` : ''}${board}\n`);
      drawn = board.split('\n').length;
    } else if (board !== lastLines) {
      process.stderr.write(`${board}\n`);
      lastLines = board;
    }
  };
  for (;;) {
    const view = await new Promise<SessionView | string>((resolve) => {
      const check = (v: SessionView) => {
        if (v.id !== sessionId) return;
        draw(v);
        if (isEnded(v.state) || v.state === 'awaiting_approval' || v.state === 'paused') resolve(v);
      };
      changes.on = check;
      // A write fault (full disk, I/O error) stops the runner: say so and exit instead of waiting forever.
      run.runner.onHalt((reason) => resolve(reason));
      check(run.sessions.get(sessionId));
    });
    changes.on = undefined;
    if (typeof view === 'string') {
      process.stderr.write(`\norchestrator: stopped: ${view}\ncontinue with: orchestrator resume ${sessionId}\n`);
      return 1;
    }
    if (view.state === 'awaiting_approval') {
      process.stderr.write(`\nthe session needs you: ${view.approval?.message}\n`);
      if (await confirm('Approve and continue?')) {
        drawn = 0;
        await run.sessions.approve(sessionId);
        continue;
      }
      process.stderr.write(`left waiting; continue with: orchestrator resume ${sessionId} --approve [--budget-tokens N]\n`);
      return 3;
    }
    if (view.state === 'paused') return 3;
    const diff = await run.sessions.review.diff(sessionId);
    if (args.json) process.stdout.write(`${JSON.stringify({ session: view, diff: diff.files }, null, 2)}\n`);
    else {
      process.stdout.write(
        `\nsession ${view.id}: ${view.state}; ${tokensOf(view.usage)} tokens; integration branch ${view.integrationBranch}\n`,
      );
      process.stdout.write(
        diff.files.length
          ? `changed files:\n${diff.files.map((f) => `  ${f.status} ${f.path}`).join('\n')}\n${diff.patch}`
          : 'no files changed\n',
      );
      process.stdout.write(`apply it to your working tree with your git tools (git merge ${view.integrationBranch}) or from VS Code.\n`);
      if (args.demoNotice) process.stdout.write(`note: ${args.demoNotice}\n`);
    }
    return view.state === 'completed' ? 0 : 1;
  }
}

export async function runSession(
  goal: string,
  cwd: string,
  opts: { planOnly: boolean; planner?: 'template' | 'llm'; model?: string },
  args: SessionArgs,
  logger: Logger,
): Promise<number> {
  const changes: { on?: (v: SessionView) => void } = {};
  const run = await open(args, logger, (v) => changes.on?.(v));
  try {
    let view: SessionView;
    try {
      view = await run.sessions.start({
        goal,
        cwd,
        planner: opts.planner,
        model: opts.model,
        budget: args.budgetTokens ? { tokens: args.budgetTokens } : undefined,
      });
    } catch (e) {
      if (DomainError.is(e, 'bad_input')) {
        process.stderr.write(`orchestrator: ${e.message}\n`);
        return 2;
      }
      throw e;
    }
    if (args.json && opts.planOnly) process.stdout.write(`${JSON.stringify(view, null, 2)}\n`);
    else process.stderr.write(`${renderPlan(view)}\n`);
    if (opts.planOnly) return 0;
    if (!args.approve && !(await confirm('Run this plan?'))) {
      process.stderr.write(`plan saved as a draft; run it with: orchestrator resume ${view.id} --approve\n`);
      return 0;
    }
    await run.sessions.approve(view.id);
    return await watch(run, view.id, args, changes);
  } finally {
    await run.dispose();
  }
}

export async function resumeSession(sessionId: string, args: SessionArgs, logger: Logger): Promise<number> {
  const changes: { on?: (v: SessionView) => void } = {};
  const run = await open(args, logger, (v) => changes.on?.(v));
  try {
    const v = run.sessions.get(sessionId);
    if ((v.state === 'draft' || v.state === 'awaiting_approval') && args.approve) {
      await run.sessions.approve(sessionId, args.budgetTokens ? { tokens: args.budgetTokens } : undefined);
    } else if (v.state === 'paused') await run.sessions.resume(sessionId);
    else if (v.state === 'draft') {
      process.stderr.write(`${renderPlan(v)}\nthe session is a draft; add --approve to run it\n`);
      return 3;
    }
    return await watch(run, sessionId, args, changes);
  } catch (e) {
    if (DomainError.is(e, 'not_found')) {
      process.stderr.write(`orchestrator: ${e.message}\n`);
      return 2;
    }
    throw e;
  } finally {
    await run.dispose();
  }
}

export async function listSessions(args: SessionArgs, logger: Logger): Promise<number> {
  const base = await createServices({ dataDir: args.dataDir, mode: 'cli', logger, access: 'read' });
  const d = base.store.read();
  const sessions = d.sessions
    .map((s) =>
      toView(
        s,
        d.tasks.filter((t) => t.sessionId === s.id),
      ),
    )
    .concat(archivedViews(base.store, d.archive, logger))
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  if (args.json) {
    process.stdout.write(
      `${JSON.stringify(
        sessions.map((s) => ({ id: s.id, state: s.state, goal: s.goal, createdAt: s.createdAt })),
        null,
        2,
      )}\n`,
    );
    return 0;
  }
  if (!sessions.length) process.stdout.write('no sessions yet\n');
  for (const s of sessions) {
    process.stdout.write(
      `${s.id}  ${s.state.padEnd(19)} ${s.tasks.filter((t) => t.state === 'succeeded').length}/${s.tasks.length} tasks  ${s.createdAt}  ${s.goal.split('\n')[0].slice(0, 60)}\n`,
    );
  }
  return 0;
}

/** Views of the archived sessions (a corrupt archive is logged by the store and left out). */
function archivedViews(store: StorePort, entries: readonly { id: string }[], logger: Logger): SessionView[] {
  const out: SessionView[] = [];
  for (const e of entries) {
    try {
      const a = store.archived?.(e.id);
      if (a) out.push(toView(a.session, a.tasks));
    } catch (err) {
      logger.warn((err as Error).message);
    }
  }
  return out;
}
