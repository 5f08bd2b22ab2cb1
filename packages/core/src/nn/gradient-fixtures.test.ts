import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import './gradient-fixtures.js';
import { testOnBackends } from '../testing/backends.js';
import { Rng } from '../random.js';
import { NN_GRADIENT_CONFIGS, registerNnGradients } from './gradient-fixtures.js';
import { checkGradients } from './gradcheck.js';

const GRAD_TOL = 2e-2;

testOnBackends('registered gradients: every config is registered, registration is idempotent', () => {
  for (const config of NN_GRADIENT_CONFIGS) assert.ok(tf.getGradient(config.kernelName), config.kernelName);
  assert.deepEqual(registerNnGradients(), []);
});

testOnBackends('registered gradients match finite differences, with broadcasting', (backend) => {
  const before = tf.memory().numTensors;
  const rng = new Rng(1);
  const v = (shape: number[], offset = 0): tf.Variable => {
    const t = tf.tensor(rng.fillNormal(new Float32Array(shape.reduce((a, b) => a * b, 1))), shape);
    const shifted = tf.add(t, offset);
    const out = tf.variable(shifted);
    tf.dispose([t, shifted]);
    return out;
  };
  const a = v([2, 3]);
  const b = v([3]);
  const pos = v([2, 3], 3); // positive, for log/sqrt/rsqrt/div
  const shifted = tf.tidy(() => tf.add(a, tf.mul(tf.sign(a), 0.05))); // away from relu's kink
  const kinkFree = tf.variable(shifted);
  shifted.dispose();
  const positive = tf.greater(a, 0);
  const m = v([2, 3, 4]);
  const n = v([2, 4, 3]);
  const img = v([1, 4, 4, 2]);
  const filter = v([2, 2, 2, 3]);
  const r = (shape: number[]): tf.Tensor => tf.tensor(new Rng(9).fillNormal(new Float32Array(shape.reduce((x, y) => x * y, 1))), shape);
  // Each case: a scalar function of some variables, weighted by a fixed random tensor.
  const cases: Array<[string, () => tf.Tensor, Record<string, tf.Variable>]> = [
    ['Add broadcast', () => tf.add(a, b), { a, b }],
    ['Sub broadcast', () => tf.sub(b, a), { a, b }],
    ['Multiply broadcast', () => tf.mul(a, b), { a, b }],
    ['RealDiv broadcast', () => tf.div(a, tf.add(tf.abs(b), 1)), { a }],
    ['RealDiv denominator', () => tf.div(b, pos), { b, pos }],
    ['SquaredDifference', () => tf.squaredDifference(a, b), { a, b }],
    ['Neg', () => tf.neg(a), { a }],
    ['Reshape', () => tf.reshape(m, [4, 6]), { m }],
    ['ExpandDims', () => tf.expandDims(a, 1), { a }],
    ['Transpose', () => tf.transpose(m, [2, 0, 1]), { m }],
    ['BatchMatMul', () => tf.matMul(m, n), { m, n }],
    ['BatchMatMul tA', () => tf.matMul(n, n, true, false), { n }],
    ['BatchMatMul tB', () => tf.matMul(m, m, false, true), { m }],
    ['BatchMatMul tA tB', () => tf.matMul(m, n, true, true), { m, n }],
    ['Sum', () => tf.sum(m, [0, 2]), { m }],
    ['Mean', () => tf.mean(m, -1, true), { m }],
    ['Square', () => tf.square(a), { a }],
    ['Sqrt', () => tf.sqrt(pos), { pos }],
    ['Rsqrt', () => tf.rsqrt(pos), { pos }],
    ['Exp', () => tf.exp(a), { a }],
    ['Log', () => tf.log(pos), { pos }],
    ['Relu', () => tf.relu(kinkFree), { kinkFree }],
    ['Tanh', () => tf.tanh(a), { a }],
    ['Sigmoid', () => tf.sigmoid(a), { a }],
    ['Erf', () => tf.erf(a), { a }],
    ['Softmax', () => tf.softmax(m), { m }],
    ['Select', () => tf.where(positive, tf.mul(a, 2), tf.mul(a, -3)), { a }],
    ['Cast', () => tf.cast(a, 'float32'), { a }],
    ['Identity', () => tf.clone(a), { a }],
    ['Conv2D input', () => tf.conv2d(img as tf.Tensor4D, filter as tf.Tensor4D, 1, 'same'), { img }],
  ];
  if (tf.getKernel(tf.Conv2DBackpropFilter, backend) !== undefined) {
    cases.push(['Conv2D filter', () => tf.conv2d(img as tf.Tensor4D, filter as tf.Tensor4D, 2, 'valid'), { filter }]);
  }
  for (const [name, fn, vars] of cases) {
    const weight = tf.tidy(() => r(fn().shape));
    const results = checkGradients(() => tf.sum(tf.mul(fn(), weight)), vars, { maxPerTensor: 12 });
    for (const res of results) assert.ok(res.relError < GRAD_TOL, `${name}: ${JSON.stringify(res)}`);
    weight.dispose();
  }
  tf.dispose([a, b, pos, kinkFree, positive, m, n, img, filter]);
  assert.equal(tf.memory().numTensors, before);
});
