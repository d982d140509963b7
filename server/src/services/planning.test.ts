import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DomainError } from '../domain/errors';
import { planGoal } from './planning';

const answers = (...texts: string[]) => {
  const prompts: string[] = [];
  return {
    prompts,
    complete: async (p: string) => {
      prompts.push(p);
      return {
        text: texts[prompts.length - 1] ?? '',
        usage: { inputTokens: 100, outputTokens: 20, reasoningTokens: 5, cacheReadTokens: 0, cost: 0.01 },
      };
    },
  };
};
const good = JSON.stringify({
  tasks: [
    { id: 'a', title: 'A', prompt: 'do a' },
    { id: 'b', title: 'B', prompt: 'do b', dependsOn: ['a'] },
  ],
});

test('the LLM planner takes JSON from prose and fences', async () => {
  const c = answers(`Sure! Here is the plan:\n\`\`\`json\n${good}\n\`\`\``);
  const { plan, usage } = await planGoal('goal', 'llm', c);
  assert.deepEqual(
    plan.tasks.map((t) => t.id),
    ['a', 'b'],
  );
  assert.equal(c.prompts.length, 1);
  assert.deepEqual(usage, { inputTokens: 100, outputTokens: 20, reasoningTokens: 5, cacheReadTokens: 0, cost: 0.01 });
});

test('one repair round fixes a cycle; the repair prompt names the problem', async () => {
  const cyclic = JSON.stringify({
    tasks: [
      { id: 'a', title: 'A', prompt: 'x', dependsOn: ['b'] },
      { id: 'b', title: 'B', prompt: 'y', dependsOn: ['a'] },
    ],
  });
  const c = answers(cyclic, good);
  const { plan, usage } = await planGoal('goal', 'llm', c);
  assert.equal(plan.tasks.length, 2);
  assert.match(c.prompts[1], /cycle/);
  assert.equal(usage.inputTokens + usage.outputTokens, 240, 'the repair round is counted too');
});

test('prose twice is rejected with a clear error and no plan', async () => {
  const c = answers('I think you should just do it.', 'Still no JSON, sorry.');
  await assert.rejects(
    planGoal('goal', 'llm', c),
    (e: unknown) => DomainError.is(e, 'bad_input') && /prose instead of JSON/.test(e.message) && /one repair round/.test(e.message),
  );
});

test('bad fields are named', async () => {
  const bad = JSON.stringify({ tasks: [{ id: 'a', title: '', prompt: 'x', depends_on: [] }] });
  const c = answers(bad, bad);
  await assert.rejects(
    planGoal('goal', 'llm', c),
    (e: unknown) => DomainError.is(e, 'bad_input') && /title/.test(e.message) && /depends_on/.test(e.message),
  );
});

test('the template planner reads the explicit task-list syntax', async () => {
  const { plan, usage } = await planGoal('- [a] First: do a\n- [b] Second (after: a): do b', 'template');
  assert.equal(usage.inputTokens + usage.outputTokens, 0);
  assert.deepEqual(
    plan.tasks.map((t) => [t.id, t.dependsOn]),
    [
      ['a', []],
      ['b', ['a']],
    ],
  );
});
