/**
 * Shared webview plumbing: CSP with a nonce, local resource roots limited to the built bundles,
 * untrusted-message parsing with the surface's zod schema.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { z } from 'zod';
import { schemas, type Schemas } from '../schemas';

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  return {
    enableScripts: true,
    retainContextWhenHidden: false,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

export function webviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, surface: string, title: string): string {
  const nonce = randomBytes(16).toString('base64');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', `${surface}.js`));
  const csp = [
    "default-src 'none'",
    `style-src ${webview.cspSource} 'unsafe-inline'`,
    `font-src ${webview.cspSource}`,
    `img-src ${webview.cspSource} data:`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  const attr = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  // VS Code's bundle for the display language (absent in English): the webview's `@vscode/l10n` loads it.
  const bundle = vscode.l10n.bundle ? ` data-l10n="${attr(JSON.stringify(vscode.l10n.bundle))}"` : '';
  return `<!DOCTYPE html>
<html lang="${attr(vscode.env.language)}"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${attr(title)}</title></head>
<body><main id="app" data-surface="${surface}"${bundle}><p>${attr(vscode.l10n.t('Loading {0}…', title))}</p></main>
<script type="module" nonce="${nonce}" src="${script}"></script></body></html>`;
}

/**
 * Parse a message from a webview with the surface's schema (picked from `schemas()`, loaded on the first message);
 * invalid ones are logged with the field names and dropped.
 */
export function parseWebviewMessage<T>(schema: (s: Schemas) => z.ZodType<T>, raw: unknown, log: vscode.LogOutputChannel): T | undefined {
  const r = schema(schemas()).safeParse(raw);
  if (r.success) return r.data;
  log.warn(`dropped an invalid webview message: ${r.error.issues.map((i) => `${i.path.join('.') || 'message'}: ${i.message}`).join('; ')}`);
  return undefined;
}
