/** Session commands: plan a goal (one line, or written in an editor), review and run the plan, cancel, retry, apply, delete. */
import * as vscode from 'vscode';
import type { SessionView } from '../../../protocol/session';
import {
  agentList,
  sessionApply,
  sessionApprove,
  sessionCancel,
  sessionDelete,
  sessionList,
  sessionRetry,
  sessionStart,
} from '../../../protocol/methodRefs';
import { readConfig, readProviders } from '../config';
import { asksForModel, sessionModelChoices } from '../sessionModels';
import type { Ctx } from '../ctx';
import { activeReviewSession, reviewRefOf } from '../review/reviewProvider';
import type { GoalEditors } from './goalEditor';
import { openReview, type PlanReviews } from './planReview';
import { editorLines, goalFromDocument, unflattenTaskList } from './goalText';
import { workspaceRoot } from './workspace';
import { applyConflictFiles } from '../views/activity';

export interface StartSessionArgs {
  goal?: string;
  cwd?: string;
  /** Skip the review prompt (tests, automation). */
  approve?: boolean;
  planner?: 'template' | 'llm';
  /** `provider/model` for this session's agent turns; interactively Start Session asks when there is a choice. */
  model?: string;
}

/** What the session commands need besides the context: goal documents, and the tree to drop deleted sessions from. */
export interface SessionCommandDeps {
  goals: GoalEditors;
  plans: PlanReviews;
  removeSession(sessionId: string): void;
}

const idOf = (item?: { id?: string; sessionId?: string } | string) => (typeof item === 'string' ? item : (item?.sessionId ?? item?.id));
/** Set when a tree command is called by automation (tests): `{ confirmed: true }` skips the modal question. */
const confirmedBy = (opts: unknown) =>
  !!opts && typeof opts === 'object' && !Array.isArray(opts) && (opts as { confirmed?: unknown }).confirmed === true;

const noFolder = () =>
  void vscode.window.showErrorMessage(vscode.l10n.t('Open a folder (a git repository) first: sessions run on a workspace folder.'));

/** Ask for a one-line goal; the pencil button (or `undefined` → editor) switches to writing it in an editor. */
function askGoal(): Promise<string | 'editor' | undefined> {
  return new Promise((resolve) => {
    const box = vscode.window.createInputBox();
    box.title = vscode.l10n.t('Start Session');
    box.prompt =
      'State the goal; you review the plan before anything runs. For several lines or a task list (- [id] Title: prompt), press the pencil to write it in an editor.';
    box.placeholder = vscode.l10n.t('e.g. add a --verbose flag with tests and docs');
    box.ignoreFocusOut = true;
    const editorButton: vscode.QuickInputButton = {
      iconPath: new vscode.ThemeIcon('edit'),
      tooltip: vscode.l10n.t('Write the goal in an editor (multi-line, task lists)'),
    };
    box.buttons = [editorButton];
    let answer: string | 'editor' | undefined;
    box.onDidTriggerButton(() => {
      answer = 'editor';
      box.hide();
    });
    box.onDidAccept(() => {
      answer = box.value;
      box.hide();
    });
    box.onDidHide(() => {
      box.dispose();
      resolve(answer);
    });
    box.show();
  });
}

/**
 * Plan the goal, show the plan, run it when the user says so, or open it for review and editing (the
 * session stays a draft until "Approve Plan"). Errors go to the caller.
 */
async function planAndRun(ctx: Ctx, deps: SessionCommandDeps, goal: string, cwd: string, args?: StartSessionArgs): Promise<SessionView> {
  const setting = readConfig().planner;
  const draft = await ctx.request(sessionStart, {
    goal,
    cwd,
    planner: args?.planner ?? (setting === 'auto' ? undefined : setting),
    model: args?.model,
  });
  let run = args?.approve === true;
  if (args?.approve === undefined) {
    const detail = draft.tasks
      .map(
        (t) =>
          `• [${t.planId}] ${t.title}${t.dependsOn.length ? ` (after ${t.dependsOn.map((d) => d.slice(d.lastIndexOf(':') + 1)).join(', ')})` : ''}`,
      )
      .join('\n');
    const [runPlan, reviewAndEdit] = [vscode.l10n.t('Run Plan'), vscode.l10n.t('Review and Edit…')];
    const answer = await vscode.window.showInformationMessage(
      draft.planner === 'llm'
        ? vscode.l10n.t('Plan (made by the model): {0} task(s). Run it?', draft.tasks.length)
        : vscode.l10n.t('Plan (template planner): {0} task(s). Run it?', draft.tasks.length),
      { modal: true, detail },
      runPlan,
      reviewAndEdit,
    );
    if (answer === reviewAndEdit) {
      await deps.plans.open(draft);
      return draft;
    }
    run = answer === runPlan;
  }
  if (!run) return draft;
  return ctx.request(sessionApprove, { sessionId: draft.id });
}

/**
 * The model for this session: a quick pick of the configured models and the demo model, the default first.
 * `null` when the user cancels; `undefined` when nothing is asked (one choice, or automation's arguments).
 */
async function pickModel(ctx: Ctx, args: StartSessionArgs | undefined): Promise<string | undefined | null> {
  if (args?.model !== undefined) return args.model;
  const serverDefault = await ctx
    .request(agentList, {})
    .then((agents) => agents.find((a) => a.id === 'opencode')?.model)
    .catch(() => undefined);
  const choices = sessionModelChoices(readProviders(), serverDefault ?? readConfig().agents.model);
  if (!asksForModel(choices, args)) return undefined;
  const pick = await vscode.window.showQuickPick(
    choices.map((c) => ({ label: c.label, description: c.description, id: c.id })),
    {
      title: vscode.l10n.t('Start Session: model'),
      placeHolder: vscode.l10n.t('Which model should this session use?'),
      ignoreFocusOut: true,
    },
  );
  return pick ? pick.id : null;
}

export const startSession =
  (ctx: Ctx, deps: SessionCommandDeps) =>
  async (args?: StartSessionArgs): Promise<SessionView | undefined> => {
    const cwd = args?.cwd ?? workspaceRoot();
    if (!cwd) return noFolder();
    let goal = args?.goal;
    if (goal === undefined) {
      const answer = await askGoal();
      if (answer === 'editor') {
        await startSessionFromEditor(deps)();
        return undefined;
      }
      goal = answer === undefined ? undefined : unflattenTaskList(answer);
    }
    if (!goal?.trim()) return undefined;
    try {
      const model = await pickModel(ctx, args);
      if (model === null) return undefined;
      return await planAndRun(ctx, deps, goal, cwd, { ...args, model });
    } catch (e) {
      void vscode.window.showErrorMessage(vscode.l10n.t('Could not start the session: {0}', (e as Error).message));
      return undefined;
    }
  };

/** Opens a goal document, seeded with the active editor's selection (or `args.text`). */
export const startSessionFromEditor =
  (deps: SessionCommandDeps) =>
  async (args?: { text?: string }): Promise<string | undefined> => {
    const active = vscode.window.activeTextEditor;
    const selection =
      active && !deps.goals.isGoal(active.document) && !active.selection.isEmpty ? active.document.getText(active.selection) : '';
    const editor = await deps.goals.open(args?.text ?? selection);
    return editor.document.uri.toString();
  };

/**
 * Plans the goal written in the active goal document. On success the document closes (nothing to
 * save); when the plan is refused it stays open and the error names the editor's line.
 */
export const submitSessionGoal =
  (ctx: Ctx, deps: SessionCommandDeps) =>
  async (args?: StartSessionArgs): Promise<SessionView | undefined> => {
    const doc = vscode.window.activeTextEditor?.document;
    if (!doc || !deps.goals.isGoal(doc)) {
      void vscode.window.showWarningMessage(vscode.l10n.t('Open a goal editor first (Orchestrator: Start Session from Editor…).'));
      return undefined;
    }
    const cwd = args?.cwd ?? workspaceRoot();
    if (!cwd) return noFolder();
    const { goal, offset } = goalFromDocument(doc.getText());
    if (!goal) {
      void vscode.window.showWarningMessage(vscode.l10n.t('Write the goal below the comment first.'));
      return undefined;
    }
    try {
      const session = await planAndRun(ctx, deps, goal, cwd, args);
      if (vscode.window.activeTextEditor?.document === doc)
        await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
      void vscode.commands.executeCommand('orchestrator.sessions.focus');
      return session;
    } catch (e) {
      void vscode.window.showErrorMessage(vscode.l10n.t('Could not start the session: {0}', editorLines((e as Error).message, offset)));
      return undefined;
    }
  };

/** `opts.maxParallel` (automation): at most that many of the session's tasks run at once. */
export const approveSession = (ctx: Ctx) => async (item?: { sessionId?: string } | string, opts?: unknown) => {
  const sessionId = idOf(item);
  const maxParallel = (opts as { maxParallel?: unknown } | undefined)?.maxParallel;
  const budget = typeof maxParallel === 'number' && !Array.isArray(opts) ? { budget: { maxParallel } } : {};
  return sessionId ? ctx.request(sessionApprove, { sessionId, ...budget }) : undefined;
};

/** Pick a draft session (palette): the only one, or from a list. */
async function pickDraft(ctx: Ctx): Promise<string | undefined> {
  const drafts = (await ctx.request(sessionList, {})).filter((s) => s.state === 'draft');
  if (drafts.length <= 1) {
    if (!drafts.length)
      void vscode.window.showInformationMessage(vscode.l10n.t('No draft session to review: Start Session plans a goal into one.'));
    return drafts[0]?.id;
  }
  const items = drafts.map((s) => ({
    label: s.goal.split('\n').find((l) => l.trim()) ?? s.goal,
    description: `${s.tasks.length} task(s)`,
    detail: s.id,
    id: s.id,
  }));
  return (
    await vscode.window.showQuickPick(items, {
      title: vscode.l10n.t('Review and Edit Plan'),
      placeHolder: vscode.l10n.t('Which draft session?'),
    })
  )?.id;
}

/** Opens a draft session's plan as an editable document; answers the document's URI (undefined when none opened). */
export const reviewPlan =
  (ctx: Ctx, deps: SessionCommandDeps) =>
  async (item?: { sessionId?: string } | string): Promise<string | undefined> => {
    try {
      const sessionId = idOf(item) ?? (await pickDraft(ctx));
      if (!sessionId) return undefined;
      return (await openReview(ctx, deps.plans, sessionId))?.document.uri.toString();
    } catch (e) {
      void vscode.window.showErrorMessage(vscode.l10n.t('Could not open the plan: {0}', (e as Error).message));
      return undefined;
    }
  };

/**
 * Approves the plan document (`uri`, else the active editor): one `session/approve` carries the edited plan,
 * which replaces the draft's and runs. Refused plans keep the document open with every reason on its line;
 * a second approval while one is in flight is not sent.
 */
export const approvePlan =
  (deps: SessionCommandDeps) =>
  async (uri?: vscode.Uri | string): Promise<SessionView | undefined> => {
    const wanted = typeof uri === 'string' ? uri : uri?.toString();
    const doc = wanted ? vscode.workspace.textDocuments.find((d) => d.uri.toString() === wanted) : vscode.window.activeTextEditor?.document;
    if (!doc || !deps.plans.sessionOf(doc)) {
      void vscode.window.showWarningMessage(vscode.l10n.t('Open a plan for review first (Orchestrator: Review and Edit Plan…).'));
      return undefined;
    }
    try {
      return await deps.plans.approve(doc);
    } catch (e) {
      void vscode.window.showErrorMessage(vscode.l10n.t('Could not approve the plan: {0}', (e as Error).message));
      return undefined;
    }
  };

export const cancelSession = (ctx: Ctx) => async (item?: { sessionId?: string } | string) => {
  const sessionId = idOf(item);
  return sessionId ? ctx.request(sessionCancel, { sessionId }) : undefined;
};

export const retrySession =
  (ctx: Ctx) =>
  async (item?: { sessionId?: string } | string): Promise<SessionView | undefined> => {
    const sessionId = idOf(item);
    if (!sessionId) return undefined;
    try {
      return await ctx.request(sessionRetry, { sessionId });
    } catch (e) {
      void vscode.window.showErrorMessage(vscode.l10n.t('Could not retry the session: {0}', (e as Error).message));
      return undefined;
    }
  };

/** Deletes a session after asking (a running one is cancelled first); its worktrees and branches leave the repository. */
export const deleteSession =
  (ctx: Ctx, deps: SessionCommandDeps) => async (item?: { sessionId?: string; session?: SessionView } | string, opts?: unknown) => {
    const sessionId = idOf(item);
    if (!sessionId) return undefined;
    if (!confirmedBy(opts)) {
      const live = typeof item === 'object' && item.session && ['running', 'paused', 'awaiting_approval'].includes(item.session.state);
      const detail = `${live ? 'It is still running: it is cancelled first. ' : ''}Its worktrees and its orchestrator/${sessionId}/* branches are removed from your repository; changes you already applied stay. Transcripts are kept.`;
      if (
        (await vscode.window.showWarningMessage(
          vscode.l10n.t('Delete this session?'),
          { modal: true, detail },
          vscode.l10n.t('Delete'),
        )) !== vscode.l10n.t('Delete')
      )
        return undefined;
    }
    try {
      const r = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Deleting the session…') },
        () => ctx.request(sessionDelete, { sessionId }),
      );
      deps.removeSession(sessionId);
      return r;
    } catch (e) {
      void vscode.window.showErrorMessage(vscode.l10n.t('Could not delete the session: {0}', (e as Error).message));
      return undefined;
    }
  };

/**
 * Applies a session: from its tree row, a session id, or the editor title of its review (the review
 * document's URI, or the active review tab for the multi-file changes editor). A refusal names the files.
 */
export const applySession = (ctx: Ctx) => async (item?: { sessionId?: string } | string | vscode.Uri) => {
  const sessionId =
    item instanceof vscode.Uri ? (reviewRefOf(item)?.sessionId ?? activeReviewSession()) : (idOf(item) ?? activeReviewSession());
  if (!sessionId) return undefined;
  try {
    const r = await ctx.request(sessionApply, { sessionId });
    ctx.waits.applyCleared(sessionId);
    void vscode.window.showInformationMessage(vscode.l10n.t('Applied {0} file(s) to your working tree.', r.applied.length));
    if (r.warning) void vscode.window.showWarningMessage(r.warning);
    return r;
  } catch (e) {
    ctx.log.warn(`Could not apply session ${sessionId}: ${(e as Error).message}`);
    // Refused over the user's uncommitted edits: it waits on the user (badge) until applied or deleted.
    if (applyConflictFiles(e)) ctx.waits.applyRefused(sessionId);
    void vscode.window.showErrorMessage(vscode.l10n.t('Could not apply the session: {0}', (e as Error).message));
    return undefined;
  }
};
