// Example plugin adapter for Industrial Orchestrator: an agent runtime (the AgentRuntime port of
// server/src/ports/agentRuntime.ts) that needs no model. A prompt line `write PATH: TEXT` writes TEXT (and a
// newline) to PATH inside the task's worktree; any other prompt is written to ECHO.md. It reports a tool call, a message and
// usage as events, and asks the orchestrator's permission policy before it writes.
import fs from 'node:fs/promises';
import path from 'node:path';

function parse(prompt) {
  const m = /^\s*write\s+([^\s:]+)\s*:[ \t]*(.*)$/im.exec(prompt);
  return m ? { file: m[1], text: `${m[2]}\n` } : { file: 'ECHO.md', text: `${prompt}\n` };
}

function createRuntime(ctx) {
  const running = new Map();
  return {
    id: 'echo',
    async start() {},
    async prompt(req, onEvent) {
      const started = Date.now();
      const { file, text } = parse(req.prompt);
      const target = path.resolve(req.cwd, file);
      const done = (status, summary, error) => ({
        status,
        stopReason: status === 'succeeded' ? 'end_turn' : status === 'cancelled' ? 'cancelled' : 'error',
        summary,
        usage: { inputTokens: 0, outputTokens: 0, reasoningTokens: 0, cacheReadTokens: 0, cost: 0 },
        diff: [], // the orchestrator computes the diff from the worktree itself
        ...(error ? { error: { reason: 'protocol', message: error } } : {}),
        durationMs: Date.now() - started,
        lastSeq: 0,
      });
      if (path.relative(req.cwd, target).startsWith('..') || path.isAbsolute(path.relative(req.cwd, target)))
        return done('failed', '', `${file} is outside the worktree`);
      running.set(req.runId, true);
      try {
        onEvent({
          kind: 'tool_call',
          key: 'write:pending',
          id: 'write',
          title: `write ${file}`,
          toolName: 'write',
          status: 'pending',
          locations: [{ path: target }],
        });
        const decision = req.permissionPolicy
          ? await req.permissionPolicy({ permission: 'edit', patterns: [target], toolKind: 'edit' })
          : 'deny';
        if (req.signal?.aborted) return done('cancelled', '');
        if (decision !== 'allow') {
          onEvent({
            kind: 'tool_call',
            key: 'write:failed',
            id: 'write',
            title: `write ${file}`,
            toolName: 'write',
            status: 'failed',
            output: 'permission denied',
          });
          return done('succeeded', `I was not allowed to write ${file}.`);
        }
        await fs.mkdir(path.dirname(target), { recursive: true });
        await fs.writeFile(target, text);
        onEvent({
          kind: 'tool_call',
          key: 'write:completed',
          id: 'write',
          title: `write ${file}`,
          toolName: 'write',
          status: 'completed',
          locations: [{ path: target }],
        });
        const summary = `Wrote ${file} (${text.length} characters).`;
        onEvent({ kind: 'message_chunk', key: 'summary', role: 'assistant', text: summary });
        onEvent({ kind: 'usage', key: 'usage', inputTokens: req.prompt.length, outputTokens: text.length, cost: 0 });
        ctx.log(`wrote ${target}`);
        return done('succeeded', summary);
      } finally {
        running.delete(req.runId);
      }
    },
    async cancel() {},
    async dispose() {
      running.clear();
    },
  };
}

export const plugin = {
  id: 'echo',
  name: 'Echo (example plugin)',
  description: 'Writes the file the prompt names (write PATH: TEXT); no model',
  capabilities: ['*'],
  maxConcurrency: 2,
  createRuntime,
};
