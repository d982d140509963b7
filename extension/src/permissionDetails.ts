/**
 * The "Details…" documents of open permission asks (pure: no `vscode`). A document's text is kept only while
 * it is useful: it goes when its ask is answered or times out, or when its document is closed, so a long
 * session does not pile up every ask it ever showed.
 */

/** What one ask needs from the UI: the question (resolves to the picked choice) and opening a document. */
export interface AskUi<P> {
  /** Shows the question; the answer, or undefined when dismissed. */
  pick(): PromiseLike<P | undefined>;
  /** Opens the details document at `path` (its text is then served by `content`). */
  open(path: string): PromiseLike<void>;
}

export class PermissionDetailsDocs {
  private readonly docs = new Map<string, string>();
  private count = 0;

  /** The text of an open ask's details document; a closed or answered ask says so. */
  content(path: string): string {
    return this.docs.get(path) ?? 'This permission ask is no longer open.';
  }

  /** How many details documents are kept (for tests). */
  get size(): number {
    return this.docs.size;
  }

  /** The document at `path` was closed: forget its text (a later "Details…" of the same ask shows it again). */
  closed(path: string): void {
    this.docs.delete(path);
  }

  /**
   * Asks until the user picks something other than `details` (each "Details…" opens the document and asks
   * again) or `late` resolves (undefined: no answer in time). The ask's document text is dropped either way.
   */
  async ask<P>(name: string, details: P, detailsText: string, ui: AskUi<P>, late: Promise<undefined>): Promise<P | undefined> {
    const path = `/permission-${++this.count}-${name}.md`;
    try {
      for (;;) {
        const pick = await Promise.race([ui.pick(), late]);
        if (pick !== details) return pick;
        this.docs.set(path, detailsText);
        await Promise.race([ui.open(path), late]);
      }
    } finally {
      this.docs.delete(path);
    }
  }
}
