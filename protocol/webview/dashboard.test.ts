import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dashboardToHost } from './dashboard';

const ok = (m: unknown) => assert.equal(dashboardToHost.safeParse(m).success, true, JSON.stringify(m));
const bad = (m: unknown) => assert.equal(dashboardToHost.safeParse(m).success, false, JSON.stringify(m));

test('server, session and task commands each carry exactly the ids they need', () => {
  ok({ type: 'dashboard/command', command: 'restartServer' });
  ok({ type: 'dashboard/command', command: 'applySession', sessionId: 's1' });
  ok({ type: 'dashboard/command', command: 'retryTask', sessionId: 's1', taskId: 's1:a' });
  bad({ type: 'dashboard/command', command: 'retryTask', sessionId: 's1' });
  bad({ type: 'dashboard/command', command: 'approveSession' });
  bad({ type: 'dashboard/command', command: 'showLogs', sessionId: 's1' });
  bad({ type: 'dashboard/command', command: 'deleteEverything', sessionId: 's1' });
  bad({ type: 'dashboard/command', command: 'cancelTask', sessionId: 's1', taskId: '../../etc' });
});

test('selection, transcript requests and render reports are validated', () => {
  ok({ type: 'dashboard/select', sessionId: null });
  ok({ type: 'dashboard/select', sessionId: 's-1' });
  bad({ type: 'dashboard/select' });
  ok({ type: 'dashboard/transcript', runId: 'r1', afterSeq: 0 });
  bad({ type: 'dashboard/transcript', runId: 'r1', afterSeq: -1 });
  bad({ type: 'dashboard/transcript', runId: 'a b', afterSeq: 0 });
  ok({ type: 'dashboard/didRender', health: 'ok', pid: 1 });
  ok({ type: 'dashboard/didRender', health: 'ok', pid: null, seq: 3, sessionId: 's1', taskNodes: ['s1:a', 's1:b'] });
  bad({ type: 'dashboard/didRender', health: 'ok', pid: 1, taskNodes: ['<script>'] });
  ok({ type: 'webview/ready', surface: 'dashboard', uiState: { detailsOpen: true, selectedSession: 's1', selectedTask: 's1:a' } });
  bad({ type: 'webview/ready', surface: 'dashboard', uiState: { data: 1 } });
  bad({ type: 'dashboard/unknown' });
});
