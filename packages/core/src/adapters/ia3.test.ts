import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { maxAbsDiff, testOnBackends } from '../testing/backends.js';
import { flatten } from '../params/params.js';
import { addAdapter } from './framework.js';
import { ia3Config } from './ia3.js';
import { trainableParameters } from './report.js';
import { baseOutput, checkMergeRoundTrip, checkTrainsOnlyAdapters, output, randn, smallConvNet, smallMlp } from './test-fixtures.js';

testOnBackends('ia3: identity at init; output vs feed-forward (input) scaling; counts out / in', async () => {
  const { model, params } = smallMlp();
  const x = randn(2, [3, 6]);
  const yBase = baseOutput(model, params, x);
  addAdapter(model, params, ia3Config({ targetModules: ['0', '1'], feedforwardModules: ['1'] }));
  assert.equal(maxAbsDiff(yBase, output(model, params, x)), 0);
  const flat = flatten(params);
  assert.deepEqual(flat.get('0.ia3_l.default')!.shape, [5, 1]);
  assert.deepEqual(flat.get('1.ia3_l.default')!.shape, [1, 5]);
  assert.equal(trainableParameters(params).trainable, 5 + 5);
  flat.get('0.ia3_l.default')!.assign(tf.reshape(tf.linspace(0.5, 1.5, 5), [5, 1]));
  flat.get('1.ia3_l.default')!.assign(tf.reshape(tf.linspace(2, 0.5, 5), [1, 5]));
  const h = randn(4, [3, 5]);
  const y1 = tf.tidy(() => model.children!['1'].apply(params['1'] as never, h));
  const ref1 = tf.tidy(() => tf.add(tf.matMul(tf.mul(h, tf.linspace(2, 0.5, 5)), flat.get('1.weight')!, false, true), flat.get('1.bias')!));
  assert.ok(maxAbsDiff(y1, ref1) < 1e-5);
  const y0 = tf.tidy(() => model.children!['0'].apply(params['0'] as never, x));
  const ref0 = tf.tidy(() => tf.mul(tf.add(tf.matMul(x, flat.get('0.weight')!, false, true), flat.get('0.bias')!), tf.linspace(0.5, 1.5, 5)));
  assert.ok(maxAbsDiff(y0, ref0) < 1e-5);
  checkMergeRoundTrip(model, params, x, ['0.weight', '1.weight']);
  await checkTrainsOnlyAdapters(model, params, [8, 6], [8, 4]);
  tf.dispose([x, h, y0, y1, ref0, ref1]);
});

testOnBackends('ia3: conv2d per-channel scaling', async () => {
  const { model, params } = smallConvNet();
  const x = randn(2, [2, 5, 5, 3]);
  const yBase = baseOutput(model, params, x);
  addAdapter(model, params, ia3Config({ targetModules: ['0', '2'], feedforwardModules: ['2'] }));
  assert.equal(maxAbsDiff(yBase, output(model, params, x)), 0);
  assert.deepEqual(flatten(params).get('0.ia3_l.default')!.shape, [1, 4, 1, 1]);
  assert.equal(trainableParameters(params).trainable, 4 + 4);
  await checkTrainsOnlyAdapters(model, params, [2, 5, 5, 3], [2, 5, 5, 2]);
  checkMergeRoundTrip(model, params, x, ['0.weight', '2.weight']);
  x.dispose();
});

testOnBackends('ia3: feedforwardModules must be a subset of targetModules', () => {
  assert.throws(() => ia3Config({ targetModules: ['0'], feedforwardModules: ['1'] }), /subset of targetModules; not in targetModules: 1/);
});
