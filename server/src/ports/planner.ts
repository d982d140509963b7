import type { UsageTotals } from '../domain/agentEvent';

/** What the planning agent answered: its final text, and what the turn cost (counted in the session's usage and budget). */
export interface CompletedText {
  text: string;
  usage?: UsageTotals;
}

/** What the LLM planner needs from an agent: one prompt in, the agent's final text (and its usage) out. */
export interface TextCompleter {
  /**
   * `sessionId`: the session the planning turn belongs to (its record and transcript are filed under it);
   * `model`: the session's model (absent: the default model).
   */
  complete(prompt: string, opts?: { sessionId?: string; model?: string }): Promise<CompletedText>;
}
