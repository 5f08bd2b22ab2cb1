import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constant, cosine, linearWarmup, stepDecay } from './schedules.js';

const close = (a: number, b: number): void => assert.ok(Math.abs(a - b) < 1e-12, `${a} ≠ ${b}`);

test('constant and step decay', () => {
  assert.equal(constant(0.3)(0), 0.3);
  assert.equal(constant(0.3)(1e6), 0.3);
  const s = stepDecay({ lr: 1, every: 10, gamma: 0.5 });
  assert.deepEqual([0, 9, 10, 19, 20, 35].map(s), [1, 1, 0.5, 0.5, 0.25, 0.125]);
  assert.throws(() => stepDecay({ lr: 1, every: 0 }), /every/);
});

test('linear warm-up ramps to lr, then holds or hands over', () => {
  const w = linearWarmup({ lr: 1, warmupSteps: 4 });
  assert.deepEqual([0, 1, 2, 3, 4, 100].map(w), [0.25, 0.5, 0.75, 1, 1, 1]);
  const then = linearWarmup({ lr: 1, warmupSteps: 2, after: (step) => 1 / step });
  assert.deepEqual([0, 1, 2, 4].map(then), [0.5, 1, 0.5, 0.25]);
});

test('cosine with warm-up reaches the peak, decays to minLr and stays there', () => {
  const s = cosine({ lr: 1, totalSteps: 12, warmupSteps: 2, minLr: 0.1 });
  close(s(0), 0.5);
  close(s(1), 1);
  close(s(2), 1); // first decay step at the peak
  close(s(7), 0.1 + 0.9 * 0.5); // half-way: p = 5/10
  close(s(12), 0.1);
  close(s(50), 0.1);
  for (let i = 3; i < 12; i++) assert.ok(s(i) < s(i - 1));
  const noWarmup = cosine({ lr: 2, totalSteps: 4 });
  assert.deepEqual([0, 2, 4].map((i) => Number(noWarmup(i).toFixed(12))), [2, 1, 0]);
  assert.throws(() => cosine({ lr: 1, totalSteps: 5, warmupSteps: 5 }), /warmupSteps/);
});
