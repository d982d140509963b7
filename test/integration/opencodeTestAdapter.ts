/**
 * The OpenCode adapter with what the integration tests look at and poke, kept off the production class:
 * the server's pid, cutting the event stream, its reconnect count, and the tasks it holds state for.
 */
import { OpencodeAdapter } from '../../server/src/adapters/opencode/opencodeAdapter';

export class TestOpencodeAdapter extends OpencodeAdapter {
  /** Pid of the running `opencode serve`, if any. */
  get serverPid(): number | undefined {
    return this.server?.alive ? this.server.pid : undefined;
  }

  /** Cuts the SSE connection; it reconnects (not before `downMs`) and running turns resync. */
  dropEventStream(downMs = 0): void {
    this.stream?.drop(downMs);
  }

  get eventStreamReconnects(): number {
    return this.stream?.reconnects ?? 0;
  }

  /** Ids of the tasks the adapter keeps state for. */
  get heldTasks(): string[] {
    return [...this.tasks.keys()];
  }

  /** From now on, notes when `session.create` and `mcp.add` are asked and answered (the order of a turn's set-up). */
  recordSetupCalls(): string[] {
    const seen: string[] = [];
    const c = this.client!;
    for (const [name, obj, method] of [
      ['session.create', c.session, 'create'],
      ['mcp.add', c.mcp, 'add'],
    ] as const) {
      const target = obj as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
      const orig = target[method].bind(obj);
      target[method] = async (...a: unknown[]) => {
        seen.push(`${name} asked`);
        try {
          return await orig(...a);
        } finally {
          seen.push(`${name} answered`);
        }
      };
    }
    return seen;
  }

  /** Titles of OpenCode's sessions in `directory` (what a warm-up must not leave behind). */
  async sessionTitles(directory: string): Promise<string[]> {
    const r = await this.client!.session.list({ directory }, { throwOnError: true });
    return r.data.filter((x) => x.directory === directory).map((x) => x.title);
  }
}
