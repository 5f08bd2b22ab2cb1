import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { testOnBackends } from '../../testing/backends.js';
import { Rng } from '../../random.js';
import { disposeParams } from '../../params/params.js';
import { loadMnist } from '../../data/mnist.js';
import { train } from '../../train/loop.js';
import { adam } from '../../train/optimizers.js';
import { sampleVae, vae, vaeLoss } from './vae.js';

testOnBackends('VAE: samples have the input shape in [0, 1]; the negative ELBO falls in training', async () => {
  const rng = new Rng(2);
  const model = vae({ inputSize: 784, hidden: [64], zDim: 8 });
  const params = model.init(rng.fork('init'));
  const samples = await sampleVae(model, params, 5, rng.fork('s'));
  assert.equal(samples.length, 5 * 784);
  assert.ok(samples.every((p) => p >= 0 && p <= 1));
  const data = loadMnist({ split: 'train', normalize: 'unit', limit: 64 });
  const y = new Float32Array(64 * 785);
  for (let k = 0; k < 64; k++) {
    y.set(data.features.subarray(k * 784, (k + 1) * 784), k * 785);
    y[k * 785 + 784] = 1 / 64;
  }
  const optimizer = adam({ lr: 3e-3 });
  const result = await train({
    model,
    params,
    loss: vaeLoss(784, 8),
    data: () => [{ x: tf.tensor2d(data.features.slice(0, 64 * 784), [64, 784]), y: tf.tensor2d(y, [64, 785]) }],
    epochs: 40,
    optimizer,
    rng,
  });
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const losses = result.history.loss;
  assert.ok(mean(losses.slice(-5)) < 0.8 * mean(losses.slice(0, 5)), `ELBO loss ${mean(losses.slice(0, 5))} → ${mean(losses.slice(-5))}`);
  optimizer.dispose();
  disposeParams(params);
});

testOnBackends('VAE: latent noise given as extras.vaeNoise (drawn with the seed the step would draw) gives the same output bit for bit', () => {
  const rng = new Rng(4);
  const model = vae({ inputSize: 20, hidden: [8], zDim: 3 });
  const params = model.init(rng.fork('init'));
  const x = tf.randomUniform([5, 20], 0, 1, 'float32', 1);
  const drawn = model.apply(params, x, { training: true, rng: new Rng(9) });
  const vaeNoise = tf.randomNormal([5, 3], 0, 1, 'float32', new Rng(9).seedInt());
  const given = model.apply(params, x, { training: true, extras: { vaeNoise } });
  assert.deepEqual(Array.from(given.dataSync()), Array.from(drawn.dataSync()));
  const zeros = tf.zerosLike(vaeNoise);
  const other = model.apply(params, x, { training: true, extras: { vaeNoise: zeros } });
  assert.notDeepEqual(Array.from(other.dataSync()), Array.from(drawn.dataSync()));
  tf.dispose([x, drawn, vaeNoise, given, zeros, other]);
  disposeParams(params);
});
