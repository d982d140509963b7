/** What the LLM planner needs from an agent: one prompt in, the agent's final text out. */
export interface TextCompleter {
  complete(prompt: string): Promise<string>;
}
