/**
 * Honest outcomes (issue 9): a turn or a session task that "succeeded" without doing what it was asked is
 * flagged, never shown as a plain success. Pure.
 */
import type { DeniedPermission } from '../../../protocol/run';

/** Permissions that change files. */
const writePermissions = new Set(['edit', 'write', 'patch', 'multiedit']);

export function isWritePermission(permission: string): boolean {
  return writePermissions.has(permission.toLowerCase());
}

/**
 * Warnings for a finished turn: every write denied (nothing changed), requests denied with nothing changed,
 * or some requests denied while other work went through. Only succeeded turns get them (a failure says why).
 */
export function turnWarnings(x: { state: string; changedFiles: number; denied: readonly DeniedPermission[] }): string[] {
  if (x.state !== 'succeeded' || !x.denied.length) return [];
  const writes = x.denied.filter((d) => isWritePermission(d.permission));
  const list = (ds: readonly DeniedPermission[]) =>
    ds
      .slice(0, 3)
      .map((d) => `${d.permission} ${d.patterns.join(' ')}`.trim())
      .join('; ') + (ds.length > 3 ? '; …' : '');
  if (!x.changedFiles && writes.length) return [`every write was denied (${writes.length}: ${list(writes)}); nothing changed`];
  if (!x.changedFiles) return [`${x.denied.length} permission request(s) were denied (${list(x.denied)}) and nothing changed`];
  return [`${x.denied.length} permission request(s) were denied (${list(x.denied)}); some of the work may be missing`];
}

/** Warnings for a finished session task: a writing task that changed no file, plus its turn's warnings. */
export function sessionTaskWarnings(x: { mode: string; changedFiles: readonly string[]; runWarnings?: readonly string[] }): string[] {
  const out = [...(x.runWarnings ?? [])];
  if (x.mode === 'write' && !x.changedFiles.length && !out.some((w) => w.includes('nothing changed')))
    out.push('the task changed no files');
  return out;
}
