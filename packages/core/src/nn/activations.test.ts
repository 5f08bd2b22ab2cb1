import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { testOnBackends } from '../testing/backends.js';
import { Rng } from '../random.js';
import { INFERENCE } from './module.js';
import { activationLayer, dropout, dropoutLayer, gelu, getActivation, relu, sigmoid, silu, softmax, tanh, type ActivationName } from './activations.js';
import { initializers } from './init.js';
import { checkModuleGradients } from './gradcheck.js';

const GRAD_TOL = 2e-2;
const near = (a: ArrayLike<number>, b: number[], tol = 1e-5): void => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i] - b[i]) < tol, `[${i}] ${a[i]} vs ${b[i]}`);
};

testOnBackends('activations: values at known points', () => {
  const before = tf.memory().numTensors;
  const x = tf.tensor1d([-2, -0.5, 0, 1, 3]);
  const xs = [-2, -0.5, 0, 1, 3];
  const erf = (v: number): number => {
    // Reference erf by series (|v| ≤ 3 here), accurate to ~1e-10.
    let sum = 0;
    let term = v;
    for (let n = 0; n < 80; n++) {
      sum += term / (2 * n + 1);
      term *= (-v * v) / (n + 1);
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  };
  const cases: Array<[string, (t: tf.Tensor) => tf.Tensor, (v: number) => number]> = [
    ['relu', relu, (v) => Math.max(v, 0)],
    ['gelu', (t) => gelu(t), (v) => 0.5 * v * (1 + erf(v / Math.SQRT2))],
    ['gelu tanh', (t) => gelu(t, 'tanh'), (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)))],
    ['silu', silu, (v) => v / (1 + Math.exp(-v))],
    ['tanh', tanh, Math.tanh],
    ['sigmoid', sigmoid, (v) => 1 / (1 + Math.exp(-v))],
  ];
  for (const [name, fn, ref] of cases) {
    const y = fn(x);
    near(y.dataSync(), xs.map(ref), name === 'gelu' ? 2e-6 : 1e-5);
    y.dispose();
  }
  // gelu(1): exact 0.8413447, tanh approximation 0.8411920 — the two really differ.
  const one = tf.scalar(1);
  const g = [gelu(one), gelu(one, 'tanh')];
  assert.ok(Math.abs(g[0].dataSync()[0] - 0.8413447) < 1e-6);
  assert.ok(Math.abs(g[1].dataSync()[0] - 0.841192) < 1e-6);
  tf.dispose([x, one, ...g]);
  assert.equal(tf.memory().numTensors, before);
});

testOnBackends('softmax: rows sum to one, on any axis', () => {
  const x = initializers.normal(2)(new Rng(1), [3, 4, 5]);
  for (const axis of [-1, 0, 1, 2]) {
    const y = softmax(x, axis);
    const sums = tf.sum(y, axis);
    near(sums.dataSync(), new Array(sums.size).fill(1), 1e-5);
    assert.deepEqual(y.shape, [3, 4, 5]);
    tf.dispose([y, sums]);
  }
  const y1 = softmax(x, 1);
  // Manual softmax along axis 1.
  const e = tf.exp(tf.sub(x, tf.max(x, 1, true)));
  const ref = tf.div(e, tf.sum(e, 1, true));
  near(y1.dataSync(), [...ref.dataSync()], 1e-6);
  assert.throws(() => softmax(x, 3), /out of range/);
  tf.dispose([x, y1, e, ref]);
});

testOnBackends('activations: gradients match finite differences', () => {
  const before = tf.memory().numTensors;
  // Keep inputs away from relu's kink at 0 so central differences are valid.
  const x = tf.tidy(() => {
    const raw = initializers.normal()(new Rng(3), [2, 6]);
    return tf.add(raw, tf.mul(tf.sign(raw), 0.05));
  });
  const names: ActivationName[] = ['relu', 'gelu', 'gelu_tanh', 'silu', 'tanh', 'sigmoid'];
  for (const name of names) {
    const [r] = checkModuleGradients(activationLayer(name), {}, x);
    assert.ok(r.relError < GRAD_TOL, `${name}: ${JSON.stringify(r)}`);
  }
  const soft = { kind: 'softmax', init: () => ({}), apply: (_p: unknown, t: tf.Tensor) => softmax(t, 0) };
  const [s] = checkModuleGradients(soft, {}, x);
  assert.ok(s.relError < GRAD_TOL, `softmax: ${JSON.stringify(s)}`);
  assert.throws(() => getActivation('swish' as ActivationName), /unknown activation 'swish'/);
  x.dispose();
  assert.equal(tf.memory().numTensors, before);
});

testOnBackends('dropout: identity in inference, scaled mask in training, reproducible', () => {
  const before = tf.memory().numTensors;
  const x = tf.fill([100, 100], 2);
  assert.equal(dropout(x, 0.3), x);
  assert.equal(dropout(x, 0.3, INFERENCE), x);
  assert.equal(dropout(x, 0, { training: true }), x, 'rate 0 needs no rng');
  assert.throws(() => dropout(x, 0.3, { training: true }), /ctx\.rng/);
  assert.throws(() => dropout(x, 1.5, INFERENCE), /rate must be in \[0, 1\]/);

  const y = dropout(x, 0.3, { training: true, rng: new Rng(9) });
  const values = y.dataSync();
  let kept = 0;
  for (const v of values) {
    if (v !== 0) {
      kept++;
      assert.ok(Math.abs(v - 2 / 0.7) < 1e-5, `kept values are scaled by 1/(1-p): ${v}`);
    }
  }
  assert.ok(Math.abs(kept / values.length - 0.7) < 0.02, `kept fraction ${kept / values.length}`);
  const again = dropout(x, 0.3, { training: true, rng: new Rng(9) });
  const other = dropout(x, 0.3, { training: true, rng: new Rng(10) });
  assert.deepEqual(again.dataSync(), values, 'same seed, same mask');
  assert.notDeepEqual(other.dataSync(), values);
  const all = dropout(x, 1, { training: true, rng: new Rng(1) });
  assert.ok(all.dataSync().every((v) => v === 0));
  tf.dispose([x, y, again, other, all]);
  assert.equal(tf.memory().numTensors, before);
});

testOnBackends('dropout: gradient is the same mask scaled by 1/(1-p)', () => {
  const x = initializers.normal()(new Rng(1), [4, 5]);
  const layer = dropoutLayer(0.5);
  assert.equal(layer.apply({}, x, INFERENCE), x);
  const [r] = checkModuleGradients(layer, {}, x, { ctx: () => ({ training: true, rng: new Rng(2) }) });
  assert.ok(r.relError < GRAD_TOL, JSON.stringify(r));
  x.dispose();
});
