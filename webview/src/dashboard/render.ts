/** Pure rendering of the dashboard status card (HTML string), so it is testable without a browser. */
import type { DashboardStatusMessage } from '../../../protocol/webview/dashboard';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

export function formatUptime(ms: number): string {
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}h ${m}m ${s % 60}s` : m ? `${m}m ${s % 60}s` : `${s % 60}s`;
}

export function healthLabel(msg: DashboardStatusMessage | undefined): string {
  if (!msg) return 'connecting';
  if (msg.clientState === 'stopped') return 'stopped';
  if (msg.clientState === 'starting' || !msg.status) return 'starting';
  return msg.status.health;
}

export function renderStatus(msg: DashboardStatusMessage | undefined, nowMs: number, detailsOpen: boolean): string {
  const health = healthLabel(msg);
  const s = msg?.status;
  const rows: [string, string][] = s
    ? [
        ['Version', s.version],
        ['Process', `pid ${s.pid}, node ${s.node}`],
        ['Uptime', formatUptime(Math.max(0, nowMs - Date.parse(s.startedAt)))],
        ['Data folder', s.dataDir],
        ['Store', `${s.store.path} (schema ${s.store.schemaVersion}, ${s.store.state})`],
        ...(s.store.backupPath ? ([['Backup', s.store.backupPath]] as [string, string][]) : []),
      ]
    : [];
  const message = msg?.stoppedReason ?? s?.message ?? 'Waiting for the orchestrator server…';
  return `
<section class="card status">
  <div class="status-line">
    <h1>Orchestrator <vscode-badge id="health" data-health="${escapeHtml(health)}">${escapeHtml(health)}</vscode-badge></h1>
    <span id="message">${escapeHtml(message)}</span>
    <span class="actions">
      <vscode-button id="restart" secondary>Restart Server</vscode-button>
      <vscode-button id="logs" secondary>Show Logs</vscode-button>
    </span>
  </div>
  <vscode-collapsible id="details" title="Server details" ${detailsOpen ? 'open' : ''}>
    <table>${rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td${k === 'Uptime' ? ' id="uptime"' : ''}>${escapeHtml(v)}</td></tr>`).join('')}</table>
  </vscode-collapsible>
</section>`;
}
