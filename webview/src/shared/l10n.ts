/**
 * The webview's strings go through `@vscode/l10n`: the host puts VS Code's bundle for the display language
 * (`vscode.l10n.bundle`, absent in English) on `#app` as `data-l10n`; this loads it before the first render.
 * Without a bundle `l10n.t` answers the English text.
 */
import * as l10n from '@vscode/l10n';

export function configureL10n(app: HTMLElement): void {
  const raw = app.dataset.l10n;
  if (!raw) return;
  try {
    l10n.config({ contents: JSON.parse(raw) as Record<string, string> });
  } catch {
    // A malformed bundle leaves the English texts.
  }
}
