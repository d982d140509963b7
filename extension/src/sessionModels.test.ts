import assert from 'node:assert/strict';
import { test } from 'node:test';
import { asksForModel, demoChoiceLabel, sessionModelChoices } from './sessionModels';

const local = { id: 'local', name: 'Local', baseURL: 'http://127.0.0.1:8080/v1', models: { m1: {}, m2: { name: 'Model two' } } };

test('the configured models come with the labelled demo model, the default first and marked', () => {
  const c = sessionModelChoices([local], 'local/m2');
  assert.deepEqual(
    c.map((x) => [x.id, x.isDefault]),
    [
      ['local/m2', true],
      ['local/m1', false],
      ['demo/scripted', false],
    ],
  );
  assert.equal(c[0].description, 'Model two · default');
  assert.equal(c.find((x) => x.id === 'demo/scripted')?.label, demoChoiceLabel);
});

test('without a usable default the first configured model is the default; the demo can be the default', () => {
  assert.equal(sessionModelChoices([local], undefined)[0].id, 'local/m1');
  assert.equal(sessionModelChoices([local], 'gone/model')[0].id, 'local/m1');
  const demoFirst = sessionModelChoices([local], 'demo/scripted');
  assert.deepEqual(
    demoFirst.map((x) => x.id),
    ['demo/scripted', 'local/m1', 'local/m2'],
  );
  assert.equal(demoFirst[0].label, demoChoiceLabel);
});

test('no provider (or only invalid entries): the demo model is the only choice, so nothing is asked', () => {
  const only = sessionModelChoices([{ id: 'bad id', models: {} }], undefined);
  assert.deepEqual(
    only.map((x) => x.id),
    ['demo/scripted'],
  );
  assert.equal(asksForModel(only, undefined), false);
  assert.equal(asksForModel(sessionModelChoices([local], undefined), undefined), true);
  assert.equal(asksForModel(sessionModelChoices([local], undefined), { model: 'local/m1' }), false, 'automation passes its arguments');
});
