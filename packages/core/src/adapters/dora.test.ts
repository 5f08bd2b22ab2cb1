import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { maxAbsDiff, testOnBackends } from '../testing/backends.js';
import { flatten } from '../params/params.js';
import { addAdapter } from './framework.js';
import { doraConfig } from './dora.js';
import { trainableParameters } from './report.js';
import { baseOutput, checkMergeRoundTrip, checkTrainsOnlyAdapters, output, randn, smallMlp } from './test-fixtures.js';

testOnBackends('dora: identity at init, m = row norms of W, count r·(in+out)+out', () => {
  const { model, params } = smallMlp();
  const x = randn(2, [3, 6]);
  const yBase = baseOutput(model, params, x);
  const w = flatten(params).get('0.weight')!;
  const norms = tf.tidy(() => tf.norm(w, 2, 1));
  addAdapter(model, params, { method: 'lora', useDora: true, r: 2, targetModules: ['0', '1'] });
  assert.equal(model.children!['0'].kind, 'dora');
  assert.equal(maxAbsDiff(yBase, output(model, params, x)), 0);
  assert.ok(maxAbsDiff(norms, flatten(params).get('0.lora_magnitude_vector.default')!) < 1e-6);
  assert.equal(trainableParameters(params).trainable, 2 * (6 + 5) + 5 + 2 * (5 + 4) + 4);
  tf.dispose([x, norms]);
});

testOnBackends('dora: forward is m·(W+ΔW)/‖W+ΔW‖; merge/unmerge; training only the adapter', async () => {
  const { model, params } = smallMlp();
  addAdapter(model, params, doraConfig({ r: 2, loraAlpha: 4, targetModules: ['0'], initLoraWeights: false }));
  const m = flatten(params).get('0.lora_magnitude_vector.default')!;
  m.assign(tf.mul(m, tf.linspace(0.5, 1.5, 5)));
  const x = randn(2, [3, 6]);
  const [w, b, a, bb] = ['0.weight', '0.bias', '0.lora_A.default.weight', '0.lora_B.default.weight'].map((p) => flatten(params).get(p)!);
  const ref = tf.tidy(() => {
    const wp = tf.add(w, tf.mul(tf.matMul(bb, a), 2));
    const wd = tf.mul(tf.div(wp, tf.norm(wp, 2, 1, true)), tf.expandDims(m, 1));
    return tf.add(tf.matMul(x, wd, false, true), b);
  });
  const y = tf.tidy(() => model.children!['0'].apply(params['0'] as never, x));
  assert.ok(maxAbsDiff(y, ref) < 1e-5);
  checkMergeRoundTrip(model, params, x, ['0.weight']);
  await checkTrainsOnlyAdapters(model, params, [8, 6], [8, 4]);
  tf.dispose([x, y, ref]);
});

testOnBackends('dora: the norm is a constant in backward (stop-gradient)', () => {
  const { model, params } = smallMlp();
  addAdapter(model, params, doraConfig({ r: 2, targetModules: ['0'], initLoraWeights: false }));
  const x = randn(2, [3, 6]);
  const [w, m, a, bb] = ['0.weight', '0.lora_magnitude_vector.default', '0.lora_A.default.weight', '0.lora_B.default.weight'].map((p) => flatten(params).get(p)!);
  // Reference with the norm computed outside the differentiated function.
  const norm = tf.tidy(() => tf.norm(tf.add(w, tf.mul(tf.matMul(bb, a), 8 / 2)), 2, 1));
  const f = (aa: tf.Tensor, bbb: tf.Tensor) => {
    const wd = tf.mul(tf.expandDims(tf.div(m, norm), 1), tf.add(w, tf.mul(tf.matMul(bbb, aa), 4)));
    return tf.sum(tf.matMul(x, wd, false, true));
  };
  const ref = tf.grads(f)([a, bb]);
  const got = tf.variableGrads(() => tf.sum(model.children!['0'].apply(params['0'] as never, x)) as tf.Scalar, [a, bb]);
  assert.ok(maxAbsDiff(ref[0], got.grads[a.name]) < 1e-4);
  assert.ok(maxAbsDiff(ref[1], got.grads[bb.name]) < 1e-4);
  tf.dispose([x, norm, ...ref, got.value, ...Object.values(got.grads)]);
});
