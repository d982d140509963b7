/**
 * After a cancelled turn OpenCode answers the abort at once (status idle) while the aborted loop is still
 * winding down: it completes the aborted assistant message and publishes one more `session.idle` a moment
 * later. A prompt sent into the session before that happens sees that late idle as its own and ends empty
 * ("cancelled" without anyone cancelling it; seen in CI under load). So the next turn of the task first
 * waits, with a deadline, until no assistant message of the session is still open.
 */
import type { MessageWithParts } from './normalize';

/** Assistant messages not yet completed: the loop that writes them is still running. */
export function openAssistantMessages(all: MessageWithParts[]): string[] {
  return all.filter((m) => m.info.role === 'assistant' && !m.info.time.completed).map((m) => m.info.id);
}

export interface DrainOptions {
  messages: () => Promise<MessageWithParts[]>;
  deadlineMs: number;
  pollMs?: number;
  debug?: (line: string) => void;
}

/** Resolves once no assistant message is open, or at the deadline (logged); never rejects. */
export async function waitForLoopEnd(o: DrainOptions): Promise<void> {
  const until = Date.now() + o.deadlineMs;
  for (;;) {
    let open: string[];
    try {
      open = openAssistantMessages(await o.messages());
    } catch (e) {
      o.debug?.(`reading messages while waiting for the aborted loop failed: ${String(e)}`);
      return;
    }
    if (!open.length) return;
    if (Date.now() >= until) {
      o.debug?.(`the aborted loop still had ${open.join(', ')} open after ${o.deadlineMs} ms: going on`);
      return;
    }
    await new Promise((r) => setTimeout(r, o.pollMs ?? 50));
  }
}
