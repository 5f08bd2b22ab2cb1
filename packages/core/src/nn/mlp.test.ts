import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { maxAbsDiff, testOnBackends } from '../testing/backends.js';
import { Rng } from '../random.js';
import { countParams, disposeParams, flatten, setTrainable } from '../params/params.js';
import { findModules, INFERENCE, type Module } from './module.js';
import { mlp } from './mlp.js';
import { initializers } from './init.js';
import { checkModuleGradients } from './gradcheck.js';

const GRAD_TOL = 2e-2;
const randn = (seed: number, shape: number[]): tf.Tensor => initializers.normal()(new Rng(seed), shape);

testOnBackends('mlp: [784, 100, 10] has linears 0 and 1, params under their names, output [batch, 10]', () => {
  const before = tf.memory().numTensors;
  const m = mlp({ sizes: [784, 100, 10] });
  assert.equal(m.kind, 'mlp');
  assert.deepEqual(Object.keys(m.children), ['0', '1']);
  assert.deepEqual(findModules(m).map((e) => `${e.path}:${e.module.kind}`), [':mlp', '0:linear', '1:linear']);
  const params = m.init(new Rng(1));
  assert.deepEqual([...flatten(params)].map(([k, v]) => `${k}:${v.shape.join('x')}`), ['0.weight:100x784', '0.bias:100', '1.weight:10x100', '1.bias:10']);
  assert.equal(countParams(params).all, 784 * 100 + 100 + 100 * 10 + 10);
  const x = randn(2, [5, 784]);
  const y = m.apply(params, x);
  assert.deepEqual(y.shape, [5, 10]);
  tf.dispose([x, y]);
  disposeParams(params);
  assert.equal(tf.memory().numTensors, before);
});

testOnBackends('mlp: layers draw from independent forks; same seed gives identical params', () => {
  const a = mlp({ sizes: [4, 6, 3] }).init(new Rng(3));
  const b = mlp({ sizes: [4, 6, 3] }).init(new Rng(3));
  const deeper = mlp({ sizes: [4, 6, 3, 2] }).init(new Rng(3));
  for (const [path, v] of flatten(a)) assert.deepEqual(flatten(b).get(path)!.dataSync(), v.dataSync(), path);
  // Adding a layer does not change the first layer's initial values.
  assert.deepEqual(flatten(deeper).get('0.weight')!.dataSync(), flatten(a).get('0.weight')!.dataSync());
  [a, b, deeper].forEach(disposeParams);
});

testOnBackends('mlp: equals the manual composition, with the activation only between layers', () => {
  const m = mlp({ sizes: [3, 4, 2], activation: 'tanh' });
  const params = m.init(new Rng(1));
  const x = randn(2, [6, 3]);
  const y = m.apply(params, x);
  const ref = tf.tidy(() => m.children['1'].apply(params['1'] as never, tf.tanh(m.children['0'].apply(params['0'] as never, x))));
  assert.ok(maxAbsDiff(y, ref) < 1e-6);
  tf.dispose([x, y, ref]);
  disposeParams(params);
});

testOnBackends('mlp: apply calls whichever child is in children at call time', () => {
  const m = mlp({ sizes: [3, 4, 2] });
  const params = m.init(new Rng(1));
  const x = randn(2, [2, 3]);
  const original = m.children['1'];
  let calls = 0;
  const wrapper: Module = {
    kind: 'wrapped',
    init: (rng) => original.init(rng),
    apply: (p, h, ctx) => {
      calls++;
      return tf.mul(original.apply(p, h, ctx), 0);
    },
  };
  m.children['1'] = wrapper;
  const y = m.apply(params, x);
  assert.equal(calls, 1);
  assert.ok(y.dataSync().every((v) => v === 0));
  // Unbound apply (passed as a callback) still works.
  const apply = m.apply;
  const y2 = apply(params, x);
  assert.equal(calls, 2);
  m.children['1'] = original;
  tf.dispose([x, y, y2]);
  disposeParams(params);
});

testOnBackends('mlp: gradients match finite differences, frozen layers get none', () => {
  const before = tf.memory().numTensors;
  for (const activation of ['gelu', 'tanh'] as const) {
    const m = mlp({ sizes: [4, 5, 3], activation });
    const params = m.init(new Rng(1));
    const x = randn(2, [3, 4]);
    const results = checkModuleGradients(m, params, x, { maxPerTensor: 12 });
    assert.deepEqual(results.map((r) => r.name), ['0.weight', '0.bias', '1.weight', '1.bias', 'input']);
    for (const r of results) assert.ok(r.relError < GRAD_TOL, `${activation} ${JSON.stringify(r)}`);
    setTrainable(params, ['0'], false);
    const frozen = checkModuleGradients(m, params, x, { maxPerTensor: 6, checkInput: false });
    assert.deepEqual(frozen.map((r) => r.name), ['1.weight', '1.bias']);
    disposeParams(params);
    x.dispose();
  }
  assert.equal(tf.memory().numTensors, before);
});

testOnBackends('mlp: dropout between layers is active only in training and reproducible', () => {
  const m = mlp({ sizes: [8, 32, 4], dropout: 0.5 });
  const params = m.init(new Rng(1));
  const x = randn(2, [4, 8]);
  const [i1, i2] = [m.apply(params, x, INFERENCE), m.apply(params, x)];
  assert.ok(maxAbsDiff(i1, i2) === 0);
  const t1 = m.apply(params, x, { training: true, rng: new Rng(5) });
  const t2 = m.apply(params, x, { training: true, rng: new Rng(5) });
  const t3 = m.apply(params, x, { training: true, rng: new Rng(6) });
  assert.ok(maxAbsDiff(t1, t2) === 0);
  assert.ok(maxAbsDiff(t1, t3) > 0);
  assert.ok(maxAbsDiff(t1, i1) > 0);
  assert.throws(() => m.apply(params, x, { training: true }), /ctx\.rng/);
  assert.throws(() => mlp({ sizes: [3] }), /at least an input and an output/);
  tf.dispose([x, i1, i2, t1, t2, t3]);
  disposeParams(params);
});
