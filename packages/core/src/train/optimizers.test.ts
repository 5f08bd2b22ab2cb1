import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { testOnBackends, maxAbsDiff } from '../testing/backends.js';
import { adam, adamw, sgd, type Optimizer } from './optimizers.js';

// Fixed gradients for three steps (independent of θ, so the expected values are plain arithmetic).
const THETA0 = [1, -2, 0.5];
const GRADS = [
  [1, 0.5, -2],
  [-1, 0.25, 3],
  [2, -0.5, 0.125],
];

/** Runs an optimizer over THETA0 with GRADS and returns θ after each step. */
function run(make: () => Optimizer, lrs?: number[]): number[][] {
  const theta = tf.variable(tf.tensor1d(THETA0));
  const opt = make();
  const out: number[][] = [];
  for (let i = 0; i < GRADS.length; i++) {
    const g = tf.tensor1d(GRADS[i]);
    opt.step(new Map([[theta, g]]), lrs?.[i]);
    g.dispose();
    out.push(Array.from(theta.dataSync()));
  }
  opt.dispose();
  theta.dispose();
  return out;
}

// PyTorch's formulas, in double precision, written out independently of the implementation.
function torchSgd(lr: number, momentum: number, nesterov: boolean, wd: number): number[][] {
  const theta = [...THETA0];
  const buf = [0, 0, 0];
  return GRADS.map((grad, t) =>
    theta.map((_, i) => {
      let d = grad[i] + wd * theta[i];
      if (momentum !== 0) {
        buf[i] = t === 0 ? d : momentum * buf[i] + d;
        d = nesterov ? d + momentum * buf[i] : buf[i];
      }
      theta[i] -= lr * d;
      return theta[i];
    }),
  );
}

function torchAdam(lr: number, b1: number, b2: number, eps: number, wd: number, decoupled: boolean): number[][] {
  const theta = [...THETA0];
  const m = [0, 0, 0];
  const v = [0, 0, 0];
  return GRADS.map((grad, t) => {
    const step = t + 1;
    return theta.map((_, i) => {
      let g = grad[i];
      if (decoupled) theta[i] *= 1 - lr * wd;
      else g += wd * theta[i];
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      const bc1 = 1 - b1 ** step;
      const bc2 = 1 - b2 ** step;
      theta[i] -= (lr / bc1) * (m[i] / (Math.sqrt(v[i]) / Math.sqrt(bc2) + eps));
      return theta[i];
    });
  });
}

function assertClose(actual: number[][], expected: number[][], tol = 2e-6): void {
  for (let s = 0; s < expected.length; s++) {
    const diff = maxAbsDiff(actual[s], expected[s]);
    assert.ok(diff <= tol * Math.max(1, ...expected[s].map(Math.abs)), `step ${s + 1}: got [${actual[s]}], want [${expected[s]}] (diff ${diff})`);
  }
}

testOnBackends('sgd: plain, momentum, nesterov, weight decay match PyTorch', () => {
  // Hand-computed first coordinate: θ0 = 1, g = 1, −1, 2; lr 0.1, μ 0.9.
  const plain = run(() => sgd({ lr: 0.1 }));
  assertClose(plain.map((row) => [row[0]]), [[0.9], [1.0], [0.8]]);
  const momentum = run(() => sgd({ lr: 0.1, momentum: 0.9 }));
  // b = 1, 0.9−1 = −0.1, −0.09+2 = 1.91 → θ = 0.9, 0.91, 0.719
  assertClose(momentum.map((row) => [row[0]]), [[0.9], [0.91], [0.719]]);
  assertClose(momentum, torchSgd(0.1, 0.9, false, 0));
  // Nesterov: g' = g + μ·b = 1.9, −1.09, 3.719 → θ = 0.81, 0.919, 0.5471
  const nesterov = run(() => sgd({ lr: 0.1, momentum: 0.9, nesterov: true }));
  assertClose(nesterov.map((row) => [row[0]]), [[0.81], [0.919], [0.5471]]);
  assertClose(nesterov, torchSgd(0.1, 0.9, true, 0));
  assertClose(run(() => sgd({ lr: 0.05, momentum: 0.5, weightDecay: 0.1 })), torchSgd(0.05, 0.5, false, 0.1));
  // Per-step learning rates override the configured one.
  assertClose(run(() => sgd({ lr: 1 }), [0.1, 0.1, 0.1]), plain);
});

testOnBackends('adam and adamw match PyTorch (bias correction, L2 vs decoupled decay)', () => {
  const a = run(() => adam({ lr: 0.1 }));
  // Hand computation, first coordinate: step 1 m̂ = 1, v̂ = 1 → θ = 1 − 0.1 = 0.9;
  // step 2 m = −0.01, v = 0.001999, m̂ = −0.01/0.19, v̂ = 1 → θ = 0.9 + 0.1·0.0526316 = 0.9052632.
  assertClose(a.slice(0, 2).map((row) => [row[0]]), [[0.9], [0.9052632]], 1e-6);
  assertClose(a, torchAdam(0.1, 0.9, 0.999, 1e-8, 0, false));
  assertClose(run(() => adam({ lr: 0.01, beta1: 0.8, beta2: 0.99, eps: 1e-3, weightDecay: 0.1 })), torchAdam(0.01, 0.8, 0.99, 1e-3, 0.1, false));
  // AdamW: θ ← θ(1 − lr·λ) first: step 1 → 1·(1 − 0.001) − 0.1 = 0.899.
  const w = run(() => adamw({ lr: 0.1 }));
  assertClose([[w[0][0]]], [[0.899]], 1e-6);
  assertClose(w, torchAdam(0.1, 0.9, 0.999, 1e-8, 0.01, true));
  assertClose(run(() => adamw({ lr: 0.05, weightDecay: 0.5 })), torchAdam(0.05, 0.9, 0.999, 1e-8, 0.5, true));
});

testOnBackends('optimizers own their slots, skip missing gradients, leak nothing', () => {
  const a = tf.variable(tf.tensor1d([1, 2]));
  const b = tf.variable(tf.tensor1d([3]));
  const before = tf.memory().numTensors;
  const opt = adam({ lr: 0.1 });
  const g = tf.tensor1d([0.5, -0.5]);
  opt.step({ variables: [a, b], grads: [g, null] });
  const afterFirst = tf.memory().numTensors;
  assert.equal(opt.numSlotTensors, 2, 'exp_avg and exp_avg_sq for a only');
  assert.equal(afterFirst, before + 1 + 2, 'the gradient plus two slots');
  for (let i = 0; i < 5; i++) opt.step(new Map([[a, g]]));
  assert.equal(tf.memory().numTensors, afterFirst);
  assert.deepEqual(Array.from(b.dataSync()), [3], 'no gradient, no update');
  const state = opt.state();
  assert.equal(state.kind, 'adam');
  assert.equal(state.iterations, 6);
  assert.equal(state.slots.length, 1);
  assert.equal(state.slots[0].variable, a);
  assert.equal(state.slots[0].step, 6);
  assert.deepEqual(Object.keys(state.slots[0].tensors), ['exp_avg', 'exp_avg_sq']);
  opt.dispose();
  g.dispose();
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => opt.step(new Map()), /after dispose/);
  assert.throws(() => sgd({ lr: 0.1, nesterov: true }), /nesterov requires momentum/);
  assert.throws(() => adam({ lr: 0.1, beta1: 1 }), /beta1/);
  a.dispose();
  b.dispose();
});

testOnBackends('load() continues another optimizer exactly, with this one\'s own learning rate', () => {
  for (const [name, make] of [
    ['adam', (lr: number) => adam({ lr })],
    ['adamw', (lr: number) => adamw({ lr, weightDecay: 0.1 })],
    ['sgd', (lr: number) => sgd({ lr, momentum: 0.9 })],
  ] as const) {
    // One optimizer through three steps with lrs 0.1, 0.1, 0.05 …
    const reference = run(() => make(0.1), [0.1, 0.1, 0.05]);
    // … against two steps at 0.1, the state loaded into a fresh optimizer configured with lr 0.05.
    const theta = tf.variable(tf.tensor1d(THETA0));
    const first = make(0.1);
    for (let i = 0; i < 2; i++) tf.tidy(() => first.step(new Map([[theta, tf.tensor1d(GRADS[i])]])));
    const second = make(0.05);
    second.load(first.state());
    first.dispose(); // the loaded slots are second's own
    assert.equal(second.iterations, 2);
    assert.equal(second.state().slots[0].step, 2, `${name}: the update count carries over (bias correction)`);
    tf.tidy(() => second.step(new Map([[theta, tf.tensor1d(GRADS[2])]])));
    assert.deepEqual(Array.from(theta.dataSync()), reference[2], `${name}: bit-identical to one optimizer`);
    second.dispose();
    theta.dispose();
  }
});

testOnBackends('load() names what does not fit and then changes nothing', () => {
  const a = tf.variable(tf.tensor1d([1, 2]));
  const opt = adam({ lr: 0.1 });
  tf.tidy(() => opt.step(new Map([[a, tf.tensor1d([0.5, 0.5])]])));
  const before = Array.from(opt.state().slots[0].tensors.exp_avg.dataSync());
  const zeros2 = tf.zeros([2]);
  const zeros3 = tf.zeros([3]);
  assert.throws(() => opt.load({ kind: 'sgd', iterations: 1, slots: [] }), /adam: cannot load the state of a sgd optimizer/);
  assert.throws(() => opt.load({ iterations: 1, slots: [{ variable: a, step: 1, tensors: { exp_avg: zeros2 } }] }), new RegExp(`state of ${a.name} has slots \\[exp_avg\\], expected \\[exp_avg, exp_avg_sq\\]`));
  assert.throws(() => opt.load({ iterations: 1, slots: [{ variable: a, step: 1, tensors: { exp_avg: zeros2, exp_avg_sq: zeros3 } }] }), new RegExp(`slot exp_avg_sq of ${a.name} is float32 \\[3\\], the variable float32 \\[2\\]`));
  assert.throws(() => opt.load({ iterations: 1, slots: [{ variable: a, step: 0.5, tensors: { exp_avg: zeros2, exp_avg_sq: zeros2 } }] }), /step count of .* must be an integer ≥ 0/);
  assert.deepEqual(Array.from(opt.state().slots[0].tensors.exp_avg.dataSync()), before, 'unchanged after the errors');
  assert.equal(opt.iterations, 1);
  const numTensors = tf.memory().numTensors;
  opt.load({ iterations: 0, slots: [] });
  assert.equal(opt.numSlotTensors, 0);
  assert.equal(tf.memory().numTensors, numTensors - 2, 'the replaced slots are freed');
  tf.dispose([zeros2, zeros3, a]);
  opt.dispose();
  assert.throws(() => opt.load({ iterations: 0, slots: [] }), /after dispose/);
});
