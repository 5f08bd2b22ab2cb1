/** Stored against fresh run records: hashes, tolerances, drift details, missing and extra records. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonNumber } from '../records';
import { compareMetrics, compareRuns, formatValue, summary, type PlacedRecord } from './compare';

const tol0 = { rtol: 0, atol: 0 };

function rec(name: string, hash: string, metrics: Record<string, JsonNumber>, cellIndex = 1): PlacedRecord {
  return { cellIndex, record: { name, id: `${name}-0000-id`, contentHash: hash, metrics } };
}

test('equal content hashes match without looking at metrics', () => {
  const v = compareRuns([rec('base', 'h1', { accuracy: 0.9 })], [rec('base', 'h1', { accuracy: 0.1 })], tol0);
  assert.equal(v.ok, true);
  assert.deepEqual([v.rows[0].status, v.rows[0].match, v.rows[0].detail], ['matched', 'hash', 'content hash equal']);
  assert.equal(summary(v), 'Verified: 1 run record reproduced.');
});

test('different hashes with equal metrics match "within tolerance" (e.g. a different createdAt)', () => {
  const v = compareRuns([rec('a', 'h1', { accuracy: 0.5, steps: 10 })], [rec('a', 'h2', { accuracy: 0.5, steps: 10 })], tol0);
  assert.equal(v.ok, true);
  assert.equal(v.rows[0].match, 'tolerance');
  assert.equal(v.rows[0].detail, 'metrics equal (content hash differs)');
});

test('|fresh − stored| ≤ atol + rtol·|stored| decides each metric; the drift names metrics and the largest difference', () => {
  const stored = [rec('lora', 'h1', { accuracy: 0.5, loss: 2, steps: 100 })];
  const fresh = [rec('lora', 'h2', { accuracy: 0.52, loss: 2.001, steps: 100 })];
  const drift = compareRuns(stored, fresh, tol0);
  assert.equal(drift.ok, false);
  const row = drift.rows[0];
  assert.equal(row.status, 'drifted');
  assert.equal(row.detail, 'accuracy, loss drifted (largest accuracy: 0.5 → 0.52, |Δ| 0.02)');
  assert.deepEqual(row.metrics.filter((m) => !m.ok).map((m) => m.metric), ['accuracy', 'loss']);
  assert.equal(summary(drift), 'Not reproduced: 0 of 1 matched (1 drifted).');

  // atol alone: 0.02 passes at atol 0.02 (boundary included), fails just below.
  assert.equal(compareRuns(stored, fresh, { rtol: 0, atol: 0.0200001 }).ok, true);
  assert.equal(compareRuns(stored, fresh, { rtol: 0, atol: 0.019 }).ok, false);
  // rtol scales with |stored|: 0.02 / 0.5 = 4 %, 0.001 / 2 = 0.05 %.
  assert.equal(compareRuns(stored, fresh, { rtol: 0.041, atol: 0 }).ok, true);
  const partly = compareRuns(stored, fresh, { rtol: 0.01, atol: 0 });
  assert.equal(partly.rows[0].detail, 'accuracy drifted (largest accuracy: 0.5 → 0.52, |Δ| 0.02)');
  const within = compareRuns(stored, fresh, { rtol: 0.05, atol: 0 }).rows[0];
  assert.deepEqual([within.status, within.match], ['matched', 'tolerance']);
  assert.equal(within.detail, 'within tolerance (largest accuracy: 0.5 → 0.52, |Δ| 0.02)');
});

test('a metric on one side only drifts; non-finite values match only themselves', () => {
  const diffs = compareMetrics({ a: 1, b: 'NaN', c: 'Infinity', d: 'NaN' }, { a: 1, b: 'NaN', c: 1e308, e: 0 }, { rtol: 1, atol: 1 });
  assert.deepEqual(
    diffs.map((d) => [d.metric, d.ok, d.diff]),
    [['a', true, 0], ['b', true, 0], ['c', false, Infinity], ['d', false, Infinity], ['e', false, Infinity]],
  );
  assert.deepEqual([diffs[3].stored, diffs[3].fresh, diffs[4].stored, diffs[4].fresh], [NaN, undefined, undefined, 0]);
  const v = compareRuns([rec('x', 'h1', { acc: 1, old: 2 })], [rec('x', 'h2', { acc: 1 })], { rtol: 1, atol: 1 });
  assert.equal(v.rows[0].status, 'drifted');
  assert.match(v.rows[0].detail, /^old drifted \(largest old: 2 → —, \|Δ\| ∞\)$/);
});

test('a renamed run at the same position drifts even with equal metrics', () => {
  const v = compareRuns([rec('lora', 'h1', { acc: 1 })], [rec('dora', 'h2', { acc: 1 })], tol0);
  assert.equal(v.rows[0].status, 'drifted');
  assert.equal(v.rows[0].detail, 'the re-run is named "dora"');
});

test('records pair by position; missing and extra records fail', () => {
  const a = rec('a', 'ha', { acc: 1 }, 2);
  const b = rec('b', 'hb', { acc: 1 }, 4);
  const missing = compareRuns([a, b], [a], tol0);
  assert.equal(missing.ok, false);
  assert.deepEqual(missing.rows.map((r) => [r.index, r.run, r.cellIndex, r.status]), [[0, 'a', 2, 'matched'], [1, 'b', 4, 'missing']]);
  assert.equal(summary(missing), 'Not reproduced: 1 of 2 matched (1 missing).');
  const extra = compareRuns([a], [a, { ...b, cellIndex: 5 }], tol0);
  assert.deepEqual(extra.rows.map((r) => [r.run, r.cellIndex, r.status]), [['a', 2, 'matched'], ['b', 5, 'extra']]);
  assert.equal(extra.ok, false);
  const shifted = compareRuns([a, b], [b], tol0);
  assert.deepEqual(shifted.rows.map((r) => r.status), ['drifted', 'missing'], 'a dropped first run shifts the rest');
  const nothing = compareRuns([], [], tol0);
  assert.deepEqual([nothing.ok, nothing.rows.length], [true, 0]);
});

test('names fall back to the id; numbers print with 6 significant digits', () => {
  const v = compareRuns([{ cellIndex: 0, record: { id: '0123456789abcdef', contentHash: 'h', metrics: {} } }], [], tol0);
  assert.equal(v.rows[0].run, '01234567');
  assert.equal(formatValue(0.97295358733), '0.972954');
  assert.equal(formatValue(-Infinity), '−∞');
  assert.equal(formatValue(undefined), '—');
});
