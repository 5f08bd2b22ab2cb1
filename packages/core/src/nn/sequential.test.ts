import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { maxAbsDiff, testOnBackends } from '../testing/backends.js';
import { Rng } from '../random.js';
import { disposeParams, flatten, type Params } from '../params/params.js';
import { sequential } from './sequential.js';
import { linear } from './linear.js';
import { activationLayer, dropoutLayer } from './activations.js';
import { initializers } from './init.js';
import { checkModuleGradients } from './gradcheck.js';

const GRAD_TOL = 2e-2;
const randn = (seed: number, shape: number[]): tf.Tensor => initializers.normal()(new Rng(seed), shape);

testOnBackends('sequential: names, params and composition', () => {
  const before = tf.memory().numTensors;
  const indexed = sequential([linear({ inFeatures: 3, outFeatures: 4 }), activationLayer('silu'), dropoutLayer(0.2), linear({ inFeatures: 4, outFeatures: 2 })]);
  assert.deepEqual(Object.keys(indexed.children), ['0', '1', '2', '3']);
  const params = indexed.init(new Rng(1));
  assert.deepEqual([...flatten(params).keys()], ['0.weight', '0.bias', '3.weight', '3.bias']);
  const x = randn(2, [5, 3]);
  const y = indexed.apply(params, x);
  const ref = tf.tidy(() => {
    const h = indexed.children['0'].apply(params['0'] as Params, x);
    return indexed.children['3'].apply(params['3'] as Params, tf.mul(h, tf.sigmoid(h)));
  });
  assert.ok(maxAbsDiff(y, ref) < 1e-6);
  // Saved params drop empty subtrees; parameter-free layers still apply.
  const pruned: Params = { '0': params['0'], '3': params['3'] };
  const z = indexed.apply(pruned, x);
  assert.ok(maxAbsDiff(y, z) === 0);
  const named = sequential({ encoder: linear({ inFeatures: 3, outFeatures: 4 }), head: linear({ inFeatures: 4, outFeatures: 1 }) });
  const namedParams = named.init(new Rng(1));
  assert.deepEqual([...flatten(namedParams).keys()], ['encoder.weight', 'encoder.bias', 'head.weight', 'head.bias']);
  assert.throws(() => sequential([]), /at least one layer/);
  assert.throws(() => sequential({ 'a.b': linear({ inFeatures: 1, outFeatures: 1 }) }), /no '\.'/);
  assert.throws(() => named.apply({ encoder: namedParams.encoder }, x), /linear: expected a tensor at 'weight'/);
  tf.dispose([x, y, ref, z]);
  [params, namedParams].forEach(disposeParams);
  assert.equal(tf.memory().numTensors, before);
});

testOnBackends('sequential: gradients match finite differences', () => {
  const m = sequential([linear({ inFeatures: 3, outFeatures: 4 }), activationLayer('tanh'), linear({ inFeatures: 4, outFeatures: 2 })]);
  const params = m.init(new Rng(1));
  const x = randn(2, [3, 3]);
  const results = checkModuleGradients(m, params, x);
  assert.deepEqual(results.map((r) => r.name), ['0.weight', '0.bias', '2.weight', '2.bias', 'input']);
  for (const r of results) assert.ok(r.relError < GRAD_TOL, JSON.stringify(r));
  x.dispose();
  disposeParams(params);
});
