/**
 * The models Start Session offers for one session: the configured providers' models plus the scripted demo model,
 * the default first. Pure: the command reads the settings and the server's default and shows the list.
 */
import { demoModel, modelChoices } from './modelProvider';

export interface SessionModelChoice {
  /** `provider/model`, sent as `session/start` `model`. */
  id: string;
  label: string;
  description: string;
  /** The default model (shown first and preselected). */
  isDefault: boolean;
}

export const demoChoiceLabel = 'demo (scripted, no network)';

/**
 * `providers`: the raw `orchestrator.opencode.providers` entries (invalid ones are left out); `defaultModel`: the
 * model sessions use when none is picked (the server's, else the setting). Absent or not listed: the first
 * configured model is the default, as on the server.
 */
export function sessionModelChoices(providers: readonly unknown[], defaultModel: string | undefined): SessionModelChoice[] {
  const all = modelChoices(providers).map((c) =>
    c.id === demoModel.id
      ? { id: c.id, label: demoChoiceLabel, description: c.id }
      : { id: c.id, label: c.label, description: c.description },
  );
  const def = all.find((c) => c.id === defaultModel) ?? all[0];
  return [def, ...all.filter((c) => c !== def)].map((c) => ({
    ...c,
    isDefault: c === def,
    description: c === def ? `${c.description} · default` : c.description,
  }));
}

/** Whether Start Session asks for a model: only interactively (no arguments) and when there is a choice. */
export function asksForModel(choices: readonly SessionModelChoice[], args: object | undefined): boolean {
  return args === undefined && choices.length > 1;
}
