/**
 * The experiments table with every kind, on the committed records of notebooks/sweeps.ipynb and
 * continual-split-mnist.ipynb: a sweep's trials as rows under it (expandable, best marked, sorted
 * among themselves), alias metrics left out, continual metrics by their short names, and a
 * sweep's trials table sorted by any column.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sweepSummary } from '../experiments/sweep-outcome';
import { RUN_RECORD_MIME, type FoundRecord, type RunRecord } from '../records';
import { columnsFor, isAliasMetric, metricNames, RunTableModel, toRows } from './table-model';
import { defaultTrialSort, sortTrials, trialColumns } from './trials-model';

/** The records of a committed notebook, placed in their cells. */
function found(notebook: string): FoundRecord[] {
  const file = path.resolve(__dirname, '../../../../../notebooks', notebook);
  const cells = (JSON.parse(fs.readFileSync(file, 'utf8')) as { cells: Array<{ id?: string; outputs?: Array<{ data?: Record<string, unknown> }> }> }).cells;
  return cells.flatMap((cell, cellIndex) =>
    (cell.outputs ?? []).flatMap((o, outputIndex) => {
      const record = o.data?.[RUN_RECORD_MIME] as RunRecord | undefined;
      return record ? [{ cellIndex, cellId: cell.id ?? `c${cellIndex}`, outputIndex, record }] : [];
    }),
  );
}

const sweepRows = () => toRows(found('sweeps.ipynb'));
const names = (model: RunTableModel) => model.visibleRows().map((r) => (r.trial ? `${r.trial.trialId}${r.trial.best ? '*' : ''}` : r.name));

test('a sweep row carries its trials: keys, names, method, metrics, config and curves of each', () => {
  const rows = sweepRows();
  assert.deepEqual(rows.map((r) => [r.name, r.kind, r.method, r.sweep?.trials.length ?? 0]), [
    ['base', 'adapter', 'full', 0],
    ['asha', 'sweep', 'asha · adapter', 10],
    ['pbt', 'sweep', 'pbt · adapter', 4],
    ['lrfit', 'sweep', 'grid · adapter', 72],
  ]);
  const asha = rows[1];
  const t008 = asha.sweep!.trials[8];
  assert.equal(t008.key, `${asha.key}/t008`);
  assert.deepEqual(t008.trial, { parent: asha.key, trialId: 't008', best: true });
  assert.deepEqual([t008.name, t008.kind, t008.method, t008.cellIndex], ['asha/t008', 'adapter', 'lora', asha.cellIndex]);
  assert.notEqual(t008.seed, asha.seed, "the trial's own seed");
  assert.equal(t008.metrics.accuracy, asha.metrics.best);
  assert.deepEqual(Object.keys(t008.record.curves), ['accuracy'], "the sweep's trial/t008/… curves");
  assert.equal(asha.sweep!.trials.filter((t) => t.trial!.best).length, 1);
});

test('columns: every kind, aliases left out, short names for ACC/BWT/FWT and compression', () => {
  const rows = [...toRows(found('continual-split-mnist.ipynb')).slice(0, 2), ...sweepRows()];
  const metrics = metricNames(rows);
  assert.ok(metrics.every((m) => !isAliasMetric(m)));
  assert.ok(!metrics.some((m) => m.includes('eval_phase') || m.startsWith('best/') || m.startsWith('scaling/')));
  assert.deepEqual(metrics.slice(0, 5), ['acc', 'bwt', 'forgetting', 'fwt', 'steps']);
  assert.ok(metrics.includes('accuracy') && metrics.includes('best'), "trials' and sweeps' own metrics");
  const labels = columnsFor(rows).map((c) => c.label);
  assert.deepEqual(labels.slice(0, 8), ['run', 'cell', 'kind', 'method', 'ACC', 'BWT', 'forgetting', 'FWT']);
  const hyper = toRows([{ cellIndex: 0, cellId: 'h', outputIndex: 0, record: { ...rows[0].record, config: { magic: 'hypernet', learn: 'continual' }, metrics: { acc: 0.9, compressionRatio: 0.5 } } }]);
  const compression = columnsFor(hyper).find((c) => c.id === 'metric:compressionRatio')!;
  assert.deepEqual([compression.label, compression.text(hyper[0]), hyper[0].kind], ['compression', '0.5', 'hypernet']);
});

test('model: a sweep expands to its trials; sorting orders sweeps among runs and trials within their sweep', () => {
  const model = new RunTableModel();
  model.setRows(sweepRows());
  assert.deepEqual(names(model), ['base', 'asha', 'pbt', 'lrfit'], 'collapsed at first');
  const asha = model.rows[1];
  model.setExpanded(asha.key, true);
  assert.equal(model.isExpanded(asha.key), true);
  assert.deepEqual(names(model), ['base', 'asha', 't000', 't001', 't002', 't003', 't004', 't005', 't006', 't007', 't008*', 't009', 'pbt', 'lrfit']);
  model.toggleSort('metric:accuracy');
  model.toggleSort('metric:accuracy');
  const sorted = names(model);
  assert.equal(sorted[0], 'base', 'the only top-level run with accuracy comes first, sweeps (no accuracy of their own) after it');
  assert.deepEqual(sorted.slice(sorted.indexOf('asha') + 1, sorted.indexOf('asha') + 4), ['t008*', 't002', 't007'], 'trials best first under their sweep');
  model.setFilter('t00');
  assert.ok(names(model).includes('asha'), 'a sweep stays when its trials match');
  model.setExpanded(asha.key, false);
  model.setFilter('');
  assert.deepEqual(names(model).length, 4);
});

test('model: trials are selectable like runs, and stay selected across re-scans', () => {
  const model = new RunTableModel();
  model.setRows(sweepRows());
  const t008 = model.rows[1].sweep!.trials[8];
  model.setSelected(t008.key, true);
  model.setSelected(model.rows[0].key, true);
  assert.deepEqual(model.selectedRows().map((r) => r.name), ['base', 'asha/t008']);
  model.setRows(sweepRows());
  assert.equal(model.isSelected(t008.key), true);
});

test("trials table: params, budget, segments, status and the objective; best first, then by any column", () => {
  const asha = sweepSummary(found('sweeps.ipynb')[1].record)!;
  const columns = trialColumns(asha);
  assert.deepEqual(columns.map((c) => c.id), ['trial', 'param:adapter.r', 'param:train.lr', 'budget', 'segments', 'status', 'value']);
  assert.equal(columns.at(-1)!.label, 'accuracy (max)');
  const ids = (column: string, direction: 'asc' | 'desc') => sortTrials(asha, { column, direction }).map((t) => t.trialId);
  assert.deepEqual(defaultTrialSort(asha), { column: 'value', direction: 'desc' });
  assert.deepEqual(ids('value', 'desc').slice(0, 3), ['t008', 't002', 't007'], "as the magic's own table");
  assert.deepEqual(ids('param:adapter.r', 'asc').slice(0, 1), ['t006'], 'r = 1 first');
  assert.deepEqual(ids('param:adapter.r', 'desc').slice(0, 2), ['t000', 't008'], 'r = 16, ties in trial order');
  assert.deepEqual(ids('budget', 'asc').slice(0, 3), ['t000', 't003', 't004']);
  assert.deepEqual(ids('trial', 'desc')[0], 't009');
  assert.equal(columns[2].text(asha.trials[8]), '0.0448', 'numbers to 4 significant digits');
});
