import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dint90Search, logGrid } from './dint90.js';

// A synthetic monotone accuracy curve: acc(d) = 0.98·(1 − e^(−d/200)). With fullAccuracy 0.98 and
// threshold 0.9 the target is 0.882, reached first at d ≥ 200·ln 10 = 460.5, i.e. d = 461.
const accuracy = (d: number): number => 0.98 * (1 - Math.exp(-d / 200));

test('dint90Search (search mode): log grid then bisection finds the first d reaching 90 % of the full accuracy, with every d tried in the trace', async () => {
  const asked: number[] = [];
  const seen: number[] = [];
  const result = await dint90Search({
    train: async (d) => {
      asked.push(d);
      return accuracy(d);
    },
    fullAccuracy: 0.98,
    lo: 10,
    hi: 5000,
    tolerance: 0,
    onTrial: (trial) => seen.push(trial.d),
  });
  assert.equal(result.dint90, 461);
  assert.equal(result.lowerBound, 460);
  assert.ok(Math.abs(result.target - 0.882) < 1e-12);
  assert.deepEqual(result.trace.map((t) => t.d), asked, 'the trace is every d trained, in order');
  assert.deepEqual(seen, asked);
  assert.equal(new Set(asked).size, asked.length, 'no d trained twice');
  // The grid stops at the first point that reaches (640 = 10·2⁶); bisection then works in (320, 640).
  assert.deepEqual(result.trace.filter((t) => t.phase === 'grid').map((t) => t.d), [10, 20, 40, 80, 160, 320, 640]);
  assert.ok(result.trace.filter((t) => t.phase === 'bisect').every((t) => t.d > 320 && t.d < 640));
  assert.ok(result.trace.length < 7 + 12, `${result.trace.length} trainings`);
  for (const t of result.trace) assert.equal(t.reached, t.accuracy >= result.target);
  assert.deepEqual(result.curve.map((t) => t.d), [...asked].sort((a, b) => a - b));
  // With the default 5 % tolerance the answer is within 5 % above the true one.
  const coarse = await dint90Search({ train: accuracy, fullAccuracy: 0.98, lo: 10, hi: 5000 });
  assert.ok(coarse.dint90! >= 461 && coarse.dint90! <= 461 * 1.05 && coarse.dint90! / coarse.lowerBound! <= 1.05, `${coarse.lowerBound} … ${coarse.dint90}`);
});

test('dint90Search (grid mode): trains every candidate in increasing order and returns the smallest reaching the target', async () => {
  const result = await dint90Search({ train: accuracy, fullAccuracy: 0.98, candidates: [1000, 100, 300, 500, 750, 450] });
  assert.deepEqual(result.trace.map((t) => t.d), [100, 300, 450, 500, 750, 1000]);
  assert.equal(result.dint90, 500);
  assert.equal(result.lowerBound, 450);
  const first = await dint90Search({ train: accuracy, fullAccuracy: 0.98, candidates: [100, 300, 500, 750, 1000], stopAtFirst: true });
  assert.deepEqual(first.trace.map((t) => t.d), [100, 300, 500]);
  // A different threshold moves the answer: 50 % of 0.98 is reached first at d ≥ 200·ln(1/0.5) ≈ 138.6.
  const half = await dint90Search({ train: accuracy, fullAccuracy: 0.98, threshold: 0.5, lo: 1, hi: 1000, tolerance: 0 });
  assert.equal(half.dint90, 139);
});

test('dint90Search: unreached and trivially reached targets, and bad options', async () => {
  const never = await dint90Search({ train: () => 0.5, fullAccuracy: 0.98, lo: 10, hi: 100 });
  assert.equal(never.dint90, undefined);
  assert.equal(never.lowerBound, 100);
  assert.deepEqual(never.trace.map((t) => t.d), [10, 20, 40, 80, 100]);
  const always = await dint90Search({ train: () => 0.97, fullAccuracy: 0.98, lo: 10, hi: 100 });
  assert.equal(always.dint90, 10);
  assert.equal(always.trace.length, 1);
  assert.deepEqual(logGrid(750, 750), [750]);
  assert.deepEqual(logGrid(10, 35, 1.5), [10, 15, 23, 34, 35]);
  await assert.rejects(dint90Search({ train: accuracy, fullAccuracy: 0.98 }), /give either candidates \(grid mode\) or lo and hi/);
  await assert.rejects(dint90Search({ train: accuracy, fullAccuracy: 0.98, candidates: [10], lo: 1, hi: 5 }), /give either candidates/);
  await assert.rejects(dint90Search({ train: accuracy, fullAccuracy: 0.98, lo: 50, hi: 10 }), /1 ≤ lo ≤ hi, got lo = 50, hi = 10/);
  await assert.rejects(dint90Search({ train: accuracy, fullAccuracy: 0, lo: 1, hi: 10 }), /fullAccuracy must be a positive number/);
  await assert.rejects(dint90Search({ train: () => Number.NaN, fullAccuracy: 0.9, candidates: [3] }), /train\(3\) must resolve to an accuracy/);
});
