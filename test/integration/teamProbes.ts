/**
 * Well-formed params for every client → server request of `protocol/methods.ts`, aimed at given ids and a
 * given folder. The team isolation and role matrix tests call each method with them; a method missing here
 * makes those tests fail, so a new method is probed from the day it is added.
 */
export interface ProbeTarget {
  sessionId: string;
  taskId: string;
  runId: string;
  dataset: string;
  cwd: string;
  /** A user id and an API key id (`quota/set`); default: ones that exist nowhere. */
  userId?: string;
  keyId?: string;
}

export function probeParams(t: ProbeTarget): Record<string, unknown> {
  const { sessionId, taskId, runId, dataset, cwd } = t;
  const userId = t.userId ?? 'u_000000000000';
  return {
    'server/status': { verbose: true },
    'server/whoami': {},
    'agent/list': {},
    'marketplace/list': {},
    'marketplace/get': { id: 'no-such-agent' },
    'marketplace/install': { id: 'no-such-agent' },
    'marketplace/uninstall': { id: 'no-such-agent' },
    'marketplace/setEnabled': { id: 'no-such-agent', enabled: true },
    'run/start': { agent: 'opencode', cwd, prompt: 'probe' },
    'run/get': { runId },
    'run/list': {},
    'run/cancel': { runId },
    'run/transcript': { runId },
    'session/start': { goal: '- [p] Probe: probe', cwd },
    'session/plan': { sessionId, plan: { tasks: [{ id: 'x', title: 'x', prompt: 'x' }] } },
    'session/approve': { sessionId },
    'session/get': { sessionId },
    'session/list': {},
    'session/pause': { sessionId },
    'session/resume': { sessionId },
    'session/cancel': { sessionId },
    'session/retry': { sessionId },
    'session/diff': { sessionId },
    'session/fileContent': { sessionId, path: 'a.txt', side: 'result' },
    'session/apply': { sessionId },
    'session/delete': { sessionId },
    'task/retry': { sessionId, taskId },
    'task/cancel': { sessionId, taskId },
    'task/setPriority': { sessionId, taskId, priority: 1 },
    'dataset/candidates': {},
    'dataset/create': { name: `${dataset}-probe` },
    'dataset/preview': {},
    'dataset/list': {},
    'dataset/get': { name: dataset },
    'dataset/export': { name: dataset, format: 'openai' },
    'finetune/submit': { dataset, modelName: 'probe-model' },
    'finetune/get': { jobId: 'no-such-job' },
    'finetune/list': {},
    'finetune/cancel': { jobId: 'no-such-job' },
    'finetune/pause': { jobId: 'no-such-job' },
    'finetune/resume': { jobId: 'no-such-job' },
    'model/list': {},
    'model/get': { name: 'probe-model' },
    'model/setAlias': { name: 'probe-model', alias: 'challenger', version: 1 },
    'model/evaluate': { name: 'probe-model', version: 1 },
    'model/promote': { name: 'probe-model', version: 1 },
    'audit/list': {},
    'usage/report': { groupBy: 'user' },
    'quota/get': {},
    'quota/set': { scope: 'user', id: userId, quotas: { tasks: 1 } },
  };
}

/** Further probes of one method with other well-formed params (isolation: every target kind of another tenant). */
export function extraProbes(t: ProbeTarget): [string, unknown][] {
  return [['quota/set', { scope: 'key', id: t.keyId ?? '0000000000000000', quotas: { tasks: 1, tokens: 5 } }]];
}
