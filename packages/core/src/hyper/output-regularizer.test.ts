import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { testOnBackends } from '../testing/backends.js';
import { Rng } from '../random.js';
import { mlp } from '../nn/mlp.js';
import { disposeParams, trainableVariables } from '../params/params.js';
import { adam } from '../train/optimizers.js';
import { chunkedHmlp } from './chunked-hmlp.js';
import { disposeTargets, outputRegularizer, snapshotTargets } from './output-regularizer.js';

testOnBackends('output regulariser: zero before the first update of a new task, positive after; old embeddings get no gradient', () => {
  const before = tf.memory().numTensors;
  const target = mlp({ sizes: [4, 6, 2] });
  const hnet = chunkedHmlp({ target, numCondEmbs: 3, layers: [8], chunkSize: 16, chunkEmbSize: 3 });
  const params = hnet.init(new Rng(1));
  // Training task 2: tasks 0 and 1 are regularised towards their outputs now.
  for (let t = 0; t < 3; t++) hnet.taskEmbedding(params, t).trainable = t === 2;
  const targets = snapshotTargets(hnet, params, [0, 1]);
  const value = (): number => tf.tidy(() => outputRegularizer(hnet, params, targets).dataSync()[0]);
  assert.equal(value(), 0, 'exactly zero before any update');
  const optimizer = adam({ lr: 1e-2 });
  const variables = trainableVariables(params);
  const old = Array.from(hnet.taskEmbedding(params, 0).dataSync());
  tf.tidy(() => {
    const x = tf.ones([3, 4]);
    const { grads } = tf.variableGrads(() => tf.sum(tf.square(target.apply(hnet.generate(params, 2), x))) as tf.Scalar, variables);
    optimizer.step({ variables, grads: variables.map((v) => grads[v.name]) }, 1e-2);
  });
  assert.ok(value() > 0, `positive after an update on the new task: ${value()}`);
  assert.deepEqual(Array.from(hnet.taskEmbedding(params, 0).dataSync()), old, 'frozen embedding unchanged');
  // By hand: mean over the two past tasks of the squared distance.
  const byHand = tf.tidy(() => (tf.sum(tf.squaredDifference(hnet.output(params, 0), targets.outputs[0])).dataSync()[0] + tf.sum(tf.squaredDifference(hnet.output(params, 1), targets.outputs[1])).dataSync()[0]) / 2);
  assert.ok(Math.abs(value() - byHand) <= 1e-6 * Math.max(1, byHand));
  assert.equal(tf.tidy(() => outputRegularizer(hnet, params, { tasks: [], outputs: [] }).dataSync()[0]), 0, 'no past tasks: 0');
  disposeTargets(targets);
  optimizer.dispose();
  disposeParams(params);
  assert.equal(tf.memory().numTensors, before);
});
