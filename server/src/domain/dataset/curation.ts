/**
 * A person's choices over the candidates (the curation webview), applied before the pipeline: excluded
 * runs become candidates dropped at `curator`; edits replace the content of one message of the example
 * built from a run. Edited text then passes validation and redaction like any other, so an edit cannot
 * bring a secret into an export. Bad edits (a run that is not a candidate, a message it does not have,
 * an edit of a run that is also excluded, two edits of one message) throw `bad_input` naming the edit.
 */
import { DomainError } from '../errors';
import type { ChatMessage, Example } from './example';
import type { Candidate } from './pipeline';

export interface CurationEdit {
  runId: string;
  /** Index of the message in the example built from the run. */
  message: number;
  content: string;
}

export interface CuratorChoices {
  exclude?: readonly string[];
  edits?: readonly CurationEdit[];
}

export const excludedReason = 'excluded by the curator';

const bad = (field: string, problem: string): never => {
  throw new DomainError('bad_input', `${field}: ${problem}`, { field });
};

/** Candidates with the choices applied, and which messages of each source were edited. */
export function applyCuratorChoices(
  candidates: readonly Candidate[],
  choices: CuratorChoices,
): { candidates: Candidate[]; edited: Map<string, number[]> } {
  const bySource = new Map(candidates.map((c) => [c.source, c]));
  const excluded = new Set<string>();
  (choices.exclude ?? []).forEach((id, i) => {
    if (!bySource.has(id)) bad(`curation.exclude[${i}]`, `run ${JSON.stringify(id)} is not a candidate of this filter`);
    excluded.add(id);
  });
  const edited = new Map<string, number[]>();
  const rows = new Map<string, Example>();
  (choices.edits ?? []).forEach((edit, i) => {
    const field = `curation.edits[${i}]`;
    const c = bySource.get(edit.runId);
    if (!c) return bad(`${field}.runId`, `run ${JSON.stringify(edit.runId)} is not a candidate of this filter`);
    if (excluded.has(edit.runId)) return bad(`${field}.runId`, `run ${JSON.stringify(edit.runId)} is excluded; include it to edit it`);
    if (c.dropped || !c.row)
      return bad(`${field}.runId`, `run ${JSON.stringify(edit.runId)} has no example (${c.dropped?.reason ?? 'none'})`);
    const row = rows.get(edit.runId) ?? (structuredClone(c.row) as Example);
    const m: ChatMessage | undefined = row.messages[edit.message];
    if (!m)
      return bad(
        `${field}.message`,
        `run ${JSON.stringify(edit.runId)} has ${row.messages.length} messages (0–${row.messages.length - 1})`,
      );
    const seen = edited.get(edit.runId) ?? [];
    if (seen.includes(edit.message)) return bad(`${field}.message`, `message ${edit.message} of ${edit.runId} is edited twice`);
    m.content = edit.content;
    rows.set(edit.runId, row);
    edited.set(
      edit.runId,
      [...seen, edit.message].sort((a, b) => a - b),
    );
  });
  return {
    candidates: candidates.map((c) =>
      excluded.has(c.source)
        ? { source: c.source, provenance: c.provenance, dropped: { stage: 'curator', reason: excludedReason } }
        : rows.has(c.source)
          ? { ...c, row: rows.get(c.source) }
          : c,
    ),
    edited,
  };
}
