import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderDagSvg, renderTimelineSvg, type GraphTask } from './sessionGraph';

const tasks: GraphTask[] = [
  { id: 's1.a', planId: 'a', title: 'Write <a>', state: 'succeeded', dependsOn: [], startedAt: 0, finishedAt: 2000 },
  { id: 's1.b', planId: 'b', title: 'B', state: 'running', dependsOn: ['s1.a'], startedAt: 2000 },
  { id: 's1.c', planId: 'c', title: 'C', state: 'blocked', dependsOn: ['s1.a'], blocked: { since: 2500, reason: 'lease b.txt held by b' } },
];

test('the graph has one focusable node per task coloured by state, one edge per dependency, text escaped', () => {
  const svg = renderDagSvg(tasks, 's1.b');
  assert.equal(svg.match(/<g class="node/g)?.length, 3);
  assert.equal(svg.match(/<path class="edge"/g)?.length, 2);
  assert.match(svg, /class="node state-running selected" data-task="s1\.b" tabindex="0" role="button"/);
  assert.match(svg, /class="node state-blocked waiting"[^>]*aria-label="c: C \(waiting — lease b\.txt held by b\)"/);
  assert.ok(svg.includes('Write &lt;a&gt;') && !svg.includes('Write <a>'));
});

test('the timeline draws run bars and the lease wait, with durations in their labels', () => {
  const svg = renderTimelineSvg(tasks, 4000);
  assert.equal(svg.match(/<rect class="bar run/g)?.length, 2);
  assert.match(
    svg,
    /<rect class="bar wait state-blocked open" data-task="s1\.c"[^>]*aria-label="C: waiting \(lease b\.txt held by b\), 1\.5 s so far"/,
  );
  assert.match(svg, /aria-label="Timeline, peak 1 in parallel"/);
});

test('empty sessions say so instead of drawing an empty box', () => {
  assert.match(renderDagSvg([]), /No tasks yet/);
  assert.match(
    renderTimelineSvg([{ ...tasks[0], startedAt: undefined, finishedAt: undefined, state: 'pending' }], 0),
    /Nothing has started yet/,
  );
});

test('a node shows its state as a glyph too, and a wide enough bar carries its task id', () => {
  const svg = renderDagSvg(tasks);
  assert.match(svg, /data-task="s1\.a"[^]*?class="node-state" text-anchor="end" aria-hidden="true">✓</);
  const wide = renderTimelineSvg(tasks, 4000, 640);
  assert.match(wide, /<text class="bar-label" x="[\d.]+" y="\d+">a<\/text>/);
  const narrow = renderTimelineSvg([{ ...tasks[0], planId: 'a-very-long-plan-id-that-does-not-fit' }], 4000, 40);
  assert.doesNotMatch(narrow, /bar-label/);
});
