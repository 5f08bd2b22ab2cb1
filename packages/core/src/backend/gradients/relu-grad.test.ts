import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { testOnBackends } from '../../testing/backends.js';
import { startKernelTimer } from '../../perf/kernel-timer.js';
import { RELU_GRAD } from './relu-grad.js';

testOnBackends('relu gradient: dy where x > 0, 0 where x <= 0 (zeros included), one native op on tensorflow', (backend) => {
  const x = tf.tensor2d([[-2, -0.5, 0, 0.25], [1, 3, -1e-7, 1e-7]]);
  const r = tf.tensor2d([[1, 2, 3, 4], [5, 6, 7, 8]]);
  const before = tf.memory().numTensors;
  const timer = startKernelTimer(tf.getBackend());
  let calls: number;
  try {
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.relu(v), r)))(x);
    assert.deepEqual(Array.from(g.dataSync()), [0, 0, 0, 4, 5, 6, 0, 8]);
    g.dispose();
    calls = timer.report().find((row) => row.name === RELU_GRAD)?.calls ?? 0;
  } finally {
    timer.stop();
  }
  assert.equal(calls, backend === 'tensorflow' ? 1 : 0, 'HyperLabReluGrad runs on tensorflow only');
  assert.equal(tf.memory().numTensors, before, 'no leak');
  // Second order through the fallback formula still works (d/dx of relu' is 0 almost everywhere).
  const gg = tf.grad((v: tf.Tensor) => tf.sum(tf.grad((w: tf.Tensor) => tf.sum(tf.square(tf.relu(w))))(v)))(x);
  assert.deepEqual(Array.from(gg.dataSync()), [0, 0, 0, 2, 2, 2, 0, 2]);
  tf.dispose([x, r, gg]);
});
