import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { testOnBackends } from '../testing/backends.js';
import { Rng } from '../random.js';
import { disposeParams, flatten } from '../params/params.js';
import { layerNorm } from './layer-norm.js';
import { initializers } from './init.js';
import { checkModuleGradients } from './gradcheck.js';

const GRAD_TOL = 2e-2;
const randn = (seed: number, shape: number[]): tf.Tensor => initializers.normal()(new Rng(seed), shape);

testOnBackends('layerNorm: PyTorch params, normalised rows, affine transform', () => {
  const before = tf.memory().numTensors;
  const m = layerNorm({ normalizedShape: 6 });
  const params = m.init(new Rng(0));
  assert.deepEqual([...flatten(params)].map(([k, v]) => [k, v.shape, [...v.dataSync()].every((e) => e === (k === 'weight' ? 1 : 0))]), [
    ['weight', [6], true],
    ['bias', [6], true],
  ]);
  const x = tf.tidy(() => tf.add(tf.mul(randn(1, [2, 3, 6]), 3), 5));
  const y = m.apply(params, x);
  assert.deepEqual(y.shape, [2, 3, 6]);
  const yv = y.dataSync();
  for (let row = 0; row < 6; row++) {
    const r = Array.from(yv.slice(row * 6, row * 6 + 6));
    const mean = r.reduce((a, b) => a + b, 0) / 6;
    const variance = r.reduce((a, b) => a + (b - mean) ** 2, 0) / 6;
    assert.ok(Math.abs(mean) < 1e-5 && Math.abs(variance - 1) < 1e-3, `row ${row}: mean ${mean} var ${variance}`);
  }
  // Affine: y = normed · weight + bias with non-trivial weight and bias, against a direct computation.
  const assign = (name: string, value: tf.Tensor): void => {
    (params[name] as tf.Variable).assign(value);
    value.dispose();
  };
  assign('weight', tf.tensor1d([1, 2, 3, -1, 0.5, 0]));
  assign('bias', tf.tensor1d([0, 1, 0, 1, 0, 1]));
  const z = m.apply(params, x);
  const xv = x.dataSync();
  const zv = z.dataSync();
  const w = [1, 2, 3, -1, 0.5, 0];
  const b = [0, 1, 0, 1, 0, 1];
  for (let row = 0; row < 6; row++) {
    const r = Array.from(xv.slice(row * 6, row * 6 + 6));
    const mean = r.reduce((a, c) => a + c, 0) / 6;
    const variance = r.reduce((a, c) => a + (c - mean) ** 2, 0) / 6;
    r.forEach((v, i) => assert.ok(Math.abs(zv[row * 6 + i] - (((v - mean) / Math.sqrt(variance + 1e-5)) * w[i] + b[i])) < 1e-4));
  }
  const plain = layerNorm({ normalizedShape: 6, elementwiseAffine: false });
  assert.deepEqual(plain.init(new Rng(0)), {});
  const p = plain.apply({}, x);
  assert.ok(Math.abs(p.dataSync()[0] - yv[0]) < 1e-6);
  const bad = randn(1, [2, 5]);
  assert.throws(() => m.apply(params, bad), /layerNorm: expected input of shape \[\.\.\., 6\]/);
  tf.dispose([x, y, z, p, bad]);
  disposeParams(params);
  assert.equal(tf.memory().numTensors, before);
});

testOnBackends('layerNorm: gradients match finite differences', () => {
  const before = tf.memory().numTensors;
  const m = layerNorm({ normalizedShape: 5 });
  const params = m.init(new Rng(0));
  for (const [name, seed] of [['weight', 3], ['bias', 4]] as const) {
    const value = randn(seed, [5]);
    (params[name] as tf.Variable).assign(value);
    value.dispose();
  }
  const x = randn(1, [2, 2, 5]);
  const results = checkModuleGradients(m, params, x);
  assert.deepEqual(results.map((r) => r.name), ['weight', 'bias', 'input']);
  for (const r of results) assert.ok(r.relError < GRAD_TOL, JSON.stringify(r));
  disposeParams(params);
  x.dispose();
  assert.equal(tf.memory().numTensors, before);
});
