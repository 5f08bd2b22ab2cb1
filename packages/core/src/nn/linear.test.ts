import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { maxAbsDiff, testOnBackends } from '../testing/backends.js';
import { Rng } from '../random.js';
import { disposeParams, flatten, type Params } from '../params/params.js';
import { linear, linearForward } from './linear.js';
import { initializers } from './init.js';
import { checkModuleGradients } from './gradcheck.js';

const GRAD_TOL = 2e-2;
const randn = (seed: number, shape: number[]): tf.Tensor => initializers.normal()(new Rng(seed), shape);

testOnBackends('linear: params in PyTorch layout and output shapes', () => {
  const before = tf.memory().numTensors;
  const m = linear({ inFeatures: 6, outFeatures: 4 });
  const params = m.init(new Rng(1));
  assert.equal(m.kind, 'linear');
  assert.deepEqual([...flatten(params)].map(([k, v]) => [k, v.shape]), [['weight', [4, 6]], ['bias', [4]]]);
  for (const shape of [[6], [3, 6], [2, 5, 6]]) {
    const x = randn(2, shape);
    const y = tf.tidy(() => m.apply(params, x));
    assert.deepEqual(y.shape, [...shape.slice(0, -1), 4]);
    tf.dispose([x, y]);
  }
  const noBias = linear({ inFeatures: 6, outFeatures: 4, bias: false });
  const p2 = noBias.init(new Rng(1));
  assert.deepEqual(Object.keys(p2), ['weight']);
  const x = randn(3, [2, 6]);
  const bad = randn(4, [2, 5]);
  assert.throws(() => m.apply(params, bad), /expected input of shape \[\.\.\., 6\]/);
  bad.dispose();
  // y = x·Wᵀ + b, element by element.
  const y = m.apply(params, x);
  const [w, b, xv, yv] = [params.weight as tf.Tensor, params.bias as tf.Tensor, x, y].map((t) => t.dataSync());
  for (let n = 0; n < 2; n++) {
    for (let o = 0; o < 4; o++) {
      let ref = b[o];
      for (let i = 0; i < 6; i++) ref += xv[n * 6 + i] * w[o * 6 + i];
      assert.ok(Math.abs(yv[n * 4 + o] - ref) < 1e-5);
    }
  }
  tf.dispose([x, y]);
  disposeParams(params);
  disposeParams(p2);
  assert.equal(tf.memory().numTensors, before);
});

testOnBackends('linear: PyTorch default init — weight and bias within ±1/√fan_in, deterministic', () => {
  const m = linear({ inFeatures: 400, outFeatures: 300 });
  const a = m.init(new Rng(5));
  const b = m.init(new Rng(5));
  const c = m.init(new Rng(6));
  const bound = 1 / Math.sqrt(400);
  for (const key of ['weight', 'bias']) {
    const values = (a[key] as tf.Tensor).dataSync();
    let maxAbs = 0;
    for (const v of values) maxAbs = Math.max(maxAbs, Math.abs(v));
    assert.ok(maxAbs <= bound && maxAbs > 0.95 * bound, `${key}: max |x| ${maxAbs}, bound ${bound}`);
    assert.deepEqual((b[key] as tf.Tensor).dataSync(), values, 'same seed, same bits');
    assert.notDeepEqual((c[key] as tf.Tensor).dataSync(), values);
  }
  [a, b, c].forEach(disposeParams);
});

testOnBackends('linear: gradients match finite differences (weight, bias, input)', () => {
  const before = tf.memory().numTensors;
  const m = linear({ inFeatures: 5, outFeatures: 3 });
  const params = m.init(new Rng(1));
  const x = randn(2, [2, 2, 5]);
  const results = checkModuleGradients(m, params, x);
  assert.deepEqual(results.map((r) => r.name), ['weight', 'bias', 'input']);
  for (const r of results) assert.ok(r.relError < GRAD_TOL, JSON.stringify(r));
  disposeParams(params);
  x.dispose();
  assert.equal(tf.memory().numTensors, before);
});

testOnBackends('linear: the check fails on a transposed weight gradient', () => {
  const m = linear({ inFeatures: 4, outFeatures: 4 });
  const params = m.init(new Rng(1));
  const x = randn(2, [3, 4]);
  const results = checkModuleGradients(m, params, x, { transformAnalytic: (name, g) => (name === 'weight' ? tf.transpose(g) : g) });
  const weight = results.find((r) => r.name === 'weight')!;
  assert.ok(weight.relError > 0.2, `a transposed gradient must fail the check: ${JSON.stringify(weight)}`);
  disposeParams(params);
  x.dispose();
});

testOnBackends('linear: custom gradient equals naive autodiff within 1e-5, leaks nothing', () => {
  const w = tf.variable(randn(1, [7, 9]));
  const b = tf.variable(randn(2, [7]));
  const x = tf.variable(randn(3, [2, 4, 9]));
  const r = randn(4, [2, 4, 7]);
  const before = tf.memory().numTensors;
  const custom = tf.variableGrads(() => tf.sum(tf.mul(linearForward(x, w, b), r)), [w, b, x]);
  const naive = tf.variableGrads(() => {
    const x2d = tf.reshape(x, [8, 9]);
    return tf.sum(tf.mul(tf.reshape(tf.add(tf.matMul(x2d, w, false, true), b), [2, 4, 7]), r));
  }, [w, b, x]);
  assert.ok(Math.abs(custom.value.dataSync()[0] - naive.value.dataSync()[0]) < 1e-4);
  for (const v of [w, b, x]) {
    const d = maxAbsDiff(custom.grads[v.name], naive.grads[v.name]);
    assert.ok(d < 1e-5, `${v.name}: max diff ${d}`);
  }
  const noBias = tf.variableGrads(() => tf.sum(tf.mul(linearForward(x, w), r)), [w, x]);
  const naiveNoBias = tf.variableGrads(() => tf.sum(tf.mul(tf.reshape(tf.matMul(tf.reshape(x, [8, 9]), w, false, true), [2, 4, 7]), r)), [w, x]);
  for (const v of [w, x]) assert.ok(maxAbsDiff(noBias.grads[v.name], naiveNoBias.grads[v.name]) < 1e-5);
  for (const g of [custom, naive, noBias, naiveNoBias]) tf.dispose([g.value, ...Object.values(g.grads)]);
  assert.equal(tf.memory().numTensors, before, 'grads leak nothing');
  tf.dispose(tf.tidy(() => linearForward(x, w, b)));
  tf.tidy(() => {
    linearForward(x, w, b);
  });
  assert.equal(tf.memory().numTensors, before, 'apply leaks nothing');
  tf.dispose([w, b, x, r]);
});

testOnBackends('linear: works with a plain-tensor params tree (hypernetwork output) and validates shapes', () => {
  const m = linear({ inFeatures: 3, outFeatures: 2 });
  const params = { weight: tf.ones([2, 3]), bias: tf.zeros([2]) } as unknown as Params;
  const x = tf.tensor2d([[1, 2, 3]]);
  const y = m.apply(params, x);
  assert.deepEqual([...y.dataSync()], [6, 6]);
  assert.throws(() => m.apply({} as Params, x), /linear: expected a tensor at 'weight'/);
  assert.throws(() => linearForward(x, tf.ones([2, 3]), tf.ones([3])), /bias must be \[2\]/);
  assert.throws(() => linear({ inFeatures: 0, outFeatures: 2 }), /positive integer/);
  tf.dispose([x, y, params.weight as tf.Tensor, params.bias as tf.Tensor]);
});
