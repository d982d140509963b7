import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeRange, fixTitle, maxSelectionChars, selectionPrompt } from './selectionPrompt';

const base = { file: 'src/calc.js', languageId: 'javascript', start: { line: 2, character: 0 }, end: { line: 4, character: 0 } };

test('the prompt names the file, the 1-based lines and carries the text in a fence', () => {
  const p = selectionPrompt('tests', { ...base, text: 'function add(a, b) {\n  return a - b;\n}\n' });
  assert.match(p, /^File: src\/calc\.js \(lines 3–4\)$/m);
  assert.match(p, /```javascript\nfunction add\(a, b\) \{\n {2}return a - b;\n\}\n\n```/);
  assert.match(p, /Write tests for this code/);
});

test('a quick fix carries the diagnostic: severity, source, code and message', () => {
  const p = selectionPrompt('fix', {
    ...base,
    text: 'return a - b;',
    diagnostic: { message: "'c' is never used", severity: 'warning', source: 'eslint', code: 'no-unused-vars' },
  });
  assert.match(p, /^Diagnostic \(warning, eslint no-unused-vars\): 'c' is never used$/m);
  assert.match(p, /Fix the problem the diagnostic reports/);
});

test("the user's instruction comes last, and explain asks for no change", () => {
  const p = selectionPrompt('send', { ...base, text: 'x', instruction: '  rename x to total  ' });
  assert.match(p, /\nInstruction: rename x to total$/);
  assert.match(selectionPrompt('explain', { ...base, text: 'x' }), /Do not change any file\./);
});

test('backticks in the text cannot close the fence', () => {
  const p = selectionPrompt('send', { ...base, text: 'a ``` b ```` c', instruction: 'go' });
  assert.match(p, /`````javascript\na ``` b ```` c\n`````/);
});

test('a huge selection is cut and the prompt says so', () => {
  const p = selectionPrompt('send', { ...base, text: 'y'.repeat(maxSelectionChars + 500), instruction: 'go' });
  assert.match(p, new RegExp(`first ${maxSelectionChars} characters`));
  assert.ok(p.length < maxSelectionChars + 1_000);
});

test('ranges read as an editor shows them', () => {
  assert.equal(describeRange({ line: 0, character: 4 }, { line: 0, character: 10 }), 'line 1, columns 5–10');
  assert.equal(describeRange({ line: 6, character: 0 }, { line: 6, character: 0 }), 'line 7');
  assert.equal(describeRange({ line: 1, character: 0 }, { line: 3, character: 0 }), 'lines 2–3');
  assert.equal(describeRange({ line: 1, character: 2 }, { line: 3, character: 5 }), 'lines 2–4');
});

test('a fix title is one line and short', () => {
  assert.equal(fixTitle('a\n  b'), 'Ask an Agent to Fix: a b');
  assert.equal(fixTitle('z'.repeat(100)).length, 'Ask an Agent to Fix: '.length + 60);
});
