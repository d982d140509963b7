/**
 * The read-only `orchestrator-review:` documents: one changed file on one side, as the server reads it
 * from git (`session/fileContent`). The documents are never written; nothing here touches the user's files.
 */
import * as vscode from 'vscode';
import { sessionFileContent } from '../../../protocol/methodRefs';
import type { Ctx } from '../ctx';
import { parseReviewUri, reviewScheme, reviewText, reviewUriParts, type ReviewRef } from './reviewRef';

export const reviewUri = (r: ReviewRef): vscode.Uri => vscode.Uri.from(reviewUriParts(r));
export const reviewRefOf = (u: vscode.Uri): ReviewRef | undefined => parseReviewUri(u);

export class ReviewContentProvider implements vscode.TextDocumentContentProvider {
  constructor(private readonly ctx: Ctx) {}

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const ref = parseReviewUri(uri);
    if (!ref) return `(not a review document: ${uri.toString()})`;
    try {
      return reviewText(await this.ctx.request(sessionFileContent, ref));
    } catch (e) {
      this.ctx.log.warn(`review of ${ref.path} (${ref.side}) could not be read: ${(e as Error).message}`);
      return `(could not read ${ref.path} on the ${ref.side} side: ${(e as Error).message})`;
    }
  }
}

/** The review URIs an editor tab shows (a text, diff or multi-file changes tab); empty for any other tab. */
export function reviewUrisOfTab(tab: vscode.Tab | undefined): vscode.Uri[] {
  const input = tab?.input;
  const diffs: { original?: vscode.Uri; modified?: vscode.Uri }[] =
    input instanceof vscode.TabInputTextDiff
      ? [input]
      : ((input as { textDiffs?: { original?: vscode.Uri; modified?: vscode.Uri }[] } | undefined)?.textDiffs ?? []);
  const uris = [
    ...(input instanceof vscode.TabInputText ? [input.uri] : []),
    ...diffs.flatMap((d) => [d.original, d.modified]).filter((u): u is vscode.Uri => !!u),
  ];
  return uris.filter((u) => u.scheme === reviewScheme);
}

/** The session of the review in the active editor tab, if it shows one. */
export function activeReviewSession(): string | undefined {
  const uri = reviewUrisOfTab(vscode.window.tabGroups.activeTabGroup.activeTab)[0];
  return uri ? parseReviewUri(uri)?.sessionId : undefined;
}

/**
 * Registers the provider and keeps the `orchestrator.reviewActive` context key (the active tab shows a
 * review), so the editor title offers Apply Session also on the multi-file changes editor, whose own
 * resource is not an `orchestrator-review:` URI.
 */
export function registerReviewDocuments(ctx: Ctx): vscode.Disposable[] {
  const update = () => void vscode.commands.executeCommand('setContext', 'orchestrator.reviewActive', !!activeReviewSession());
  return [
    vscode.workspace.registerTextDocumentContentProvider(reviewScheme, new ReviewContentProvider(ctx)),
    vscode.window.tabGroups.onDidChangeTabs(update),
    vscode.window.tabGroups.onDidChangeTabGroups(update),
  ];
}
