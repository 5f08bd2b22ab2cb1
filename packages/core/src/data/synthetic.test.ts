import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../random.js';
import { gaussianMixture, regression1d, sumGreaterThan } from './synthetic.js';

test('sumGreaterThan: U(0,1) features, label = sum > threshold, deterministic', () => {
  const data = sumGreaterThan({ n: 1000, rng: new Rng(1) });
  assert.equal(data.size, 1000);
  assert.deepEqual(data.featureShape, [20]);
  assert.equal(data.numClasses, 2);
  let ones = 0;
  for (let i = 0; i < data.size; i++) {
    let sum = 0;
    for (let j = 0; j < 20; j++) {
      const v = data.features[i * 20 + j];
      assert.ok(v >= 0 && v < 1);
      sum += v;
    }
    assert.equal(data.labels[i], sum > 10 ? 1 : 0);
    ones += data.labels[i];
  }
  assert.ok(ones > 400 && ones < 600, `roughly balanced: ${ones} ones`);
  assert.equal(sumGreaterThan({ n: 1000, rng: new Rng(1) }).fingerprint(), data.fingerprint());
  assert.notEqual(sumGreaterThan({ n: 1000, rng: new Rng(2) }).fingerprint(), data.fingerprint());
  const small = sumGreaterThan({ n: 50, features: 4, threshold: 1, rng: new Rng(3) });
  for (let i = 0; i < 50; i++) {
    const sum = small.features.subarray(i * 4, i * 4 + 4).reduce((a, b) => a + b, 0);
    assert.equal(small.labels[i], sum > 1 ? 1 : 0);
  }
});

test('regression1d: sine, polynomial and step tasks follow their function; seeded', () => {
  const sine = regression1d({ family: 'sine', n: 200, rng: new Rng(4) });
  const { amplitude, phase } = sine.task.params as { amplitude: number; phase: number };
  assert.ok(amplitude >= 0.1 && amplitude <= 5);
  assert.ok(phase >= 0 && phase <= Math.PI);
  assert.deepEqual(sine.featureShape, [1]);
  assert.deepEqual(sine.labelShape, [1]);
  assert.ok(sine.labels instanceof Float32Array);
  for (let i = 0; i < sine.size; i++) {
    const x = sine.features[i];
    assert.ok(x >= -5 && x < 5);
    assert.ok(Math.abs(sine.labels[i] - amplitude * Math.sin(x + phase)) < 1e-5);
  }
  // Same seed → same task and data; one rng used twice → two different tasks.
  assert.equal(regression1d({ family: 'sine', n: 200, rng: new Rng(4) }).fingerprint(), sine.fingerprint());
  const rng = new Rng(4);
  const t1 = regression1d({ family: 'sine', n: 10, rng });
  const t2 = regression1d({ family: 'sine', n: 10, rng });
  assert.notEqual(t1.task.params.amplitude, t2.task.params.amplitude);

  const poly = regression1d({ family: 'polynomial', n: 50, rng: new Rng(5), coefficients: [1, -2, 0.5] });
  for (let i = 0; i < poly.size; i++) {
    const x = poly.features[i];
    assert.ok(x >= -1 && x < 1);
    assert.ok(Math.abs(poly.labels[i] - (1 - 2 * x + 0.5 * x * x)) < 1e-5);
  }
  assert.equal((regression1d({ family: 'polynomial', n: 5, rng: new Rng(5), degree: 4 }).task.params.coefficients as number[]).length, 5);

  const step = regression1d({ family: 'step', n: 100, rng: new Rng(6), threshold: 0, low: -1, high: 2 });
  for (let i = 0; i < step.size; i++) assert.equal(step.labels[i], step.features[i] > 0 ? 2 : -1);

  const noisy = regression1d({ family: 'sine', n: 2000, rng: new Rng(7), noise: 0.1, amplitude: 1, phase: 0 });
  let sq = 0;
  for (let i = 0; i < noisy.size; i++) sq += (noisy.labels[i] - noisy.task.f(noisy.features[i])) ** 2;
  const std = Math.sqrt(sq / noisy.size);
  assert.ok(std > 0.09 && std < 0.11, `noise std ${std}`);
  // Fixing a task parameter does not change the inputs drawn.
  const drawn = regression1d({ family: 'sine', n: 20, rng: new Rng(8) });
  const fixed = regression1d({ family: 'sine', n: 20, rng: new Rng(8), amplitude: 2 });
  assert.deepEqual(fixed.features, drawn.features);
  assert.throws(() => regression1d({ family: 'cosine' as 'sine', n: 5, rng: new Rng(1) }), /unknown family "cosine"/);
});

test('gaussianMixture: balanced labels, separated orthogonal means, seeded', () => {
  const data = gaussianMixture({ n: 3000, classes: 3, dims: 5, separation: 4, rng: new Rng(9), std: 0.5 });
  assert.equal(data.numClasses, 3);
  assert.deepEqual(data.featureShape, [5]);
  const counts = [0, 0, 0];
  for (const l of data.labels) counts[l]++;
  assert.deepEqual(counts, [1000, 1000, 1000]);
  for (let a = 0; a < 3; a++) {
    assert.ok(Math.abs(Math.hypot(...data.means[a]) - 4) < 1e-5);
    for (let b = a + 1; b < 3; b++) {
      const dot = data.means[a].reduce((s, v, j) => s + v * data.means[b][j], 0);
      assert.ok(Math.abs(dot) < 1e-4, `means ${a} and ${b} are orthogonal`);
    }
  }
  // Class-conditional means are close to the drawn means; nearest-mean classification is near perfect.
  let correct = 0;
  for (let i = 0; i < data.size; i++) {
    const x = data.features.subarray(i * 5, i * 5 + 5);
    let best = 0;
    let bestDist = Infinity;
    data.means.forEach((m, c) => {
      const d = m.reduce((s, v, j) => s + (v - x[j]) ** 2, 0);
      if (d < bestDist) [best, bestDist] = [c, d];
    });
    if (best === data.labels[i]) correct++;
  }
  assert.ok(correct / data.size > 0.99, `nearest-mean accuracy ${correct / data.size}`);
  assert.equal(gaussianMixture({ n: 3000, classes: 3, dims: 5, separation: 4, rng: new Rng(9), std: 0.5 }).fingerprint(), data.fingerprint());
  assert.notEqual(gaussianMixture({ n: 3000, classes: 3, dims: 5, separation: 4, rng: new Rng(10), std: 0.5 }).fingerprint(), data.fingerprint());
  const many = gaussianMixture({ n: 10, classes: 4, dims: 2, separation: 1, rng: new Rng(1) });
  assert.equal(many.means.length, 4);
});
