import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { maxAbsDiff, testOnBackends, useBackend } from '../testing/backends.js';
import { Rng } from '../random.js';
import { checkGradients } from '../nn/gradcheck.js';
import { startKernelTimer } from '../perf/kernel-timer.js';
import {
  BATCH_MATMUL,
  COLUMN_SUM,
  LINEAR,
  LINEAR_GRAD_INPUT,
  LINEAR_GRAD_WEIGHT,
  batchMatMulKernel,
  columnSumInto,
  fastKernelsAvailable,
  linearKernel,
  preparedWeightCount,
  preparedWeightShapes,
  transposeInto,
} from './matmul-fast.js';

const values = (seed: number, n: number): Float32Array => new Rng(seed).fillNormal(new Float32Array(n));
const randn = (seed: number, shape: number[]): tf.Tensor => tf.tensor(values(seed, shape.reduce((a, b) => a * b, 1)), shape);

test('transposeInto and columnSumInto (odd sizes, offsets)', () => {
  for (const [r, c] of [[1, 1], [3, 5], [4, 4], [7, 9], [13, 2]]) {
    const src = values(r * 31 + c, 3 + r * c);
    const dst = new Float32Array(2 + r * c);
    transposeInto(src, 3, r, c, dst, 2);
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) assert.equal(dst[2 + j * r + i], src[3 + i * c + j]);
    const sums = new Float32Array(c);
    columnSumInto(src.subarray(3), r, c, sums);
    for (let j = 0; j < c; j++) {
      let s = 0;
      for (let i = 0; i < r; i++) s += src[3 + i * c + j];
      assert.ok(Math.abs(sums[j] - s) < 1e-5, `${r}x${c} column ${j}`);
    }
  }
});

testOnBackends('fast kernels are registered for the backend', () => {
  assert.equal(fastKernelsAvailable(), true);
  for (const name of [LINEAR, LINEAR_GRAD_INPUT, LINEAR_GRAD_WEIGHT, COLUMN_SUM, BATCH_MATMUL]) {
    assert.ok(tf.getKernel(name, tf.getBackend()) != null, name);
    assert.ok(tf.getGradient(name) != null, `${name} gradient`);
  }
});

/** Runs `f` on the CPU backend and returns its values, then switches back. */
async function onCpu(f: () => tf.Tensor): Promise<Float32Array> {
  const back = tf.getBackend() as 'wasm' | 'cpu';
  await useBackend('cpu');
  const t = f();
  const out = t.dataSync() as Float32Array;
  t.dispose();
  await useBackend(back);
  return out;
}

testOnBackends('HyperLabLinear equals x·Wᵀ + b (naive, and the cpu backend), frozen or not', async () => {
  const before = tf.memory().numTensors;
  for (const [n, i, o] of [[5, 7, 3], [64, 96, 40], [1, 16, 1]]) {
    for (const withBias of [true, false]) {
      for (const frozen of [false, true]) {
        const x = randn(1, [n, i]);
        const w = randn(2, [o, i]);
        const b = withBias ? randn(3, [o]) : undefined;
        const y = linearKernel(x, w, b, frozen);
        const naive = tf.tidy(() => {
          const p = tf.matMul(x, w, false, true);
          return b ? tf.add(p, b) : p;
        });
        assert.deepEqual(y.shape, [n, o]);
        assert.ok(maxAbsDiff(y, naive) < 1e-4, `${n}x${i}x${o} bias=${withBias} frozen=${frozen}`);
        const ref = await onCpu(() => tf.tidy(() => linearKernel(randn(1, [n, i]), randn(2, [o, i]), withBias ? randn(3, [o]) : undefined, false)));
        assert.ok(maxAbsDiff(y, ref) < 1e-4, 'equals the cpu backend');
        tf.dispose([x, w, b, y, naive].filter((t): t is tf.Tensor => t !== undefined));
      }
    }
  }
  assert.equal(tf.memory().numTensors, before);
});

testOnBackends('HyperLabLinear gradients: equal naive autodiff and finite differences', () => {
  const x = tf.variable(randn(1, [6, 5]), true, 'fk.x');
  const w = tf.variable(randn(2, [4, 5]), true, 'fk.w');
  const b = tf.variable(randn(3, [4]), true, 'fk.b');
  const r = randn(4, [6, 4]);
  const before = tf.memory().numTensors;
  const fast = tf.variableGrads(() => tf.sum(tf.mul(linearKernel(x, w, b, false), r)), [x, w, b]);
  const naive = tf.variableGrads(() => tf.sum(tf.mul(tf.add(tf.matMul(x, w, false, true), b), r)), [x, w, b]);
  for (const v of [x, w, b]) assert.ok(maxAbsDiff(fast.grads[v.name], naive.grads[v.name]) < 1e-4, v.name);
  tf.dispose([fast.value, naive.value, ...Object.values(fast.grads), ...Object.values(naive.grads)]);
  assert.equal(tf.memory().numTensors, before, 'no leak');
  const results = checkGradients(() => tf.tidy(() => tf.sum(tf.mul(tf.tanh(linearKernel(x, w, b, false)), r)) as tf.Scalar), { x, w, b });
  for (const res of results) assert.ok(res.relError < 2e-2, JSON.stringify(res));
  tf.dispose([x, w, b, r]);
});

testOnBackends('HyperLabLinear second-order: gradient of a gradient matches naive autodiff', () => {
  const x = randn(1, [3, 4]);
  const w = randn(2, [2, 4]);
  const b = randn(3, [2]);
  // d/dx of sum(d/dw sum(lin(x, w)²)) — exercises the gradients of the gradient kernels.
  const inner = (lin: (x: tf.Tensor, w: tf.Tensor) => tf.Tensor) => (xx: tf.Tensor) => tf.sum(tf.square(tf.grad((ww: tf.Tensor) => tf.sum(tf.square(lin(xx, ww))))(w)));
  const fast = tf.grad(inner((xx, ww) => linearKernel(xx, ww, b, false)))(x);
  const naive = tf.grad(inner((xx, ww) => tf.add(tf.matMul(xx, ww, false, true), b)))(x);
  assert.ok(maxAbsDiff(fast, naive) < 1e-3, `max diff ${maxAbsDiff(fast, naive)}`);
  tf.dispose([x, w, b, fast, naive]);
});

testOnBackends('HyperLabLinear gradients are lazy: no dW for a frozen weight, no dx for a constant input', () => {
  const x = randn(1, [8, 6]);
  const owned = (t: tf.Tensor, trainable: boolean, name: string): tf.Variable => {
    const v = tf.variable(t, trainable, name);
    t.dispose();
    return v;
  };
  const w = owned(randn(2, [5, 6]), false, 'fk.frozenW');
  const bias = owned(randn(3, [5]), false, 'fk.frozenB');
  const a = owned(randn(4, [5, 5]), true, 'fk.a');
  const timer = startKernelTimer(tf.getBackend());
  try {
    // Only `a` is trained: the linear's inputs x, w, bias need no gradient at all.
    const g1 = tf.variableGrads(() => tf.sum(linearKernel(linearKernel(x, w, bias, true), a, undefined, false)), [a]);
    tf.dispose([g1.value, ...Object.values(g1.grads)]);
    const calls = (name: string): number => timer.report().find((r) => r.name === name)?.calls ?? 0;
    assert.equal(calls(LINEAR_GRAD_WEIGHT), 1, 'dW only for a');
    assert.equal(calls(LINEAR_GRAD_INPUT), 0, 'no dx: neither linear input needs one');
    assert.equal(calls(COLUMN_SUM), 0, 'no bias gradient: frozen');
  } finally {
    timer.stop();
  }
  tf.dispose([x, w, bias, a]);
});

testOnBackends('frozen weights: the prepared copy follows assign() and is freed with the weight', (backend) => {
  const baseline = preparedWeightCount();
  const x = randn(1, [4, 3]);
  const initial = randn(2, [2, 3]);
  const w = tf.variable(initial, false, 'fk.cacheW');
  initial.dispose(); // the variable keeps the buffer alive alone
  const y1 = linearKernel(x, w, undefined, true);
  assert.ok(maxAbsDiff(y1, tf.tidy(() => tf.matMul(x, w, false, true))) < 1e-5);
  const w2 = randn(5, [2, 3]);
  w.assign(w2);
  const y2 = linearKernel(x, w, undefined, true);
  const ref = tf.tidy(() => tf.matMul(x, w2, false, true));
  assert.ok(maxAbsDiff(y2, ref) < 1e-5, 'the new value is used, not the cached transpose');
  // A gradient through a frozen weight's input uses the prepared private copy.
  const gx = tf.grad((xx: tf.Tensor) => tf.sum(linearKernel(xx, w, undefined, true)))(x);
  const gxRef = tf.grad((xx: tf.Tensor) => tf.sum(tf.matMul(xx, w2, false, true)))(x);
  assert.ok(maxAbsDiff(gx, gxRef) < 1e-5);
  tf.dispose([x, y1, y2, ref, w2, gx, gxRef]);
  if (backend === 'wasm') assert.ok(preparedWeightCount() > baseline);
  w.dispose();
  assert.equal(preparedWeightCount(), baseline, 'prepared copies are freed once the weight is gone: ' + preparedWeightShapes().join('; '));
});

testOnBackends('HyperLabBatchMatMul: all transpose flags, small and large matrices, equals tf.matMul and the cpu backend', async () => {
  const before = tf.memory().numTensors;
  for (const [batch, m, k, n] of [[3, 2, 3, 4], [5, 32, 24, 40], [2, 64, 64, 64]]) {
    for (const tA of [false, true]) {
      for (const tB of [false, true]) {
        const a = randn(1, tA ? [batch, k, m] : [batch, m, k]);
        const b = randn(2, tB ? [batch, n, k] : [batch, k, n]);
        const y = batchMatMulKernel(a, b, tA, tB);
        const ref = tf.matMul(a, b, tA, tB);
        assert.deepEqual(y.shape, [batch, m, n]);
        assert.ok(maxAbsDiff(y, ref) < 1e-3, `${batch}x${m}x${k}x${n} tA=${tA} tB=${tB}: ${maxAbsDiff(y, ref)}`);
        const cpu = await onCpu(() => tf.tidy(() => batchMatMulKernel(randn(1, a.shape), randn(2, b.shape), tA, tB)));
        assert.ok(maxAbsDiff(y, cpu) < 1e-3, 'equals the cpu backend');
        tf.dispose([a, b, y, ref]);
      }
    }
  }
  assert.equal(tf.memory().numTensors, before);
});

testOnBackends('HyperLabBatchMatMul gradients: naive autodiff and finite differences, every flag', () => {
  for (const tA of [false, true]) {
    for (const tB of [false, true]) {
      // Large enough (m·k·n ≥ 16384) for the per-matrix path on WASM.
      const [batch, m, k, n] = [2, 32, 24, 32];
      const a = tf.variable(randn(1, tA ? [batch, k, m] : [batch, m, k]), true, `bmm.a.${tA}${tB}`);
      const b = tf.variable(randn(2, tB ? [batch, n, k] : [batch, k, n]), true, `bmm.b.${tA}${tB}`);
      const r = randn(3, [batch, m, n]);
      const fast = tf.variableGrads(() => tf.sum(tf.mul(batchMatMulKernel(a, b, tA, tB), r)), [a, b]);
      const naive = tf.variableGrads(() => tf.sum(tf.mul(tf.matMul(a, b, tA, tB), r)), [a, b]);
      for (const v of [a, b]) assert.ok(maxAbsDiff(fast.grads[v.name], naive.grads[v.name]) < 1e-3, `${v.name}`);
      tf.dispose([fast.value, naive.value, ...Object.values(fast.grads), ...Object.values(naive.grads)]);
      const results = checkGradients(() => tf.tidy(() => tf.sum(tf.mul(tf.tanh(tf.mul(batchMatMulKernel(a, b, tA, tB), 0.1)), r)) as tf.Scalar), { a, b }, { maxPerTensor: 8 });
      for (const res of results) assert.ok(res.relError < 2e-2, JSON.stringify(res));
      tf.dispose([a, b, r]);
    }
  }
});
