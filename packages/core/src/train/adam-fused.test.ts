import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { maxAbsDiff, testOnBackends } from '../testing/backends.js';
import { Rng } from '../random.js';
import { fusedAdam, type AdamAttrs } from './adam-fused.js';

const randn = (seed: number, shape: number[], scale = 1): tf.Tensor => tf.tensor(new Rng(seed).fillNormal(new Float32Array(shape.reduce((a, b) => a * b, 1)), 0, scale), shape);

/** The op-by-op update (optimizers.ts before fusion). */
function reference(p: tf.Tensor, g: tf.Tensor, m: tf.Tensor, v: tf.Tensor, a: AdamAttrs): tf.Tensor[] {
  return tf.tidy(() => {
    const nextM = tf.add(tf.mul(m, a.beta1), tf.mul(g, 1 - a.beta1));
    const nextV = tf.add(tf.mul(v, a.beta2), tf.mul(tf.mul(g, g), 1 - a.beta2));
    const denom = tf.add(tf.div(tf.sqrt(nextV), Math.sqrt(a.biasCorrection2)), a.eps);
    return [tf.sub(p, tf.mul(tf.div(nextM, denom), a.lr / a.biasCorrection1)), nextM, nextV];
  });
}

testOnBackends('fused Adam equals the op-by-op update and leaves its inputs untouched', (backend) => {
  const before = tf.memory().numTensors;
  if (backend === 'tensorflow') {
    // No fused kernel on tfjs-node: the optimizer takes the op-by-op path (TensorFlow's own Adam
    // ops update reference variables, which tfjs-node's eager tensors are not).
    const [p, g, m, v] = [1, 2, 3, 4].map((seed) => randn(seed, [3, 2]));
    const attrs: AdamAttrs = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, biasCorrection1: 0.1, biasCorrection2: 0.001 };
    assert.equal(fusedAdam(p, g, m, v, attrs), undefined);
    tf.dispose([p, g, m, v]);
    assert.equal(tf.memory().numTensors, before);
    return;
  }
  for (const t of [1, 2, 10]) {
    const attrs: AdamAttrs = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, biasCorrection1: 1 - 0.9 ** t, biasCorrection2: 1 - 0.999 ** t };
    const [p, g, m] = [randn(1, [37, 5]), randn(2, [37, 5]), randn(3, [37, 5], 0.1)];
    const v = tf.tidy(() => tf.abs(randn(4, [37, 5], 0.01)));
    const pBefore = p.dataSync().slice();
    const fused = fusedAdam(p, g, m, v, attrs);
    assert.ok(fused !== undefined, 'wasm and cpu have the fused kernel');
    const ref = reference(p, g, m, v, attrs);
    for (let i = 0; i < 3; i++) {
      const scale = Math.max(...Array.from(ref[i].dataSync(), Math.abs));
      assert.ok(maxAbsDiff(fused[i], ref[i]) <= 2e-6 * Math.max(1, scale), `output ${i} at t=${t}: ${maxAbsDiff(fused[i], ref[i])}`);
    }
    assert.deepEqual(p.dataSync(), pBefore, 'the parameter buffer is not written in place');
    tf.dispose([p, g, m, v, ...fused, ...ref]);
  }
  assert.equal(tf.memory().numTensors, before);
});
