/**
 * Experiment kinds on the committed notebooks' real records: %%continual (continual-split-mnist),
 * %%hypernet (hypernetwork-cl) and %%sweep (sweeps): kind, method, accuracy matrix, sweep outcome,
 * the run card's summary line and the heatmap figure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RUN_RECORD_MIME, type RunRecord } from '../records';
import { kindSummary } from '../renderers/kind-summary';
import { matrixFigure } from '../renderers/matrix-figure';
import { runCardHtml } from '../renderers/run-card-html';
import { accuracyMatrix } from './accuracy-matrix';
import { experimentKind, experimentMethod } from './kind';
import { sweepSummary } from './sweep-outcome';

/** The run records of a committed notebook, by name. */
function recordsOf(notebook: string): Map<string, RunRecord> {
  const file = path.resolve(__dirname, '../../../../../notebooks', notebook);
  const cells = (JSON.parse(fs.readFileSync(file, 'utf8')) as { cells: Array<{ outputs?: Array<{ data?: Record<string, unknown> }> }> }).cells;
  const records = cells.flatMap((c) => (c.outputs ?? []).map((o) => o.data?.[RUN_RECORD_MIME] as RunRecord | undefined)).filter((r): r is RunRecord => r !== undefined);
  return new Map(records.map((r) => [r.name ?? r.id, r]));
}

const continual = recordsOf('continual-split-mnist.ipynb');
const hypernet = recordsOf('hypernetwork-cl.ipynb');
const sweeps = recordsOf('sweeps.ipynb');

test('kind and method: config.magic, a sweep by its outcome (its config.magic is the trial magic)', () => {
  const cases: Array<[RunRecord, string, string]> = [
    [continual.get('ewc_task')!, 'continual', 'ewc'],
    [continual.get('replay_class')!, 'continual', 'replay'],
    [hypernet.get('hnet_task')!, 'hypernet', 'hypernet · continual'],
    [hypernet.get('generated')!, 'hypernet', 'hypernet · adapters'],
    [hypernet.get('base')!, 'adapter', 'full'],
    [sweeps.get('asha')!, 'sweep', 'asha · adapter'],
    [sweeps.get('pbt')!, 'sweep', 'pbt · adapter'],
  ];
  assert.equal(sweeps.get('asha')!.config.magic, 'adapter');
  for (const [record, kind, method] of cases) assert.deepEqual([record.name, experimentKind(record), experimentMethod(record)], [record.name, kind, method]);
  assert.equal(experimentKind({ config: { magic: 'experiment' } }), 'experiment');
  assert.equal(experimentKind({ config: {} }), 'experiment');
  assert.equal(experimentKind({ config: { magic: 'sweep' } }), 'sweep');
});

test('accuracy matrix: R[i][j] from matrix/exp<j> (steps: experiences trained)', () => {
  const m = accuracyMatrix(continual.get('ewc_task')!)!;
  assert.deepEqual(m.trained, [0, 1, 2, 3, 4]);
  assert.deepEqual(m.evaluated, [0, 1, 2, 3, 4]);
  assert.deepEqual(m.values[0], [0.982, 0.49, 0.53, 0.436, 0.458], 'after the first experience');
  assert.deepEqual(m.values.map((row) => row[4]), [0.458, 0.458, 0.458, 0.458, 0.94], 'experience 4 over time');
  // ACC is the mean of the last row.
  const acc = m.values[4].reduce<number>((s, v) => s + (v ?? 0), 0) / 5;
  assert.ok(Math.abs(acc - (continual.get('ewc_task')!.metrics.acc as number)) < 1e-9);
  assert.ok(accuracyMatrix(hypernet.get('hnet_task')!), 'a continual hypernetwork has one too');
  assert.equal(accuracyMatrix(hypernet.get('generated')!), undefined);
  const gappy = accuracyMatrix({ curves: { 'matrix/exp1': { step: [1], value: [0.5] }, 'matrix/exp0': { step: [0, 1], value: [1, 'NaN'] } } })!;
  assert.deepEqual(gappy, { trained: [0, 1], evaluated: [0, 1], values: [[1, null], [null, 0.5]] });
});

test('sweep outcome: trials in id order with params, value, budget and compacted record; best and objective', () => {
  const asha = sweepSummary(sweeps.get('asha')!)!;
  assert.equal(asha.sweepId, 'asha');
  assert.deepEqual(asha.objective, { metric: 'accuracy', mode: 'max' });
  assert.equal(asha.algorithm, 'asha');
  assert.equal(asha.bestTrialId, 't008');
  assert.deepEqual(asha.trials.map((t) => t.trialId), ['t000', 't001', 't002', 't003', 't004', 't005', 't006', 't007', 't008', 't009']);
  assert.deepEqual(asha.paramNames, ['adapter.r', 'train.lr']);
  const best = asha.trials[8];
  assert.deepEqual([best.name, best.params['adapter.r'], best.budget, best.segments, best.status], ['asha/t008', 16, 4, 3, 'completed']);
  assert.equal(best.value, Math.max(...asha.trials.map((t) => t.value)));
  assert.equal((best.config.adapter as { r: number }).r, 16, "the last segment's config");
  assert.match(best.contentHash, /^[0-9a-f]{64}$/);
  assert.ok(asha.decisions > 0);
  assert.equal(sweepSummary(continual.get('ewc_task')!), undefined);
  const noBest = sweepSummary({ outcome: { objective: { metric: 'loss', mode: 'min' }, trials: [{ trialId: 'b', value: 2 }, { trialId: 'a', value: 1 }, { trialId: 'c' }] } })!;
  assert.deepEqual([noBest.bestTrialId, noBest.trials.map((t) => t.trialId)], ['a', ['a', 'b', 'c']], 'the best by mode when the outcome names none');
});

test('run card: a summary line per kind, a matrix slot for continual runs', () => {
  assert.deepEqual(kindSummary(continual.get('ewc_task')!), ['ACC 96.04 % · BWT −0.15 % · FWT −2.55 % · forgetting 0.15 %']);
  assert.deepEqual(kindSummary(hypernet.get('hnet_task')!), ['ACC 98.60 % · BWT −0.15 % · FWT 4.90 % · forgetting 0.15 %', 'compression 0.5075 (45,480 hypernetwork / 89,610 target parameters)']);
  assert.deepEqual(kindSummary(hypernet.get('generated')!), ['compression 4.329']);
  assert.deepEqual(kindSummary(sweeps.get('asha')!), ['asha · 10 trials', 'best t008: accuracy 0.886 (max) with adapter.r 16, train.lr 0.0448']);
  assert.deepEqual(kindSummary(hypernet.get('base')!), []);
  const card = runCardHtml(continual.get('ewc_task')!);
  assert.match(card, /^<details class="hl-run-card" open data-kind="continual">/);
  assert.match(card, /<div class="hl-run-kind"><span>ACC 96\.04 %/);
  assert.match(card, /<figure class="hl-run-matrix">/);
  assert.doesNotMatch(runCardHtml(sweeps.get('asha')!), /hl-run-matrix/);
});

test('heatmap figure: R as z on a fixed 0…1 scale, first experience at the top, values written in the cells', () => {
  const figure = matrixFigure(accuracyMatrix(continual.get('naive_class')!)!, { color: '#111', height: 200 });
  const trace = figure.data[0] as { type: string; z: number[][]; x: string[]; y: string[]; zmin: number; zmax: number; texttemplate: string };
  assert.equal(trace.type, 'heatmap');
  assert.deepEqual([trace.x[0], trace.y[4], trace.zmin, trace.zmax], ['exp 0', 'after 4', 0, 1]);
  assert.equal(trace.z[0][0], accuracyMatrix(continual.get('naive_class')!)!.values[0][0]);
  assert.equal((figure.layout.yaxis as { autorange: string }).autorange, 'reversed');
  assert.equal(figure.layout.height, 200);
  assert.match(trace.texttemplate, /%\{z/);
});
