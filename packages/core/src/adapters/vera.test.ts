import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { maxAbsDiff, testOnBackends } from '../testing/backends.js';
import { flatten } from '../params/params.js';
import { addAdapter } from './framework.js';
import { veraConfig } from './vera.js';
import { trainableParameters } from './report.js';
import { baseOutput, checkMergeRoundTrip, checkTrainsOnlyAdapters, output, randn, smallMlp } from './test-fixtures.js';

testOnBackends('vera: shared frozen projections sliced per layer; identity at init; count r + out per layer', () => {
  const { model, params } = smallMlp();
  const x = randn(2, [3, 6]);
  const yBase = baseOutput(model, params, x);
  addAdapter(model, params, veraConfig({ r: 16, targetModules: ['0', '1'] }));
  assert.equal(maxAbsDiff(yBase, output(model, params, x)), 0);
  const flat = flatten(params);
  assert.deepEqual(flat.get('vera_A.default')!.shape, [16, 6]);
  assert.deepEqual(flat.get('vera_B.default')!.shape, [5, 16]);
  assert.equal(flat.get('vera_A.default')!.trainable, false);
  assert.deepEqual(Array.from(flat.get('0.vera_lambda_d.default')!.dataSync()), new Array(16).fill(Math.fround(0.1)));
  assert.equal(trainableParameters(params).trainable, 16 + 5 + 16 + 4);
  // Same seed → same projections.
  const again = smallMlp();
  addAdapter(again.model, again.params, veraConfig({ r: 16, targetModules: ['0', '1'] }));
  assert.equal(maxAbsDiff(flat.get('vera_A.default')!, flatten(again.params).get('vera_A.default')!), 0);
  x.dispose();
});

testOnBackends('vera: forward formula, merge/unmerge, training only λ', async () => {
  const { model, params } = smallMlp();
  addAdapter(model, params, veraConfig({ r: 8, targetModules: ['0', '1'] }));
  const flat = flatten(params);
  flat.get('0.vera_lambda_b.default')!.assign(tf.linspace(-1, 1, 5));
  flat.get('1.vera_lambda_b.default')!.assign(tf.linspace(1, 2, 4));
  const x = randn(2, [3, 6]);
  const [w, b, A, B, lb, ld] = ['0.weight', '0.bias', 'vera_A.default', 'vera_B.default', '0.vera_lambda_b.default', '0.vera_lambda_d.default'].map((p) => flat.get(p)!);
  const ref = tf.tidy(() => {
    const h = tf.mul(tf.matMul(x, tf.slice(A, [0, 0], [8, 6]), false, true), ld);
    return tf.add(tf.add(tf.matMul(x, w, false, true), b), tf.mul(tf.matMul(h, tf.slice(B, [0, 0], [5, 8]), false, true), lb));
  });
  const y = tf.tidy(() => model.children!['0'].apply(params['0'] as never, x));
  assert.ok(maxAbsDiff(y, ref) < 1e-5);
  checkMergeRoundTrip(model, params, x, ['0.weight', '1.weight']);
  await checkTrainsOnlyAdapters(model, params, [8, 6], [8, 4]);
  tf.dispose([x, y, ref]);
});
