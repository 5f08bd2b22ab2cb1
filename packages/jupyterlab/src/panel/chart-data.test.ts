/** The overlay figure: one trace per selected run that has the curve, gaps for non-finite values. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunRecord } from '../records';
import { overlayFigure } from './chart-data';
import { toRows } from './table-model';

function rows(curves: Array<[string, RunRecord['curves']]>) {
  return toRows(curves.map(([name, c], i) => ({ cellIndex: i, cellId: `c${i}`, outputIndex: 0, record: { id: name, name, config: {}, metrics: {}, curves: c } as unknown as RunRecord })));
}

test('one trace per run with the curve, in selection order; runs without it are named', () => {
  const figure = overlayFigure(
    rows([
      ['a', { 'test/accuracy': { step: [10, 20], value: [0.5, 0.7] } }],
      ['b', { 'train/loss': { step: [1], value: [1] } }],
      ['c', { 'test/accuracy': { step: [10, 20], value: [0.6, 'NaN'] } }],
    ]),
    'test/accuracy',
  );
  assert.deepEqual(figure.data.map((t) => [t.name, t.x, t.y]), [['a', [10, 20], [0.5, 0.7]], ['c', [10, 20], [0.6, null]]]);
  assert.deepEqual(figure.without, ['b']);
  assert.equal(figure.data[0].type, 'scatter');
});

test('short curves get markers, long ones plain lines', () => {
  const long = Array.from({ length: 200 }, (_, i) => i);
  const figure = overlayFigure(rows([['short', { l: { step: [1, 2, 3], value: [3, 2, 1] } }], ['long', { l: { step: long, value: long } }]]), 'l');
  assert.deepEqual(figure.data.map((t) => t.mode), ['lines+markers', 'lines']);
});
