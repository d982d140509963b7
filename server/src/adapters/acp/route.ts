/**
 * Dispatches one link's incoming calls (updates, permission requests, fs and terminal calls) to the turn
 * currently running on it, and refuses them between turns. fs paths and terminal folders are confined to the
 * task's worktree; terminal commands are judged by the permission policy first.
 */
import type { CommandSandbox } from '../../ports/commandSandbox';
import type { AcpTurn } from './acpTurn';
import { confine, readText, writeText } from './fsBridge';
import type { LinkHandlers, TerminalCreate } from './link';
import { loadAcp } from './sdk';
import { commandLine, Terminals } from './terminals';

/** Dispatches a link's incoming calls to the turn currently running on it (or refuses them between turns). */
export class Route implements LinkHandlers {
  private sessionId?: string;
  private cwd?: string;
  private turn?: AcpTurn;
  private missingAsEmpty = false;
  private readonly terminals: Terminals;
  private releaseSandbox?: () => void;

  constructor(
    env: Record<string, string>,
    private readonly sandbox?: CommandSandbox,
    private readonly log?: (line: string) => void,
  ) {
    this.terminals = new Terminals(env, sandbox);
  }

  attach(sessionId: string, cwd: string, turn: AcpTurn, missingAsEmpty: boolean): void {
    this.sessionId = sessionId;
    this.cwd = cwd;
    this.turn = turn;
    this.missingAsEmpty = missingAsEmpty;
    this.releaseSandbox?.();
    this.releaseSandbox = undefined;
    try {
      this.releaseSandbox = this.sandbox?.allow(cwd);
    } catch (e) {
      // Not allowed means nothing is writable for the turn's commands: safe, and said.
      this.log?.(`sandbox: could not allow ${cwd}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  detach(turn: AcpTurn): void {
    if (this.turn === turn) this.turn = undefined;
    this.terminals.releaseAll();
    this.releaseSandbox?.();
    this.releaseSandbox = undefined;
  }

  private current(sessionId: unknown): AcpTurn | undefined {
    return this.turn && sessionId === this.sessionId ? this.turn : undefined;
  }

  update(sessionId: string, update: unknown): void {
    this.current(sessionId)?.onUpdate(update);
  }

  permission(params: { sessionId?: unknown; toolCall?: unknown; options?: unknown }, requestId: string) {
    const turn = this.current(params.sessionId);
    if (!turn) return Promise.resolve({ outcome: { outcome: 'cancelled' as const } });
    return turn.onPermission(params, requestId);
  }

  private async confined(op: 'read' | 'write', sessionId: string, p: string): Promise<string> {
    const turn = this.current(sessionId);
    const acp = await loadAcp();
    if (!turn || !this.cwd) throw acp.RequestError.invalidRequest(undefined, `no turn is running on session ${sessionId}`);
    const c = confine(this.cwd, p);
    if (!c.ok) {
      turn.reportRefusal(op, String(p), c.reason);
      throw acp.RequestError.invalidParams({ path: p }, `refused by the orchestrator: ${c.reason}`);
    }
    turn.activity();
    return c.path;
  }

  async readTextFile(params: {
    sessionId: string;
    path: string;
    line?: number | null;
    limit?: number | null;
  }): Promise<{ content: string }> {
    const file = await this.confined('read', params.sessionId, params.path);
    const text = await readText(file, params.line, params.limit);
    if (text !== undefined) return { content: text };
    if (this.missingAsEmpty) return { content: '' };
    throw (await loadAcp()).RequestError.resourceNotFound(params.path);
  }

  async writeTextFile(params: { sessionId: string; path: string; content: string }): Promise<Record<string, never>> {
    const file = await this.confined('write', params.sessionId, params.path);
    await writeText(file, params.content);
    return {};
  }

  async createTerminal(p: TerminalCreate, requestId: string): Promise<{ terminalId: string }> {
    const acp = await loadAcp();
    const turn = this.current(p.sessionId);
    if (!turn || !this.cwd) throw acp.RequestError.invalidRequest(undefined, `no turn is running on session ${p.sessionId}`);
    const cwd = p.cwd ? confine(this.cwd, p.cwd) : ({ ok: true, path: this.cwd } as const);
    const line = commandLine(p.command, p.args ?? []);
    if (!cwd.ok) {
      turn.reportRefusal('read', String(p.cwd), cwd.reason);
      throw acp.RequestError.invalidParams({ cwd: p.cwd }, `refused by the orchestrator: ${cwd.reason}`);
    }
    if (!(await turn.judgeCommand(line, requestId)))
      throw acp.RequestError.invalidRequest({ command: line }, 'refused by the orchestrator: the permission policy denied this command');
    return { terminalId: this.terminals.create({ ...p, cwd: cwd.path }) };
  }

  private async terminal<T>(sessionId: string, fn: () => T): Promise<T> {
    const acp = await loadAcp();
    if (!this.current(sessionId)) throw acp.RequestError.invalidRequest(undefined, `no turn is running on session ${sessionId}`);
    try {
      return fn();
    } catch (e) {
      throw acp.RequestError.invalidParams(undefined, e instanceof Error ? e.message : String(e));
    }
  }

  terminalOutput(p: { sessionId: string; terminalId: string }) {
    return this.terminal(p.sessionId, () => this.terminals.output(p.terminalId));
  }

  async waitForTerminalExit(p: { sessionId: string; terminalId: string }) {
    return this.terminal(p.sessionId, () => this.terminals.waitForExit(p.terminalId)).then((x) => x);
  }

  killTerminal(p: { sessionId: string; terminalId: string }) {
    return this.terminal(p.sessionId, () => (this.terminals.kill(p.terminalId), {}));
  }

  releaseTerminal(p: { sessionId: string; terminalId: string }) {
    return this.terminal(p.sessionId, () => (this.terminals.release(p.terminalId), {}));
  }
}
