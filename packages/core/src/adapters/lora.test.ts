import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { maxAbsDiff, testOnBackends } from '../testing/backends.js';
import { flatten, getPath } from '../params/params.js';
import { Rng } from '../random.js';
import { transformerEncoderBlock } from '../nn/transformer.js';
import {
  activeAdapters,
  addAdapter,
  deleteAdapter,
  disableAdapters,
  enableAdapters,
  listAdapters,
  merge,
  mergeAndUnload,
  setActiveAdapters,
  unmerge,
} from './framework.js';
import { isAdapterLayer } from './layer.js';
import { loraConfig } from './lora.js';
import { formatTrainableTable, trainableParameters } from './report.js';
import { baseOutput, checkMergeRoundTrip, checkTrainsOnlyAdapters, output, randn, smallConvNet, smallMlp, snapshot } from './test-fixtures.js';

testOnBackends('lora: default init equals the base exactly; params in PEFT layout; count r·(in+out)', () => {
  const { model, params } = smallMlp();
  const x = randn(2, [3, 6]);
  const yBase = baseOutput(model, params, x);
  addAdapter(model, params, loraConfig({ r: 2, targetModules: ['0', '1'] }));
  assert.equal(maxAbsDiff(yBase, output(model, params, x)), 0);
  assert.equal((model.children!['0'] as { kind: string }).kind, 'lora');
  const shapes = Object.fromEntries([...flatten(params)].map(([k, v]) => [k, v.shape]));
  assert.deepEqual(shapes['0.lora_A.default.weight'], [2, 6]);
  assert.deepEqual(shapes['0.lora_B.default.weight'], [5, 2]);
  assert.deepEqual(shapes['1.lora_A.default.weight'], [2, 5]);
  const report = trainableParameters(params);
  assert.equal(report.trainable, 2 * (6 + 5) + 2 * (5 + 4));
  assert.equal(report.all, 6 * 5 + 5 + 5 * 4 + 4 + report.trainable);
  assert.equal(report.byModule['0'].trainable, 2 * (6 + 5));
  assert.ok(flatten(params).get('0.weight')!.trainable === false);
  const table = formatTrainableTable(report);
  assert.match(table, /^trainable params: 40 \|\| all params: 99 \|\| trainable%: 40\.4040/);
  assert.match(table, /\n0 +22 +57 +38\.60/);
  x.dispose();
});

testOnBackends('lora: merged and unmerged forwards agree; unmerge restores the base; mergeAndUnload', () => {
  const { model, params } = smallMlp();
  addAdapter(model, params, loraConfig({ r: 3, loraAlpha: 6, targetModules: ['0', '1'], initLoraWeights: false }));
  const x = randn(2, [4, 6]);
  checkMergeRoundTrip(model, params, x, ['0.weight', '1.weight']);
  const yAdapted = output(model, params, x);
  const unloaded = mergeAndUnload(model, params);
  assert.equal(unloaded.model.children!['0'].kind, 'linear');
  assert.deepEqual([...flatten(params).keys()], ['0.weight', '0.bias', '1.weight', '1.bias']);
  assert.ok(maxAbsDiff(yAdapted, output(model, params, x)) < 1e-5);
  x.dispose();
});

testOnBackends('lora: scaling alpha/r and rsLoRA alpha/√r', () => {
  for (const useRslora of [false, true]) {
    const { model, params } = smallMlp();
    addAdapter(model, params, loraConfig({ r: 4, loraAlpha: 2, useRslora, targetModules: ['0'], initLoraWeights: false }));
    const x = randn(2, [2, 6]);
    const y = tf.tidy(() => model.children!['0'].apply(getPath(params, '0') as never, x));
    const [w, b, a, bb] = ['0.weight', '0.bias', '0.lora_A.default.weight', '0.lora_B.default.weight'].map((p) => flatten(params).get(p)!);
    const scale = useRslora ? 2 / Math.sqrt(4) : 2 / 4;
    const ref = tf.tidy(() => tf.add(tf.add(tf.matMul(x, w, false, true), b), tf.mul(tf.matMul(tf.matMul(x, a, false, true), bb, false, true), scale)));
    assert.ok(maxAbsDiff(y, ref) < 1e-5);
    tf.dispose([x, y, ref]);
  }
});

testOnBackends('lora: training moves only the adapter (3 Adam steps)', async () => {
  const { model, params } = smallMlp();
  addAdapter(model, params, loraConfig({ r: 2, loraDropout: 0.1, targetModules: ['0', '1'] }));
  await checkTrainsOnlyAdapters(model, params, [8, 6], [8, 4]);
});

testOnBackends('lora: conv2d (A as conv with the base kernel, B 1×1): identity at init, merge, count, training', async () => {
  const { model, params } = smallConvNet();
  const x = randn(2, [2, 5, 5, 3]);
  const yBase = baseOutput(model, params, x);
  addAdapter(model, params, loraConfig({ r: 2, targetModules: ['0', '2'] }));
  assert.equal(maxAbsDiff(yBase, output(model, params, x)), 0);
  assert.deepEqual(flatten(params).get('0.lora_A.default.weight')!.shape, [2, 3, 3, 3]);
  assert.deepEqual(flatten(params).get('0.lora_B.default.weight')!.shape, [4, 2, 1, 1]);
  assert.equal(trainableParameters(params).trainable, 2 * (3 * 9 + 4) + 2 * (4 + 2));
  await checkTrainsOnlyAdapters(model, params, [2, 5, 5, 3], [2, 5, 5, 2]);
  checkMergeRoundTrip(model, params, x, ['0.weight', '2.weight']);
  x.dispose();
});

testOnBackends('lora: gaussian and PiSSA initialisations', () => {
  const { model, params } = smallMlp();
  addAdapter(model, params, loraConfig({ r: 2, targetModules: ['0'], initLoraWeights: 'gaussian' }));
  const a = Array.from(flatten(params).get('0.lora_A.default.weight')!.dataSync());
  const std = Math.sqrt(a.reduce((s, v) => s + v * v, 0) / a.length);
  assert.ok(std > 0.1 && std < 1.2, `std ${std}`);
  assert.equal(Math.max(...Array.from(flatten(params).get('0.lora_B.default.weight')!.dataSync(), Math.abs)), 0);

  const p = smallMlp(5);
  const x = randn(2, [3, 6]);
  const yBase = baseOutput(p.model, p.params, x);
  const w0 = snapshot(p.params).get('0.weight')!;
  addAdapter(p.model, p.params, loraConfig({ r: 3, loraAlpha: 6, targetModules: ['0'], initLoraWeights: 'pissa' }));
  // The base weight became the residual, and the model output is unchanged.
  assert.ok(maxAbsDiff(w0, flatten(p.params).get('0.weight')!) > 1e-3);
  assert.ok(maxAbsDiff(yBase, output(p.model, p.params, x)) < 1e-5);
  // B·A·s is the best rank-3 approximation: the residual's norm is the tail singular values'.
  const residual = flatten(p.params).get('0.weight')!;
  const full = tf.tidy(() => tf.add(residual, tf.mul(tf.matMul(flatten(p.params).get('0.lora_B.default.weight')!, flatten(p.params).get('0.lora_A.default.weight')!), 2)));
  assert.ok(maxAbsDiff(full, w0) < 1e-5);
  tf.dispose([x, full]);
});

testOnBackends('lora: targets by suffix, glob, regex string and RegExp on a transformer block', () => {
  const block = () => {
    const model = transformerEncoderBlock({ dModel: 4, numHeads: 2, dimFeedforward: 8, dropout: 0 });
    return { model, params: model.init(new Rng(1)) };
  };
  const targets = (t: unknown) => {
    const { model, params } = block();
    return addAdapter(model, params, { method: 'lora', r: 2, targetModules: t }).layers;
  };
  assert.deepEqual(targets(['q_proj', 'v_proj']), ['self_attn.q_proj', 'self_attn.v_proj']);
  assert.deepEqual(targets(['self_attn.*_proj']), ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.out_proj']);
  assert.deepEqual(targets('.*\\.(q|v)_proj'), ['self_attn.q_proj', 'self_attn.v_proj']);
  assert.deepEqual(targets(/linear\d$/), ['linear1', 'linear2']);
  const { model, params } = block();
  const x = randn(3, [1, 3, 4]);
  const yBase = baseOutput(model, params, x);
  addAdapter(model, params, loraConfig({ r: 2, targetModules: ['q_proj', 'v_proj', 'linear1'] }));
  assert.equal(maxAbsDiff(yBase, output(model, params, x)), 0);
  assert.ok(getPath(params, 'self_attn.q_proj.lora_A.default.weight'));
  x.dispose();
});

testOnBackends('lora: several adapters — switch, combine, disable, delete', () => {
  const { model, params } = smallMlp();
  const x = randn(2, [3, 6]);
  const yBase = baseOutput(model, params, x);
  addAdapter(model, params, loraConfig({ r: 2, targetModules: ['0'], initLoraWeights: false }), 'a');
  addAdapter(model, params, loraConfig({ r: 3, targetModules: ['0', '1'], initLoraWeights: false }), 'b');
  assert.deepEqual(activeAdapters(model), ['a']);
  const leaf = (p: string) => flatten(params).get(p)!;
  assert.equal(leaf('0.lora_A.a.weight').trainable, true);
  assert.equal(leaf('0.lora_A.b.weight').trainable, false);
  const yA = output(model, params, x);
  setActiveAdapters(model, ['b']);
  assert.equal(leaf('0.lora_A.a.weight').trainable, false);
  assert.equal(leaf('1.lora_B.b.weight').trainable, true);
  const yB = output(model, params, x);
  setActiveAdapters(model, ['a', 'b']);
  const yAB = output(model, params, x);
  assert.ok(maxAbsDiff(yA, yB) > 1e-3 && maxAbsDiff(yA, yAB) > 1e-3 && maxAbsDiff(yB, yAB) > 1e-3);
  // Only 'a' touches layer 0 alone; with 'b' on both layers, the two branches add up on layer 0.
  disableAdapters(model);
  assert.equal(maxAbsDiff(yBase, output(model, params, x)), 0);
  enableAdapters(model);
  assert.equal(maxAbsDiff(yAB, output(model, params, x)), 0);
  assert.throws(() => setActiveAdapters(model, ['c']), /no adapter named 'c'/);
  merge(model, params, ['a']);
  assert.throws(() => deleteAdapter(model, params, 'a'), /'a' is merged into 0; unmerge first/);
  assert.throws(() => disableAdapters(model), /unmerge first/);
  unmerge(model, params);
  deleteAdapter(model, params, 'b');
  assert.deepEqual(activeAdapters(model), ['a']);
  assert.equal(getPath(params, '1.lora_A'), undefined);
  assert.equal(model.children!['1'].kind, 'linear');
  assert.ok(isAdapterLayer(model.children!['0']));
  assert.ok(maxAbsDiff(yA, output(model, params, x)) < 1e-6);
  deleteAdapter(model, params, 'a');
  assert.equal(listAdapters(model).length, 0);
  assert.equal(model.children!['0'].kind, 'linear');
  assert.deepEqual([...flatten(params).keys()], ['0.weight', '0.bias', '1.weight', '1.bias']);
  assert.ok(maxAbsDiff(yBase, output(model, params, x)) < 1e-6); // merge + unmerge of 'a' rounds
  x.dispose();
});

testOnBackends('lora: bias and modulesToSave train base leaves', () => {
  const { model, params } = smallMlp();
  addAdapter(model, params, loraConfig({ r: 2, targetModules: ['0'], bias: 'lora_only', modulesToSave: ['1'] }));
  const flat = flatten(params);
  assert.deepEqual([...flat].filter(([, v]) => v.trainable).map(([k]) => k).sort(), ['0.bias', '0.lora_A.default.weight', '0.lora_B.default.weight', '1.bias', '1.weight']);
  const p2 = smallMlp();
  addAdapter(p2.model, p2.params, loraConfig({ r: 2, targetModules: ['0'], bias: 'all' }));
  assert.equal(trainableParameters(p2.params).trainable, 2 * (6 + 5) + 5 + 4);
});
