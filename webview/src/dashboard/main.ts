/** Dashboard entry: ready handshake, renders every snapshot, persists only UI state. */
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-collapsible/index.js';
import type { UiState } from '../../../protocol/webview/host';
import type { DashboardToHost, HostToDashboard } from '../../../protocol/webview/dashboard';
import { createHostMessenger } from '../shared/hostMessenger';
import { formatUptime, healthLabel, renderStatus } from './render';

const host = createHostMessenger<DashboardToHost, HostToDashboard, UiState>();
const app = document.getElementById('app') as HTMLElement;
let ui: UiState = host.getState() ?? {};
let last: HostToDashboard | undefined;

const style = document.createElement('style');
style.textContent = `
  body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); }
  .card { max-width: 760px; }
  h1 { font-size: 1.4em; display: flex; gap: .6em; align-items: center; }
  th { text-align: left; padding-right: 1.2em; font-weight: 600; color: var(--vscode-descriptionForeground); }
  td { font-family: var(--vscode-editor-font-family); word-break: break-all; }
  .actions { margin-top: 1em; display: flex; gap: .5em; }
`;
document.head.appendChild(style);

function render(): void {
  app.innerHTML = renderStatus(last, Date.now(), ui.detailsOpen ?? true);
  document.getElementById('restart')?.addEventListener('click', () => host.post({ type: 'dashboard/command', command: 'restartServer' }));
  document.getElementById('logs')?.addEventListener('click', () => host.post({ type: 'dashboard/command', command: 'showLogs' }));
  document.getElementById('details')?.addEventListener('vsc-collapsible-toggle', (e) => {
    ui = { ...ui, detailsOpen: Boolean((e as CustomEvent<{ open: boolean }>).detail?.open) };
    host.setState(ui);
  });
}

host.onMessage((m) => {
  if (m?.type !== 'dashboard/status') return;
  last = m;
  render();
  host.post({ type: 'dashboard/didRender', health: healthLabel(m), pid: m.status?.pid ?? null });
});

render();
// Live uptime without chatter: re-render locally once a second from the last snapshot.
setInterval(() => {
  const cell = document.getElementById('uptime');
  if (cell && last?.status) cell.textContent = formatUptime(Math.max(0, Date.now() - Date.parse(last.status.startedAt)));
}, 1000);
host.post({ type: 'webview/ready', surface: 'dashboard', uiState: ui });
