import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { testOnBackends } from '../testing/backends.js';
import { Rng } from '../random.js';
import { linear } from '../nn/linear.js';
import { disposeParams, trainableVariables } from '../params/params.js';
import { adam } from '../train/optimizers.js';
import { hmlp } from './hmlp.js';
import { disposeTargets, outputRegularizer, snapshotTargets } from './output-regularizer.js';
import { entropyTaskInference, headEntropy } from './task-inference.js';

testOnBackends('entropy task inference: the least uncertain head wins, other units are masked', () => {
  tf.tidy(() => {
    const a = tf.tensor2d([[5, -5, 0, 0], [0.1, 0, 0, 0]]);
    const b = tf.tensor2d([[0, 0, 0.2, 0], [0, 0, 9, -9]]);
    const { logits, task } = entropyTaskInference([a, b], [{ lo: 0, hi: 2 }, { lo: 2, hi: 4 }]);
    assert.deepEqual(Array.from(task.dataSync()), [0, 1]);
    assert.deepEqual(Array.from(tf.argMax(logits, 1).dataSync()), [0, 2]);
    assert.ok(logits.dataSync()[2] < -1e8, 'units outside the chosen head are masked');
    assert.ok(Math.abs(headEntropy(tf.tensor2d([[0, 0]]), { lo: 0, hi: 2 }).dataSync()[0] - Math.log(2)) < 1e-6);
  });
});

testOnBackends('entropy task inference on a toy stream: a hypernetwork trained on two tasks recognises which task an input is from', async () => {
  // Task 0: inputs (u, ±1.5), classes by the sign of x₂, head units 0-1; task 1: inputs (±1.5, u), classes by the sign of x₁, units 2-3
  // (u small). Each task's decision boundary runs through the other task's inputs, so its network is confident on its own inputs only.
  // Task 1 trains under the output regulariser, so task 0's network survives it.
  const target = linear({ inFeatures: 2, outFeatures: 4 });
  const hnet = hmlp({ target, numCondEmbs: 2, layers: [16], condInSize: 4 });
  const params = hnet.init(new Rng(3));
  const rng = new Rng(4);
  const sample = (task: number, n: number): { x: number[][]; y: number[] } => {
    const x: number[][] = [];
    const y: number[] = [];
    for (let i = 0; i < n; i++) {
      const u = rng.normal() * 0.3;
      const v = rng.uniform() < 0.5 ? -1 : 1;
      x.push(task === 0 ? [u, 1.5 * v] : [1.5 * v, u]);
      y.push(task * 2 + (v > 0 ? 1 : 0));
    }
    return { x, y };
  };
  const optimizer = adam({ lr: 0.02 });
  for (let task = 0; task < 2; task++) {
    for (let t = 0; t < 2; t++) hnet.taskEmbedding(params, t).trainable = t === task;
    const variables = trainableVariables(params);
    const targets = snapshotTargets(hnet, params, task === 0 ? [] : [0]);
    for (let step = 0; step < 60; step++) {
      const { x, y } = sample(task, 32);
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => {
          const logits = tf.slice(target.apply(hnet.generate(params, task), tf.tensor2d(x)), [0, task * 2], [32, 2]);
          const ce = tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(y.map((c) => c - task * 2), 'int32'), 2), logits);
          return tf.add(ce, tf.mul(outputRegularizer(hnet, params, targets), 0.1)) as tf.Scalar;
        }, variables);
        optimizer.step({ variables, grads: variables.map((v) => grads[v.name]) }, 0.02);
      });
    }
    disposeTargets(targets);
  }
  let right = 0;
  for (let task = 0; task < 2; task++) {
    const { x } = sample(task, 50);
    const inferred = tf.tidy(() => {
      const input = tf.tensor2d(x);
      return entropyTaskInference([0, 1].map((t) => target.apply(hnet.generate(params, t), input)), [{ lo: 0, hi: 2 }, { lo: 2, hi: 4 }]).task.dataSync();
    });
    right += Array.from(inferred).filter((t) => t === task).length;
  }
  assert.ok(right / 100 > 0.9, `task inferred for ${right} of 100 inputs`);
  optimizer.dispose();
  disposeParams(params);
});
