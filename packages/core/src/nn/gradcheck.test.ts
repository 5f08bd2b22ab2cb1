import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { testOnBackends } from '../testing/backends.js';
import { Rng } from '../random.js';
import { checkGradients } from './gradcheck.js';
import { initializers } from './init.js';

testOnBackends('checkGradients: passes a right gradient, fails wrong ones, restores variables, leaks nothing', () => {
  const wInit = initializers.normal()(new Rng(1), [3, 3]);
  const xInit = initializers.normal()(new Rng(2), [4, 3]);
  const w = tf.variable(wInit);
  const x = tf.variable(xInit);
  tf.dispose([wInit, xInit]);
  const original = w.dataSync().slice();
  const before = tf.memory().numTensors;
  // f = sum(tanh(x·W)²): smooth, every entry matters.
  const f = (): tf.Scalar => tf.sum(tf.square(tf.tanh(tf.matMul(x, w))));
  const good = checkGradients(f, { w, x });
  for (const r of good) assert.ok(r.relError < 2e-2, JSON.stringify(r));
  assert.deepEqual(w.dataSync(), original, 'variables are restored');
  const wrong = (transform: (g: tf.Tensor) => tf.Tensor): number =>
    checkGradients(f, { w }, { transformAnalytic: (_n, g) => transform(g) })[0].relError;
  assert.ok(wrong((g) => tf.transpose(g)) > 0.2, 'transposed');
  assert.ok(wrong((g) => tf.mul(g, 1.1)) > 0.05, 'scaled by 1.1');
  assert.ok(wrong((g) => tf.neg(g)) > 1, 'negated');
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([w, x]);
});
