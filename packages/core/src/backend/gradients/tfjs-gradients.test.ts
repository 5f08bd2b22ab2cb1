import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { Rng } from '../../random.js';
import { assertNoLeaks, assertSameOnBackends, computeOn, maxScaledDiff, randomValues } from '../kernels/cross-backend.js';
import { registerBackends } from '../backend.js';
import { registerGradients } from './register-gradients.js';
import { registerTfjsGradients } from './tfjs-gradients.js';

const rng = new Rng('tfjs-gradients');

const REGISTER_ALL = fs.readFileSync(path.join(path.dirname(require.resolve('@tensorflow/tfjs-core/package.json')), 'dist', 'register_all_gradients.js'), 'utf8');
const GRADIENT_MODULES = new Set([...REGISTER_ALL.matchAll(/from '\.\/gradients\/(\w+)'/g)].map((m) => m[1]));

test('in a fresh process, CommonJS tfjs-core has no gradients until registerGradients() installs one per tfjs module', () => {
  // This test file's own imports already registered everything, so ask a fresh Node process.
  const script = `
    const tf = require('@tensorflow/tfjs-core');
    const before = [tf.getGradient('Sum'), tf.getGradient('GatherV2')].map((g) => g === undefined);
    const { registerGradients } = require(${JSON.stringify(path.join(__dirname, 'register-gradients.js'))});
    const report = registerGradients();
    console.log(JSON.stringify({ before, registered: report.tfjs.registered.length, failed: report.tfjs.failed, present: report.tfjs.present.length }));`;
  const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: __dirname, encoding: 'utf8' })) as { before: boolean[]; registered: number; failed: unknown[]; present: number };
  assert.deepEqual(out.before, [true, true]);
  assert.deepEqual(out.failed, []);
  assert.equal(out.present, 0);
  assert.equal(out.registered, GRADIENT_MODULES.size);
});

test("every kernel of tfjs-core's register_all_gradients has a gradient; registering again changes nothing", () => {
  const first = registerGradients();
  assert.deepEqual(first.tfjs.failed, []);
  assert.equal(first.tfjs.registered.length + first.tfjs.present.length, GRADIENT_MODULES.size);
  for (const name of [tf.Sum, tf.Add, tf.Multiply, tf.BatchMatMul, tf.GatherV2, tf.Conv2D, tf.MaxPool, tf.Softmax, tf.Prod, tf.UnsortedSegmentSum]) {
    assert.ok(tf.getGradient(name), `gradient for ${name}`);
  }
  const again = registerTfjsGradients();
  assert.deepEqual(again.registered, []);
  assert.equal(again.present.length, GRADIENT_MODULES.size);
});

test('tfjs gradients compute the right values on wasm and cpu', async () => {
  registerGradients();
  const x = randomValues(rng, [3, 4], 0.5, 1.5);
  for (const backend of ['wasm', 'cpu'] as const) {
    const [square, prod, relu] = await computeOn(backend, () => [
      tf.grad((p: tf.Tensor) => tf.sum(tf.square(p)))(tf.tensor2d(x, [3, 4])),
      // Prod's gradient uses chained `.reshape(…)` in tfjs's source: exercises the rewrite.
      tf.grad((p: tf.Tensor) => tf.sum(tf.prod(p, 1)))(tf.tensor2d(x, [3, 4])),
      tf.grad((p: tf.Tensor) => tf.sum(tf.relu(p)))(tf.tensor1d([-1, 2, -3, 4])),
    ]);
    assert.ok(maxScaledDiff(square.values, x.map((v) => 2 * v)) <= 1e-6, `${backend} square`);
    const wantProd = x.map((_, i) => {
      const row = Math.floor(i / 4);
      let p = 1;
      for (let j = 0; j < 4; j++) if (row * 4 + j !== i) p *= x[row * 4 + j];
      return p;
    });
    assert.ok(maxScaledDiff(prod.values, wantProd) <= 1e-5, `${backend} prod`);
    assert.deepEqual(Array.from(relu.values), [0, 1, 0, 1]);
  }
});

test('a small conv + max-pool + dense + softmax cross-entropy network: gradients wasm = cpu', async () => {
  registerBackends();
  const images = randomValues(rng, [4, 6, 6, 2]);
  const filter = randomValues(rng, [3, 3, 2, 3]);
  const dense = randomValues(rng, [27, 5]);
  const labels = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 3, 1, 4], 'int32'), 5).dataSync().slice());
  await assertSameOnBackends('network gradients', () => {
    const loss = (f: tf.Tensor, w: tf.Tensor): tf.Scalar => {
      const h = tf.relu(tf.conv2d(tf.tensor4d(images, [4, 6, 6, 2]), f as tf.Tensor4D, 1, 'same'));
      const pooled = tf.maxPool(h, 2, 2, 'valid');
      const logits = tf.matMul(tf.reshape(pooled, [4, 27]), w);
      return tf.losses.softmaxCrossEntropy(tf.tensor2d(labels, [4, 5]), logits) as tf.Scalar;
    };
    return tf.grads(loss)([tf.tensor4d(filter, [3, 3, 2, 3]), tf.tensor2d(dense, [27, 5])]);
  }, 1e-5);
  await assertNoLeaks('wasm', () =>
    tf.grads((w: tf.Tensor) => tf.mean(tf.square(tf.matMul(tf.tensor2d(dense, [27, 5]), w))))([tf.ones([5, 2])]),
  );
});
