/**
 * Verify beyond metrics, on the committed %%sweep record of notebooks/sweeps.ipynb and a
 * %%continual one: outcome (a trial's value, a decision), curves (the accuracy matrix) and config
 * differences by JSON Pointer, numbers within tolerance, volatile members aside.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RUN_RECORD_MIME, type RunRecord } from '../records';
import { comparePair, compareRuns } from './compare';
import { shortJson, valueDiffs } from './value-diffs';

function record(notebook: string, name: string): RunRecord {
  const file = path.resolve(__dirname, '../../../../../notebooks', notebook);
  const cells = (JSON.parse(fs.readFileSync(file, 'utf8')) as { cells: Array<{ outputs?: Array<{ data?: Record<string, unknown> }> }> }).cells;
  const all = cells.flatMap((c) => (c.outputs ?? []).map((o) => o.data?.[RUN_RECORD_MIME] as RunRecord | undefined));
  return all.find((r) => r?.name === name)!;
}

const exact = { rtol: 0, atol: 0 };
const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
const at = (r: RunRecord, cellIndex = 6) => ({ cellIndex, record: r });

test('valueDiffs: pointers to what differs, numbers within tolerance, arrays of another length whole, volatile members skipped', () => {
  const stored = { a: { b: [1, 2, 3], 'x/y': 'k' }, n: 1, id: 'one', timings: { totalMs: 1 } };
  const fresh = { a: { b: [1, 2.5, 3], 'x/y': 'k' }, n: 1.0001, id: 'two', timings: { totalMs: 9 }, extra: true };
  assert.deepEqual(valueDiffs(stored, fresh, '', exact).map((d) => d.path), ['/a/b/1', '/n', '/extra']);
  assert.deepEqual(valueDiffs(stored, fresh, '', { rtol: 0, atol: 0.001 }).map((d) => d.path), ['/a/b/1', '/extra']);
  assert.deepEqual(valueDiffs({ k: [1] }, { k: [1, 2] }, '/o', exact), [{ path: '/o/k', stored: [1], fresh: [1, 2] }]);
  assert.deepEqual(valueDiffs({ 'a/b~c': 1 }, { 'a/b~c': 2 }, '', exact)[0].path, '/a~1b~0c');
  assert.deepEqual(valueDiffs('NaN', 'NaN', '', exact), []);
  assert.equal(shortJson(0.123456789), '0.123457');
  assert.equal(shortJson(undefined), '—');
  assert.equal(shortJson('x'.repeat(100)).length, 60);
});

test("a sweep whose trial value and a decision changed drifts at those paths, though its metrics are equal", () => {
  const stored = record('sweeps.ipynb', 'asha');
  const fresh = copy(stored);
  fresh.contentHash = 'f'.repeat(64);
  const trials = (fresh.outcome as { trials: Array<{ value: number; segments: Array<{ record: { contentHash: string; metrics: { accuracy: number } } }> }> }).trials;
  trials[1].value += 0.01;
  trials[1].segments[0].record.contentHash = '0'.repeat(64);
  (fresh.outcome as { decisions: Array<{ reason: string }> }).decisions[0].reason = 'another reason';
  const row = comparePair(1, at(stored), at(fresh), exact);
  assert.deepEqual([row.status, row.kind], ['drifted', 'sweep']);
  assert.ok(row.metrics.every((m) => m.ok), 'metrics equal');
  assert.deepEqual(row.diffs.map((d) => d.path), ['/outcome/decisions/0/reason', '/outcome/trials/1/value'], "in the record's key order; a nested record's contentHash is not compared");
  assert.match(row.detail, /^outcome differs at 2 paths \(first \/outcome\/decisions\/0\/reason: "ranked 1 of 2 at rung 0 .*… → "another reason"\)$/);
  const within = comparePair(1, at(stored), at({ ...fresh, outcome: { ...copy(stored.outcome), trials: trials.map((t, i) => (i === 1 ? { ...t, segments: [] } : t)) } }), { rtol: 0.05, atol: 0 });
  assert.deepEqual(within.diffs.map((d) => d.path), ['/outcome/trials/1/segments'], 'the value is within 5 %, the segments array changed length');
  const same = comparePair(1, at(stored), at({ ...copy(stored), contentHash: 'e'.repeat(64) }), exact);
  assert.deepEqual([same.status, same.match, same.diffs], ['matched', 'tolerance', []]);
});

test('a continual run whose accuracy matrix changed drifts at the curve point; a changed config drifts too', () => {
  const stored = record('continual-split-mnist.ipynb', 'ewc_task');
  const fresh = copy(stored);
  fresh.contentHash = 'f'.repeat(64);
  (fresh.curves['matrix/exp2'].value as number[])[3] = 0.5;
  (fresh.config as { seed: number }).seed = 1;
  const v = compareRuns([at(stored)], [at(fresh)], exact);
  assert.equal(v.ok, false);
  assert.deepEqual(v.rows[0].kind, 'continual');
  assert.deepEqual(v.rows[0].diffs.map((d) => d.path), ['/config/seed', '/curves/matrix~1exp2/value/3']);
  assert.match(v.rows[0].detail, /^config differs at 1 path \(first \/config\/seed: 0 → 1\); curves differ at 1 path \(first \/curves\/matrix~1exp2\/value\/3: 0\.958 → 0\.5\)$/);
  assert.equal(compareRuns([at(stored)], [at({ ...copy(stored), contentHash: 'e'.repeat(64) })], exact).ok, true);
});
