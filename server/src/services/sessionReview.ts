/**
 * Reviewing what a session (or one of its tasks) changed: the list of changed files and each file's
 * content on both sides, read from git objects only. The two sides of a session are its base commit and
 * its integration branch (the applied commit once applied); of a task, the commit its attempt started
 * from (`baseSha`) and its branch. A content request names a file of exactly that diff, else nothing is read.
 */
import type { DiffFile, FileContentView } from '../../../protocol/session';
import { DomainError } from '../domain/errors';
import { sessionTask } from '../domain/orchestration/taskControl';
import type { WorkspacePort } from '../ports/workspace';
import { taskBranchOf } from './sessionLayout';
import type { SessionRecords } from './sessionRecords';

export interface SessionReviewDeps {
  records: SessionRecords;
  workspace: WorkspacePort;
}

/** Larger files are `omitted` (`tooLarge`): a diff editor is no place for them. */
export const maxReviewBytes = 5 * 1024 * 1024;

/** git's own rule: a NUL byte in the first 8000 bytes makes a file binary. */
export function looksBinary(data: Uint8Array): boolean {
  return data.subarray(0, 8000).includes(0);
}

/** The two commits a diff compares; `none`: nothing to compare yet; `gone`: an applied session whose commit git collected (its file list only). */
type Sides = { base: string; result: string } | { none: true } | { gone: DiffFile[] };

export class SessionReview {
  constructor(private readonly d: SessionReviewDeps) {}

  async diff(sessionId: string, taskId?: string): Promise<{ files: DiffFile[]; patch: string }> {
    const { repo, sides } = await this.sides(sessionId, taskId);
    if ('none' in sides) return { files: [], patch: '' };
    if ('gone' in sides) return { files: sides.gone, patch: '' };
    return {
      files: await this.d.workspace.changedFiles(repo, sides.base, sides.result),
      patch: await this.d.workspace.diff(repo, sides.base, sides.result),
    };
  }

  async fileContent(p: { sessionId: string; taskId?: string; path: string; side: 'base' | 'result' }): Promise<FileContentView> {
    const { repo, sides } = await this.sides(p.sessionId, p.taskId);
    const files = 'base' in sides ? await this.d.workspace.changedFiles(repo, sides.base, sides.result) : [];
    const of = p.taskId ? `task ${JSON.stringify(p.taskId)}` : `session ${p.sessionId}`;
    if (!files.some((f) => f.path === p.path))
      throw new DomainError(
        'bad_input',
        `path: ${JSON.stringify(p.path)} is not one of the files ${of} changed (${files.length ? files.map((f) => f.path).join(', ') : 'none'}); nothing was read`,
        { field: 'path' },
      );
    if (!('base' in sides)) throw new Error('unreachable: a diff with files has both sides');
    const read = await this.d.workspace.readBlob(repo, p.side === 'base' ? sides.base : sides.result, p.path, maxReviewBytes);
    switch (read.kind) {
      case 'absent':
        return { content: null };
      case 'notAFile':
        return { content: null, omitted: { reason: 'notAFile', bytes: 0 } };
      case 'tooLarge':
        return { content: null, omitted: { reason: 'tooLarge', bytes: read.bytes } };
      case 'blob':
        return looksBinary(read.data)
          ? { content: null, omitted: { reason: 'binary', bytes: read.data.length } }
          : { content: new TextDecoder().decode(read.data) };
    }
  }

  private async sides(sessionId: string, taskId?: string): Promise<{ repo: string; sides: Sides }> {
    const s = this.d.records.session(sessionId);
    const repo = s.cwd;
    if (taskId !== undefined) {
      const t = sessionTask(sessionId, this.d.records.tasksOf(sessionId), taskId);
      if (!t.baseSha) return { repo, sides: { none: true } };
      const branch = t.branch ?? taskBranchOf(sessionId, t.planId);
      const head = await this.d.workspace.resolveRef(repo, branch);
      if (!head)
        throw new DomainError(
          'conflict',
          `taskId: the branch ${branch} of task ${t.planId} is gone${s.applied ? ' (the session was applied, which removes its branches)' : ''}; review the whole session instead`,
          { field: 'taskId' },
        );
      return { repo, sides: { base: t.baseSha, result: head } };
    }
    if (!s.integrationBranch || !s.baseCommit) return { repo, sides: { none: true } };
    // Once applied, the branch is gone; the applied commit still shows the diff until git collects it.
    const result = s.applied ? (s.applied.commit ?? null) : await this.d.workspace.resolveRef(repo, s.integrationBranch);
    if (result && (await this.d.workspace.resolveRef(repo, result))) return { repo, sides: { base: s.baseCommit, result } };
    if (s.applied) return { repo, sides: { gone: s.applied.files.map((path) => ({ path, status: 'other' })) } };
    throw new DomainError(
      'conflict',
      `sessionId: the branch ${s.integrationBranch} of session ${sessionId} is gone; there is nothing to review`,
      {
        field: 'sessionId',
      },
    );
  }
}
