/**
 * Reviewing and editing a draft session's plan in an editor: an untitled JSON-with-comments document
 * (`planText.ts`) checked as the user types (debounced: syntax here, everything else by the server's
 * `session/plan` dry run, so the rules live in one place) with every reason as a diagnostic on its line.
 * "Approve Plan" (editor title, CodeLens) sends one `session/approve` carrying the edited plan (applied and
 * started atomically; a double click sends it once); a refusal leaves the document open with its reasons and
 * the server unchanged; success closes it without a save prompt.
 */
import * as vscode from 'vscode';
import type { SessionView } from '../../../protocol/session';
import { sessionApprove, sessionGet, sessionPlan } from '../../../protocol/methodRefs';
import type { Ctx } from '../ctx';
import { commandIds } from './ids';
import { InFlight } from './inFlight';
import { placeIssues, planIssuesOf, planOfSession, planToText, readPlanText, type PlanDocumentInput, type TextProblem } from './planText';

/** Context key that shows "Approve Plan" in the editor title of a plan document. */
export const planEditorContextKey = 'orchestrator.planEditor';
const source = 'orchestrator plan';
const debounceMs = 400;

interface Review {
  sessionId: string;
  /** The text as opened: an unchanged plan is approved without replacing it. */
  original: string;
  timer?: ReturnType<typeof setTimeout>;
  /** Bumped on every check; a late answer for an older text is dropped. */
  seq: number;
}

/** What a check or an approval found: nothing (ok), or the reasons now shown on the document. */
export type PlanCheck = { ok: true; plan: PlanDocumentInput } | { ok: false; problems: TextProblem[] };

export class PlanReviews implements vscode.Disposable, vscode.CodeLensProvider {
  private readonly reviews = new Map<string, Review>();
  /** Sessions whose approval is in flight (a double click on Approve Plan sends one request). */
  private readonly approving = new InFlight();
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('orchestrator-plan');
  private readonly subs: vscode.Disposable[];
  private readonly lensChange = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.lensChange.event;

  constructor(private readonly ctx: Ctx) {
    this.subs = [
      this.diagnostics,
      this.lensChange,
      vscode.window.onDidChangeActiveTextEditor((e) => this.updateContext(e)),
      vscode.workspace.onDidChangeTextDocument((e) => this.scheduleCheck(e.document)),
      vscode.workspace.onDidCloseTextDocument((d) => this.forget(d.uri)),
      vscode.languages.registerCodeLensProvider({ scheme: 'untitled' }, this),
    ];
  }

  /** Opens the plan of a draft session for review; an open review of the same session is shown again. */
  async open(session: SessionView): Promise<vscode.TextEditor> {
    const existing = vscode.workspace.textDocuments.find((d) => this.reviews.get(d.uri.toString())?.sessionId === session.id);
    if (existing) return vscode.window.showTextDocument(existing, { preview: false });
    const content = planToText(session, planOfSession(session));
    const doc = await vscode.workspace.openTextDocument({ language: 'jsonc', content });
    this.reviews.set(doc.uri.toString(), { sessionId: session.id, original: content, seq: 0 });
    const editor = await vscode.window.showTextDocument(doc, { preview: false });
    this.updateContext(editor);
    this.lensChange.fire();
    return editor;
  }

  sessionOf(doc: vscode.TextDocument | undefined): string | undefined {
    return doc ? this.reviews.get(doc.uri.toString())?.sessionId : undefined;
  }

  /** Check the document now (syntax, then the server's dry run) and show what it found. */
  async check(doc: vscode.TextDocument): Promise<PlanCheck> {
    const review = this.reviews.get(doc.uri.toString());
    if (!review) return { ok: false, problems: [] };
    clearTimeout(review.timer);
    const seq = ++review.seq;
    const text = doc.getText();
    const result = await this.judge(review.sessionId, text);
    if (review.seq === seq && this.reviews.get(doc.uri.toString()) === review) this.show(doc, result);
    return result;
  }

  /**
   * Approve the plan in the document in one request: `session/approve` carries the edited plan (none when
   * unchanged) and the server replaces and starts it atomically. A refusal shows its reasons on the document
   * and changes nothing; success closes the document. A second approval of the same session while one is in
   * flight (a double click) is not sent.
   */
  async approve(doc: vscode.TextDocument): Promise<SessionView | undefined> {
    const review = this.reviews.get(doc.uri.toString());
    if (!review) return undefined;
    const r = await this.approving.run(review.sessionId, () => this.approveNow(doc, review));
    if (r.busy) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Already approving the plan of session {0}.', review.sessionId));
      return undefined;
    }
    return r.value;
  }

  private async approveNow(doc: vscode.TextDocument, review: Review): Promise<SessionView | undefined> {
    clearTimeout(review.timer);
    review.seq++;
    const text = doc.getText();
    let plan: PlanDocumentInput | undefined;
    if (text !== review.original) {
      const read = readPlanText(text);
      if (!read.ok) return this.refused(doc, read);
      plan = read.value as PlanDocumentInput;
    }
    let session: SessionView;
    try {
      session = await this.ctx.request(sessionApprove, { sessionId: review.sessionId, ...(plan ? { plan } : {}) });
    } catch (e) {
      const issues = planIssuesOf(e);
      if (issues) return this.refused(doc, { ok: false, problems: placeIssues(text, issues) });
      throw e;
    }
    this.diagnostics.delete(doc.uri);
    this.forget(doc.uri);
    await vscode.window.showTextDocument(doc, { preview: false });
    if (vscode.window.activeTextEditor?.document === doc)
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    return session;
  }

  private refused(doc: vscode.TextDocument, result: { ok: false; problems: TextProblem[] }): undefined {
    this.show(doc, result);
    const n = result.problems.length;
    void vscode.window.showErrorMessage(
      vscode.l10n.t('The plan was not approved: {0} problem(s), shown in the editor and the Problems panel.', n),
    );
    return undefined;
  }

  /** Syntax first; then the server judges the plan (`session/plan` dry run, nothing changes). Only a plan refusal becomes problems. */
  private async judge(sessionId: string, text: string): Promise<PlanCheck> {
    const read = readPlanText(text);
    if (!read.ok) return read;
    try {
      await this.ctx.request(sessionPlan, { sessionId, plan: read.value as PlanDocumentInput, dryRun: true });
      return { ok: true, plan: read.value as PlanDocumentInput };
    } catch (e) {
      const issues = planIssuesOf(e);
      if (issues) return { ok: false, problems: placeIssues(text, issues) };
      // Not about the plan (no longer a draft, server down): one problem at the top says so.
      return { ok: false, problems: [{ start: 0, end: 0, message: (e as Error).message }] };
    }
  }

  private show(doc: vscode.TextDocument, result: PlanCheck): void {
    const problems = result.ok ? [] : result.problems;
    this.diagnostics.set(
      doc.uri,
      problems.map((p) => {
        const range = new vscode.Range(doc.positionAt(p.start), doc.positionAt(Math.max(p.end, p.start)));
        const d = new vscode.Diagnostic(range, p.message, vscode.DiagnosticSeverity.Error);
        d.source = source;
        return d;
      }),
    );
    this.lensChange.fire();
  }

  private scheduleCheck(doc: vscode.TextDocument): void {
    const review = this.reviews.get(doc.uri.toString());
    if (!review) return;
    clearTimeout(review.timer);
    review.timer = setTimeout(() => void this.check(doc).catch(() => undefined), debounceMs);
  }

  private forget(uri: vscode.Uri): void {
    const review = this.reviews.get(uri.toString());
    if (!review) return;
    clearTimeout(review.timer);
    this.reviews.delete(uri.toString());
    this.diagnostics.delete(uri);
    this.updateContext(vscode.window.activeTextEditor);
    this.lensChange.fire();
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const sessionId = this.sessionOf(doc);
    if (!sessionId) return [];
    const top = new vscode.Range(0, 0, 0, 0);
    const n = this.diagnostics.get(doc.uri)?.length ?? 0;
    return [
      new vscode.CodeLens(top, { title: vscode.l10n.t('$(play) Approve Plan'), command: commandIds.approvePlan, arguments: [doc.uri] }),
      new vscode.CodeLens(top, {
        title: n ? vscode.l10n.t('$(error) {0} problem(s)', n) : vscode.l10n.t('$(check) no problems found'),
        command: 'workbench.actions.view.problems',
      }),
    ];
  }

  private updateContext(e: vscode.TextEditor | undefined): void {
    void vscode.commands.executeCommand('setContext', planEditorContextKey, !!this.sessionOf(e?.document));
  }

  dispose(): void {
    for (const r of this.reviews.values()) clearTimeout(r.timer);
    for (const s of this.subs) s.dispose();
  }
}

/** Fetches the session (it may have changed since the tree drew it) and opens its plan when it is a draft. */
export async function openReview(ctx: Ctx, reviews: PlanReviews, sessionId: string): Promise<vscode.TextEditor | undefined> {
  const session = await ctx.request(sessionGet, { sessionId });
  if (session.state !== 'draft') {
    void vscode.window.showWarningMessage(
      vscode.l10n.t("Only a draft's plan can be edited; this session is {0}.", session.state.replace('_', ' ')),
    );
    return undefined;
  }
  return reviews.open(session);
}
