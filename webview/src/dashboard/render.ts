/** Pure rendering of the dashboard status card (HTML string), so it is testable without a browser. */
import * as l10n from '@vscode/l10n';
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
  const uptime = l10n.t('Uptime');
  const rows: [string, string][] = s
    ? [
        [l10n.t('Version'), s.version],
        [l10n.t('Process'), l10n.t('pid {0}, node {1}', s.pid, s.node)],
        [uptime, formatUptime(Math.max(0, nowMs - Date.parse(s.startedAt)))],
        [l10n.t('Data folder'), s.dataDir],
        [l10n.t('Store'), l10n.t('{0} (schema {1}, {2})', s.store.path, s.store.schemaVersion, s.store.state)],
        ...(s.store.backupPath ? ([[l10n.t('Backup'), s.store.backupPath]] as [string, string][]) : []),
      ]
    : [];
  const message = msg?.stoppedReason ?? s?.message ?? l10n.t('Waiting for the orchestrator server…');
  return `
<section class="card status">
  <div class="status-line">
    <h1>Orchestrator <vscode-badge id="health" data-health="${escapeHtml(health)}">${escapeHtml(health)}</vscode-badge></h1>
    <span id="message">${escapeHtml(message)}</span>
    <span class="actions">
      <vscode-button id="restart" secondary>${escapeHtml(l10n.t('Restart Server'))}</vscode-button>
      <vscode-button id="logs" secondary>${escapeHtml(l10n.t('Show Logs'))}</vscode-button>
    </span>
  </div>
  <vscode-collapsible id="details" title="${escapeHtml(l10n.t('Server details'))}" ${detailsOpen ? 'open' : ''}>
    <table>${rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td${k === uptime ? ' id="uptime"' : ''}>${escapeHtml(v)}</td></tr>`).join('')}</table>
  </vscode-collapsible>
</section>`;
}
