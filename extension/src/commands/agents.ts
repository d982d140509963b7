/**
 * Enable Agent / Disable Agent (inline on the Agents view's rows): edits `orchestrator.agents.disabled`; the settings
 * change restarts the server, whose routing then gives a disabled agent no new task (running ones finish).
 */
import * as vscode from 'vscode';
import { agentList } from '../../../protocol/methodRefs';
import { readDisabledAgents, setAgentDisabled } from '../config';
import type { Ctx } from '../ctx';

/** A tree row (its `id` is the agent id) or the agent id itself. */
type AgentRef = { id?: string } | string | undefined;

const setDisabled =
  (ctx: Ctx, disabled: boolean) =>
  async (item?: AgentRef): Promise<string[] | undefined> => {
    const agentId = typeof item === 'string' ? item : item?.id;
    if (!agentId) return undefined;
    const known = await ctx.request(agentList, {}).then(
      (agents) => agents.map((a) => a.id),
      () => undefined,
    );
    if (known && !known.includes(agentId)) {
      void vscode.window.showErrorMessage(vscode.l10n.t('No agent "{0}": the agents are {1}.', agentId, known.join(', ')));
      return undefined;
    }
    await setAgentDisabled(agentId, disabled);
    ctx.log.info(`agent ${agentId} ${disabled ? 'disabled' : 'enabled'} (orchestrator.agents.disabled)`);
    return readDisabledAgents();
  };

export const disableAgent = (ctx: Ctx) => setDisabled(ctx, true);
export const enableAgent = (ctx: Ctx) => setDisabled(ctx, false);
