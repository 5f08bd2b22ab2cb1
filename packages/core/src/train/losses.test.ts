import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { testOnBackends, maxAbsDiff } from '../testing/backends.js';
import { bceWithLogits, meanSquaredError, resolveLoss, softmaxCrossEntropy } from './losses.js';
import { clipByGlobalNorm, clipByValue, globalNorm } from './clip.js';
import { accuracy, evaluate, type Batch } from './metrics.js';
import type { Module } from '../nn/module.js';

const scalar = (t: tf.Tensor): number => {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
};

testOnBackends('softmax cross-entropy: hand computation, stability, soft labels, gradient', () => {
  const before = tf.memory().numTensors;
  const logits = tf.tensor2d([
    [1, 2, 3],
    [1, 1, 1],
  ]);
  const labels = tf.tensor1d([2, 0], 'int32');
  // Row 1: log(e + e² + e³) − 3; row 2: log 3.
  const expected = (Math.log(Math.E + Math.E ** 2 + Math.E ** 3) - 3 + Math.log(3)) / 2;
  assert.ok(Math.abs(scalar(softmaxCrossEntropy(logits, labels)) - expected) < 1e-6);
  assert.ok(Math.abs(scalar(resolveLoss('cross-entropy')(logits, labels)) - expected) < 1e-6);
  const oneHot = tf.tensor2d([
    [0, 0, 1],
    [1, 0, 0],
  ]);
  assert.ok(Math.abs(scalar(softmaxCrossEntropy(logits, oneHot)) - expected) < 1e-6);
  // Gradient: (softmax − onehot) / batch.
  const grad = tf.grad((z: tf.Tensor) => softmaxCrossEntropy(z, labels))(logits);
  const softmax = [[1, 2, 3].map((z) => Math.exp(z) / (Math.E + Math.E ** 2 + Math.E ** 3)), [1 / 3, 1 / 3, 1 / 3]];
  const want = [softmax[0][0] / 2, softmax[0][1] / 2, (softmax[0][2] - 1) / 2, (softmax[1][0] - 1) / 2, softmax[1][1] / 2, softmax[1][2] / 2];
  assert.ok(maxAbsDiff(grad, want) < 1e-6);
  // Large logits stay finite: log-sum-exp subtracts the maximum.
  const big = tf.tensor2d([
    [1000, 0, -1000],
    [1000, 0, -1000],
  ]);
  const bigLabels = tf.tensor1d([0, 1], 'int32');
  assert.ok(Math.abs(scalar(softmaxCrossEntropy(big, bigLabels)) - 500) < 1e-3);
  assert.throws(() => softmaxCrossEntropy(logits, tf.tensor1d([1, 2, 3], 'int32')), /fit neither/);
  tf.dispose([logits, labels, oneHot, grad, big, bigLabels]);
  assert.ok(tf.memory().numTensors <= before + 1); // the thrown case's label tensor
});

testOnBackends('mse and bce-with-logits match their formulas', () => {
  const x = tf.tensor1d([-2, 0, 3]);
  const y = tf.tensor1d([0, 1, 0.5]);
  const xs = [-2, 0, 3];
  const ys = [0, 1, 0.5];
  const bce = xs.reduce((s, v, i) => s + Math.log1p(Math.exp(v)) - v * ys[i], 0) / 3;
  assert.ok(Math.abs(scalar(bceWithLogits(x, y)) - bce) < 1e-6);
  const big = tf.tensor1d([200, -200]);
  const bigY = tf.tensor1d([0, 0]);
  assert.ok(Math.abs(scalar(bceWithLogits(big, bigY)) - 100) < 1e-3, 'stable for large logits');
  const mse = xs.reduce((s, v, i) => s + (v - ys[i]) ** 2, 0) / 3;
  assert.ok(Math.abs(scalar(meanSquaredError(x, y)) - mse) < 1e-6);
  tf.dispose([x, y, big, bigY]);
});

testOnBackends('clip by global norm (as clip_grad_norm_) and by value', () => {
  const before = tf.memory().numTensors;
  const a = tf.tensor1d([3, 4]);
  const b = tf.tensor1d([12]);
  const norm = globalNorm([a, null, b]);
  assert.ok(Math.abs(scalar(norm) - 13) < 1e-5);
  const clipped = clipByGlobalNorm([a, null, b], 6.5);
  assert.ok(Math.abs(scalar(clipped.norm) - 13) < 1e-5);
  assert.equal(clipped.grads[1], null);
  const coef = 6.5 / (13 + 1e-6);
  assert.ok(maxAbsDiff(clipped.grads[0]!, [3 * coef, 4 * coef]) < 1e-6);
  assert.ok(maxAbsDiff(clipped.grads[2]!, [12 * coef]) < 1e-6);
  const loose = clipByGlobalNorm([a, b], 100);
  assert.ok(maxAbsDiff(loose.grads[0]!, a) === 0, 'below the limit: unchanged');
  const byValue = clipByValue([a, undefined, b], 3.5);
  assert.deepEqual(Array.from(byValue[0]!.dataSync()), [3, 3.5]);
  assert.equal(byValue[1], undefined);
  tf.dispose([...clipped.grads, ...loose.grads, loose.norm, ...byValue].filter((t): t is tf.Tensor => t != null));
  tf.dispose([a, b]);
  assert.equal(tf.memory().numTensors, before);
});

const identity: Module = { kind: 'identity', init: () => ({}), apply: (_params, x) => x };

testOnBackends('accuracy and evaluate average over examples without leaks', async () => {
  const logits = tf.tensor2d([
    [2, 1],
    [0, 3],
    [5, 1],
  ]);
  assert.ok(Math.abs(scalar(accuracy(logits, tf.tensor1d([0, 1, 1], 'int32'))) - 2 / 3) < 1e-6);
  assert.equal(scalar(accuracy(tf.tensor1d([-1, 2]), tf.tensor1d([0, 1]))), 1, 'binary logits');
  assert.equal(scalar(accuracy(logits, tf.tensor2d([[1, 0], [0, 1], [1, 0]]))), 1, 'one-hot labels');
  logits.dispose();
  const before = tf.memory().numTensors;
  const batches = function* (): Generator<Batch> {
    yield { x: tf.tensor2d([[2, 1], [0, 3], [5, 1]]), y: tf.tensor1d([0, 1, 1], 'int32') }; // 2 of 3
    yield { x: tf.tensor2d([[0, 1]]), y: tf.tensor1d([0], 'int32') }; // 0 of 1
  };
  const result = await evaluate(identity, {}, batches(), { acc: 'accuracy', ce: 'cross-entropy' });
  assert.ok(Math.abs(result.acc - 0.5) < 1e-7, `weighted by batch size: ${result.acc}`);
  const ce = [Math.log1p(Math.exp(-1)), Math.log1p(Math.exp(-3)), Math.log1p(Math.exp(4)), Math.log1p(Math.exp(1))];
  assert.ok(Math.abs(result.ce - ce.reduce((s, v) => s + v) / 4) < 1e-6);
  const asList = await evaluate(identity, {}, batches(), ['accuracy']);
  assert.deepEqual(Object.keys(asList), ['accuracy']);
  assert.equal(tf.memory().numTensors, before);
});
