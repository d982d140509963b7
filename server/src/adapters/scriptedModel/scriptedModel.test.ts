import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startScriptedModel, type ScriptedModel } from './scriptedModel';
import { dependencyContextHeading } from '../../domain/orchestration/plan';
import { demoLabel, parseMarker } from './scripts';

let model: ScriptedModel;
before(async () => {
  model = await startScriptedModel({ scripts: { custom: () => ({ kind: 'text', text: 'from a custom script' }) } });
});
after(async () => {
  await model.close();
});

const tools = ['bash', 'edit', 'read', 'write'].map((name) => ({ type: 'function', function: { name, parameters: {} } }));
const system = { role: 'system', content: 'You are a test.\n  Working directory: /tmp/repo\n' };

interface Chunk {
  choices: {
    delta: { content?: string; tool_calls?: { index: number; id?: string; function: { name?: string; arguments?: string } }[] };
    finish_reason: string | null;
  }[];
  usage?: { prompt_tokens: number; completion_tokens: number };
}

async function chat(messages: unknown[], extra: Record<string, unknown> = {}): Promise<{ status: number; chunks: Chunk[]; raw: string }> {
  const res = await fetch(`${model.url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-session-id': `s-${Math.random()}` },
    body: JSON.stringify({ model: 'scripted', stream: true, tools, messages, ...extra }),
    signal: AbortSignal.timeout(10_000),
  });
  const raw = await res.text();
  const chunks = raw
    .split('\n\n')
    .map((f) => f.replace(/^data: /, '').trim())
    .filter((d) => d && d !== '[DONE]')
    .flatMap((d) => {
      try {
        return [JSON.parse(d) as Chunk];
      } catch {
        return [];
      }
    });
  return { status: res.status, chunks, raw };
}

const textOf = (chunks: Chunk[]) => chunks.flatMap((c) => c.choices.map((x) => x.delta.content ?? '')).join('');
function toolCalls(chunks: Chunk[]): { name: string; args: Record<string, unknown> }[] {
  const calls: { name: string; args: string }[] = [];
  for (const c of chunks)
    for (const ch of c.choices)
      for (const t of ch.delta.tool_calls ?? []) {
        calls[t.index] ??= { name: '', args: '' };
        calls[t.index].name += t.function.name ?? '';
        calls[t.index].args += t.function.arguments ?? '';
      }
  return calls.map((c) => ({ name: c.name, args: JSON.parse(c.args) as Record<string, unknown> }));
}

test('GET /v1/models lists the scripted model', async () => {
  const res = await fetch(`${model.url}/models`);
  const body = (await res.json()) as { data: { id: string }[] };
  assert.deepEqual(
    body.data.map((m) => m.id),
    ['scripted'],
  );
});

test('parseMarker reads name, args and the rest', () => {
  assert.deepEqual(parseMarker('please [[script:edit_file a.txt old new]] and more'), {
    name: 'edit_file',
    args: ['a.txt', 'old', 'new'],
    rest: 'and more',
  });
  assert.equal(parseMarker('no marker'), undefined);
});

test('write_file: tool call with an absolute path, then final text after the tool result; usage in the last chunk', async () => {
  const user = { role: 'user', content: '[[script:write_file notes/a.txt]] Hello there' };
  const step0 = await chat([system, user]);
  assert.equal(step0.status, 200);
  assert.deepEqual(toolCalls(step0.chunks), [{ name: 'write', args: { filePath: '/tmp/repo/notes/a.txt', content: 'Hello there\n' } }]);
  assert.ok(step0.chunks.some((c) => c.choices[0]?.finish_reason === 'tool_calls'));
  const last = step0.chunks[step0.chunks.length - 1];
  assert.equal(last.choices.length, 0);
  assert.ok(last.usage && last.usage.prompt_tokens > 0 && last.usage.completion_tokens > 0);
  assert.ok(step0.raw.trimEnd().endsWith('data: [DONE]'));

  const step1 = await chat([
    system,
    user,
    { role: 'assistant', content: null, tool_calls: [{ id: 'c1' }] },
    { role: 'tool', tool_call_id: 'c1', content: 'Wrote file successfully.' },
  ]);
  assert.match(textOf(step1.chunks), /Wrote notes\/a\.txt\. Last tool said: Wrote file successfully\./);
});

test('edit_file: read, then edit, then text', async () => {
  const user = { role: 'user', content: '[[script:edit_file f.txt one two]]' };
  assert.equal(toolCalls((await chat([system, user])).chunks)[0].name, 'read');
  const s1 = toolCalls((await chat([system, user, { role: 'tool', content: 'one' }])).chunks)[0];
  assert.deepEqual(s1, { name: 'edit', args: { filePath: '/tmp/repo/f.txt', oldString: 'one', newString: 'two' } });
  assert.match(
    textOf((await chat([system, user, { role: 'tool', content: 'x' }, { role: 'tool', content: 'Edit applied' }])).chunks),
    /Edited f\.txt/,
  );
});

test('bash: command from the rest of the message', async () => {
  const calls = toolCalls((await chat([system, { role: 'user', content: '[[script:bash]] echo hi > out.txt' }])).chunks);
  assert.deepEqual(calls, [{ name: 'bash', args: { command: 'echo hi > out.txt' } }]);
});

test('bash_seq: one command per step, in order, then text', async () => {
  const user = { role: 'user', content: '[[script:bash_seq]] uname ;; uname ;; uname -a' };
  const tool = { role: 'tool', content: 'Linux' };
  assert.deepEqual(toolCalls((await chat([system, user])).chunks), [{ name: 'bash', args: { command: 'uname' } }]);
  assert.deepEqual(toolCalls((await chat([system, user, tool])).chunks), [{ name: 'bash', args: { command: 'uname' } }]);
  assert.deepEqual(toolCalls((await chat([system, user, tool, tool])).chunks), [{ name: 'bash', args: { command: 'uname -a' } }]);
  assert.match(textOf((await chat([system, user, tool, tool, tool])).chunks), /Ran 3 commands/);
});

test('slow: chunks arrive with the configured delay', async () => {
  const t0 = Date.now();
  const r = await chat([system, { role: 'user', content: '[[script:slow 4 100]]' }]);
  assert.ok(Date.now() - t0 >= 350, `took ${Date.now() - t0} ms`);
  assert.equal(textOf(r.chunks), 'tick 0 tick 1 tick 2 tick 3 ');
});

test('http_error: 500 always, 429 with retry-after, and N-times-then-recover', async () => {
  const r500 = await chat([system, { role: 'user', content: '[[script:http_error 500]]' }]);
  assert.equal(r500.status, 500);
  const res = await fetch(`${model.url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-session-id': 'flaky' },
    body: JSON.stringify({ stream: true, tools, messages: [{ role: 'user', content: '[[script:http_error 429 1]]' }] }),
  });
  assert.equal(res.status, 429);
  assert.equal(res.headers.get('retry-after'), '1');
  await res.text();
  const again = await fetch(`${model.url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-session-id': 'flaky' },
    body: JSON.stringify({ stream: true, tools, messages: [{ role: 'user', content: '[[script:http_error 429 1]]' }] }),
  });
  assert.equal(again.status, 200);
  assert.match(await again.text(), /Recovered after 1/);
});

test('fail_times: fails the first N turns across conversations (counted in a file), then writes', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'orch-failtimes-'));
  const counter = path.join(dir, 'count');
  const msg = { role: 'user', content: `[[script:fail_times ${counter} 2 out.txt]] hello` };
  const first = await chat([system, msg]);
  assert.equal(first.status, 400);
  assert.match(first.raw, /scripted failure 1 of 2/);
  assert.equal((await chat([system, msg])).status, 400, 'a new conversation fails too');
  assert.equal(readFileSync(counter, 'utf8'), '2\n');
  const ok = await chat([system, msg]);
  assert.equal(ok.status, 200);
  assert.deepEqual(toolCalls(ok.chunks), [{ name: 'write', args: { filePath: '/tmp/repo/out.txt', content: 'hello\n' } }]);
  assert.equal(readFileSync(counter, 'utf8'), '2\n', 'a success does not count');
  writeFileSync(counter, '0\n');
  assert.equal((await chat([system, msg])).status, 400, 'the test may reset the count');
  const bad = await chat([system, { role: 'user', content: '[[script:fail_times]]' }]);
  assert.match(textOf(bad.chunks), /fail_times needs COUNTER/);
});

test('malformed: a chunk that is not JSON', async () => {
  const r = await chat([system, { role: 'user', content: '[[script:malformed]]' }]);
  assert.equal(r.status, 200);
  assert.match(r.raw, /unterminated/);
  assert.ok(!r.raw.includes('[DONE]'));
});

test('hang: the client can give up, the server records it', async () => {
  const before = model.requests.length;
  const ac = new AbortController();
  const p = fetch(`${model.url}/chat/completions`, {
    method: 'POST',
    body: JSON.stringify({ stream: true, tools, messages: [{ role: 'user', content: '[[script:hang]]' }] }),
    signal: ac.signal,
  }).then((r) => r.text());
  setTimeout(() => ac.abort(), 200);
  await assert.rejects(p);
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(model.requests.slice(before).some((r) => r.script === 'hang' && r.clientClosed));
});

test('demo: labelled scripted reply, and a real write when asked to create a file', async () => {
  const plain = await chat([system, { role: 'user', content: 'Refactor the parser please' }]);
  assert.ok(textOf(plain.chunks).startsWith(demoLabel));
  const create = await chat([system, { role: 'user', content: 'Create a file named hello.md containing "Hi from demo"' }]);
  assert.deepEqual(toolCalls(create.chunks), [{ name: 'write', args: { filePath: '/tmp/repo/hello.md', content: 'Hi from demo\n' } }]);
});

test('demo and scripts act only on what was asked: never on the dependency context the orchestrator appends', async () => {
  const context = `\n\n${dependencyContextHeading} (their changes are already in your working tree):\n- [design] Design: ${demoLabel} I make no changes unless asked to create a file named notes.txt containing hello`;
  // The demo's own earlier reply, quoted in a dependent's prompt, is not a request to create notes.txt.
  const dependent = await chat([system, { role: 'user', content: `Goal: refactor the parser\n\nImplement the change.${context}` }]);
  assert.deepEqual(toolCalls(dependent.chunks), [], 'no stray file');
  assert.ok(textOf(dependent.chunks).startsWith(demoLabel));
  assert.doesNotMatch(textOf(dependent.chunks), /notes\.txt/, 'the reply does not carry a file name a later task could act on');
  // write_file writes what follows the marker, not the appended context.
  const write = await chat([system, { role: 'user', content: `[[script:write_file c.txt]] gamma${context}` }]);
  assert.deepEqual(toolCalls(write.chunks), [{ name: 'write', args: { filePath: '/tmp/repo/c.txt', content: 'gamma\n' } }]);
  // A read-only task does not write even when its goal names a file to create.
  const readOnly = await chat([
    system,
    { role: 'user', content: 'Goal: create a file named x.md containing hi\n\nRead the code and plan. Do not edit files.' },
  ]);
  assert.deepEqual(toolCalls(readOnly.chunks), []);
});

test('requests without tools (title generation) get a short title; custom scripts; non-streaming', async () => {
  const title = await chat([{ role: 'user', content: '[[script:write_file x]] Make a thing' }], { tools: [] });
  assert.equal(textOf(title.chunks), 'Scripted: Make a thing');
  assert.equal(textOf((await chat([system, { role: 'user', content: '[[script:custom]]' }])).chunks), 'from a custom script');
  const res = await fetch(`${model.url}/chat/completions`, {
    method: 'POST',
    body: JSON.stringify({ stream: false, tools, messages: [system, { role: 'user', content: '[[script:text]] plain json' }] }),
  });
  const body = (await res.json()) as { choices: { message: { content: string } }[] };
  assert.equal(body.choices[0].message.content, 'plain json');
  assert.ok(model.requests.some((r) => r.script === 'custom'));
});

test('with apiKey set, requests without the right Bearer key get 401 and every request is recorded', async () => {
  const keyed = await startScriptedModel({ apiKey: 'local-secret-123', models: ['m1', 'm2'] });
  try {
    const get = (auth?: string) =>
      fetch(`${keyed.url}/models`, { headers: auth ? { authorization: auth } : {}, signal: AbortSignal.timeout(10_000) });
    const none = await get();
    assert.equal(none.status, 401);
    assert.match(((await none.json()) as { error: { message: string } }).error.message, /API key/);
    assert.equal((await get('Bearer wrong')).status, 401);
    const ok = await get('Bearer local-secret-123');
    assert.equal(ok.status, 200);
    assert.deepEqual(
      ((await ok.json()) as { data: { id: string }[] }).data.map((d) => d.id),
      ['m1', 'm2'],
    );
    assert.deepEqual(
      keyed.requests.map((r) => r.headers.authorization),
      [undefined, 'Bearer wrong', 'Bearer local-secret-123'],
    );
  } finally {
    await keyed.close();
  }
});

test('tool_seq calls the offered tool named by suffix (MCP tools as OpenCode names them), one per step, then quotes the results', async () => {
  const offered = [...tools, { type: 'function', function: { name: 'orchestrator_claim_lease', parameters: {} } }];
  const user = { role: 'user', content: '[[script:tool_seq]] claim_lease {"paths":["a.ts"]} ;; nope {}' };
  const first = await chat([system, user], { tools: offered });
  assert.deepEqual(toolCalls(first.chunks), [{ name: 'orchestrator_claim_lease', args: { paths: ['a.ts'] } }]);
  const toolMsg = [
    {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'c1', type: 'function', function: { name: 'orchestrator_claim_lease', arguments: '{}' } }],
    },
    { role: 'tool', tool_call_id: 'c1', content: 'refused: held by t2' },
  ];
  const second = await chat([system, user, ...toolMsg], { tools: offered });
  assert.match(textOf(second.chunks), /no offered tool is named nope/);
});
