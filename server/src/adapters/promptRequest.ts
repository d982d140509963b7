/**
 * The checks every agent adapter makes on a `PromptRequest` before it starts anything (the port's
 * `bad_input` contract): a run id, an existing absolute folder, a non-empty prompt, positive timeouts.
 * Model checks differ per adapter and stay with it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AgentError, type PromptRequest } from '../ports/agentRuntime';

export const badInput = (field: string, why: string): AgentError => new AgentError('bad_input', `${field}: ${why}`);

export function checkPromptRequest(req: PromptRequest): void {
  if (!req || typeof req !== 'object') throw badInput('request', 'must be an object');
  if (typeof req.runId !== 'string' || !req.runId.trim()) throw badInput('runId', 'must be a non-empty string');
  if (typeof req.cwd !== 'string' || !req.cwd) throw badInput('cwd', 'is required');
  if (!path.isAbsolute(req.cwd)) throw badInput('cwd', `must be an absolute path (got "${req.cwd}")`);
  let st: fs.Stats;
  try {
    st = fs.statSync(req.cwd);
  } catch {
    throw badInput('cwd', `does not exist: ${req.cwd}`);
  }
  if (!st.isDirectory()) throw badInput('cwd', `is not a directory: ${req.cwd}`);
  if (typeof req.prompt !== 'string' || !req.prompt.trim()) throw badInput('prompt', 'must be non-empty text');
  for (const [k, v] of Object.entries(req.timeouts ?? {}))
    if (typeof v !== 'number' || !(v > 0)) throw badInput(`timeouts.${k}`, 'must be a positive number of milliseconds');
}
