/**
 * The experiments table's model on the six run records of `notebooks/adapters-mnist.ipynb`
 * (read through `findRunRecords` on a stand-in notebook model), plus hand-made edge cases.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { INotebookModel } from '@jupyterlab/notebook';
import { findRunRecords, type FoundRecord, type RunRecord } from '../records';
import { columnsFor, compareValues, curveNames, defaultCurve, filterRows, formatMetric, metricNames, RunTableModel, sortRows, toRows } from './table-model';

const NOTEBOOK = path.resolve(__dirname, '../../../../../notebooks/adapters-mnist.ipynb');

interface NbCell {
  cell_type: string;
  id?: string;
  outputs?: Array<{ data?: Record<string, unknown> }>;
}

/** A notebook file as the parts of an `INotebookModel` that `findRunRecords` reads. */
function modelOf(cells: NbCell[]): INotebookModel {
  const list = <T>(items: T[]) => ({ length: items.length, get: (i: number) => items[i] });
  const models = cells.map((c, i) => ({ type: c.cell_type, id: c.id ?? `cell-${i}`, outputs: list((c.outputs ?? []).map((o) => ({ data: o.data ?? {} }))) }));
  return { cells: list(models) } as unknown as INotebookModel;
}

function mnistRecords(): FoundRecord[] {
  const nb = JSON.parse(fs.readFileSync(NOTEBOOK, 'utf8')) as { cells: NbCell[] };
  return findRunRecords(modelOf(nb.cells));
}

function record(name: string, metrics: RunRecord['metrics'], extra: Partial<RunRecord> = {}): RunRecord {
  return {
    schema: 'hyperlab.run/v1',
    id: `id-${name}`,
    name,
    createdAt: '2026-01-01T00:00:00.000Z',
    config: { magic: 'adapter', adapter: { method: 'lora', r: 8 } },
    seed: 0,
    backend: { name: 'cpu', reason: 'test' },
    environment: { node: 'v20', platform: 'linux', arch: 'x64', packages: {} },
    data: [],
    metrics,
    curves: {},
    timings: { totalMs: 1 },
    contentHash: `hash-${name}`.padEnd(64, '0'),
    ...extra,
  };
}
const at = (cellIndex: number, r: RunRecord): FoundRecord => ({ cellIndex, cellId: `c${cellIndex}`, outputIndex: 0, record: r });

test('rows: the adapters notebook gives six runs in notebook order, with cell, method, seed, backend, hash', () => {
  const rows = toRows(mnistRecords());
  assert.deepEqual(
    rows.map((r) => [r.name, r.cellIndex, r.method]),
    [['base', 3, 'full'], ['full', 5, 'full'], ['lora', 6, 'lora'], ['dora', 7, 'dora'], ['vera', 8, 'vera'], ['ia3', 9, 'ia3']],
  );
  assert.equal(rows[2].seed, '0');
  assert.equal(rows[2].backend, 'wasm');
  assert.match(rows[2].hash, /^0cb59abed3[0-9a-f]{54}$/);
  assert.equal(rows[2].metrics.trainableParams, 12037);
  const hash = columnsFor(rows).find((c) => c.id === 'hash')!;
  assert.equal(hash.text(rows[2]), '0cb59abed3');
});

test('columns: fixed ones around one column per metric, the union over runs in first-seen order', () => {
  const rows = toRows([at(1, record('a', { accuracy: 0.9, loss: 0.2 })), at(2, record('b', { loss: 0.1, bwt: -0.05 }))]);
  assert.deepEqual(metricNames(rows), ['accuracy', 'loss', 'bwt']);
  const columns = columnsFor(rows);
  assert.deepEqual(columns.map((c) => c.id), ['name', 'cell', 'kind', 'method', 'metric:accuracy', 'metric:loss', 'metric:bwt', 'seed', 'backend', 'hash']);
  assert.equal(columns.find((c) => c.id === 'metric:bwt')!.label, 'BWT', 'continual metrics go by their short names');
  const bwt = columns.find((c) => c.id === 'metric:bwt')!;
  assert.equal(bwt.text(rows[0]), '', 'a run without the metric shows an empty cell');
  assert.equal(bwt.text(rows[1]), '-0.05');
  assert.equal(columns.find((c) => c.id === 'cell')!.text(rows[0]), '2', 'cells are numbered from 1');
});

test('sorting: numeric columns numerically, text with digits naturally, missing values last both ways', () => {
  const rows = toRows([
    at(0, record('run10', { accuracy: 0.9 })),
    at(1, record('run2', { accuracy: 0.95 })),
    at(2, record('run1', {})),
    at(3, record('nan', { accuracy: 'NaN' })),
    at(4, record('run9', { accuracy: 0.1 })),
  ]);
  const columns = columnsFor(rows);
  const names = (column: string, direction: 'asc' | 'desc') => sortRows(rows, columns, { column, direction }).map((r) => r.name);
  assert.deepEqual(names('metric:accuracy', 'asc'), ['run9', 'run10', 'run2', 'run1', 'nan']);
  assert.deepEqual(names('metric:accuracy', 'desc'), ['run2', 'run10', 'run9', 'run1', 'nan']);
  assert.deepEqual(names('name', 'asc'), ['nan', 'run1', 'run2', 'run9', 'run10']);
  assert.deepEqual(names('nope', 'asc'), ['run10', 'run2', 'run1', 'nan', 'run9'], 'an unknown column keeps notebook order');
  assert.ok(compareValues(2, 10, 'asc') < 0);
  assert.ok(compareValues('2', '10', 'asc') < 0);
  assert.ok(compareValues('', 'a', 'desc') > 0);
});

test('sorting keeps ties in notebook order (stable)', () => {
  const rows = toRows(mnistRecords());
  const sorted = sortRows(rows, columnsFor(rows), { column: 'metric:steps', direction: 'desc' });
  assert.deepEqual(sorted.map((r) => r.name), ['base', 'full', 'lora', 'dora', 'vera', 'ia3']);
  const bySteps = sortRows(rows, columnsFor(rows), { column: 'metric:steps', direction: 'asc' });
  assert.deepEqual(bySteps.map((r) => r.name), ['full', 'lora', 'dora', 'vera', 'ia3', 'base']);
});

test('filter: case-insensitive over name, method and the config JSON', () => {
  const rows = toRows(mnistRecords());
  assert.deepEqual(filterRows(rows, 'VERA').map((r) => r.name), ['vera']);
  assert.deepEqual(filterRows(rows, 'DORA').map((r) => r.name), ['lora', 'dora'], "lora's config has useDora: false");
  assert.deepEqual(filterRows(rows, 'full').map((r) => r.name), ['base', 'full'], 'base is method full');
  assert.deepEqual(filterRows(rows, '  ').length, 6);
  const custom = toRows([at(0, record('x', {}, { config: { magic: 'adapter', adapter: { method: 'lora', targetModules: ['Encoder.0'] } } })), at(1, record('y', {}))]);
  assert.deepEqual(filterRows(custom, 'encoder.0').map((r) => r.name), ['x'], 'matches inside the config');
  assert.deepEqual(filterRows(custom, 'nothing-like-this'), []);
});

test('curves: union of names, test/accuracy first choice, else the first name', () => {
  const rows = toRows([
    at(0, record('a', {}, { curves: { 'train/loss': { step: [1], value: [1] } } })),
    at(1, record('b', {}, { curves: { 'test/accuracy': { step: [1], value: [0.5] }, 'task/0': { step: [1], value: [1] } } })),
  ]);
  assert.deepEqual(curveNames(rows), ['task/0', 'test/accuracy', 'train/loss']);
  assert.equal(defaultCurve(curveNames(rows)), 'test/accuracy');
  assert.equal(defaultCurve(curveNames(rows.slice(0, 1))), 'train/loss');
  assert.equal(defaultCurve([]), undefined);
});

test('model: sort toggles asc/desc, a new column starts ascending, the filter applies before sorting', () => {
  const model = new RunTableModel();
  model.setRows(toRows(mnistRecords()));
  model.toggleSort('metric:accuracy');
  assert.deepEqual(model.sort, { column: 'metric:accuracy', direction: 'asc' });
  assert.equal(model.visibleRows()[0].name, 'ia3');
  model.toggleSort('metric:accuracy');
  assert.equal(model.sort?.direction, 'desc');
  assert.equal(model.visibleRows()[0].name, 'base');
  model.toggleSort('name');
  assert.deepEqual(model.sort, { column: 'name', direction: 'asc' });
  model.setFilter('Lora');
  assert.deepEqual(model.visibleRows().map((r) => r.name), ['dora', 'lora'], 'loraAlpha is in both configs');
});

test('model: the selection is by record id: survives re-scans and moved cells, hides runs that are gone, remembers them', () => {
  const model = new RunTableModel();
  const a = record('a', {});
  const b = record('b', {});
  model.setRows(toRows([at(1, a), at(2, b)]));
  const [ra, rb] = model.rows;
  model.setSelected(ra.key, true);
  model.setSelected(rb.key, true);
  model.setSelected('not-a-row', true);
  assert.deepEqual(model.selectedRows().map((r) => r.name), ['a', 'b']);
  model.setFilter('a');
  assert.deepEqual(model.selectedRows().map((r) => r.name), ['a', 'b'], 'filtering does not deselect');
  model.setRows(toRows([at(0, record('new', {})), at(4, b), at(5, a)]));
  assert.deepEqual(model.selectedRows().map((r) => r.name), ['b', 'a'], 'selected rows follow notebook order');
  model.setRows(toRows([at(4, b)]));
  assert.deepEqual(model.selectedRows().map((r) => r.name), ['b']);
  assert.equal(model.isSelected(ra.key), false, 'a run that is gone is not selected');
  model.setRows(toRows([at(1, a), at(4, b)]));
  assert.deepEqual(model.selectedRows().map((r) => r.name), ['a', 'b'], 'and is again when it comes back (another notebook and back)');
  model.setSelected(rb.key, false);
  assert.deepEqual(model.selectedRows().map((r) => r.name), ['a']);
});

test('rows: copies of one record (a duplicated cell) get distinct keys', () => {
  const r = record('a', {});
  const rows = toRows([at(1, r), at(2, r)]);
  assert.deepEqual(rows.map((x) => x.key), ['id-a', 'id-a#2']);
});

test('formatMetric: integers as they are, 4 significant digits, exponents for tiny values, non-finite spelled', () => {
  assert.equal(formatMetric(12037), '12037');
  assert.equal(formatMetric(0.9716107807172176), '0.9716');
  assert.equal(formatMetric(0.000012346), '1.235e-5');
  assert.equal(formatMetric(NaN), 'NaN');
  assert.equal(formatMetric(-Infinity), '−∞');
  assert.equal(formatMetric(undefined), '');
});
