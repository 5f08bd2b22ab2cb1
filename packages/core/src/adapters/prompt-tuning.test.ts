import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { maxAbsDiff, testOnBackends } from '../testing/backends.js';
import { flatten, type Params } from '../params/params.js';
import { Rng } from '../random.js';
import type { Module } from '../nn/module.js';
import { sequential } from '../nn/sequential.js';
import { embedding } from '../nn/embedding.js';
import { transformerEncoderBlock } from '../nn/transformer.js';
import { train } from '../train/loop.js';
import { adam } from '../train/optimizers.js';
import { decodeSafetensors } from '../io/safetensors.js';
import { addPromptTuning, loadPromptTuning } from './prompt-tuning.js';
import { addPrefixTuning, loadPrefixTuning } from './prefix-tuning.js';
import { prependToMask, savePromptLearning, type PromptLearningResult } from './prompt-learning.js';
import { trainableParameters } from './report.js';
import { output, snapshot } from './test-fixtures.js';

const V = 11;
const D = 8;
/** ids → embedding (vocab 11, d 8) → two blocks (2 heads, ff 16, no dropout), at path '1'. */
function lm(seed = 1): { model: Module; params: Params } {
  const block = (): Module => transformerEncoderBlock({ dModel: D, numHeads: 2, dimFeedforward: 16, dropout: 0 });
  const model = sequential([embedding({ numEmbeddings: V, embeddingDim: D }), sequential([block(), block()])]);
  return { model, params: model.init(new Rng(seed)) };
}
const ids = (): tf.Tensor => tf.tensor2d([[1, 4, 2, 7, 3], [9, 0, 5, 5, 10]], [2, 5], 'int32');

/** Trains `steps` Adam steps towards a fixed target; returns [first, last] loss; checks frozen leaves stay put. */
async function trainToy(result: PromptLearningResult, yShape: number[], steps = 8): Promise<[number, number]> {
  const before = snapshot(result.params);
  const target = (): tf.Tensor => tf.tidy(() => tf.reshape(tf.mul(tf.sin(tf.range(0, yShape.reduce((a, b) => a * b))), 0.5), yShape));
  const optimizer = adam({ lr: 5e-2 });
  // train() disposes each batch after its step: fresh tensors every epoch.
  const res = await train({ model: result.model, params: result.params, loss: 'mse', epochs: steps, optimizer, rng: new Rng(3), data: () => [{ x: ids(), y: target() }] });
  optimizer.dispose();
  for (const [p, v] of flatten(result.params)) {
    const diff = maxAbsDiff(before.get(p)!, v.dataSync());
    if (result.record.leaves.has(p)) assert.ok(diff > 0, `${p} did not train`);
    else assert.equal(diff, 0, `frozen ${p} changed`);
  }
  return [res.history.loss[0], res.history.loss[res.history.loss.length - 1]];
}

testOnBackends('prompt tuning: shapes, mask extension, only the prompt trains, loss falls, save/load', async () => {
  const { model, params } = lm();
  const table = flatten(params).get('0.weight')!;
  const result = addPromptTuning(model, params, { numVirtualTokens: 4, tokenDim: D, targetModule: '1', promptTuningInit: 'tokens', initTokenIds: [3, 5, 7] }, { embeddingWeight: table });
  assert.equal(result.model, model);
  const prompt = flatten(params).get('1.prompt_encoder.default.embedding.weight')!;
  assert.deepEqual(prompt.shape, [4, D]);
  const rows = tf.tidy(() => tf.gather(table, tf.tensor1d([3, 5, 7, 3], 'int32')));
  assert.equal(maxAbsDiff(prompt, rows), 0);
  rows.dispose();
  assert.equal(trainableParameters(params).trainable, 4 * D);
  const x = ids();
  const y = tf.tidy(() => model.apply(params, x));
  assert.deepEqual(y.shape, [2, 4 + 5, D]);
  // With a padding mask, the output at unmasked positions is unchanged by masked-out tokens' content.
  const mask = tf.tensor2d([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], [2, 5], 'int32');
  const ext = prependToMask(mask, 4);
  assert.deepEqual(Array.from(ext.dataSync()).slice(0, 9), [1, 1, 1, 1, 1, 1, 1, 0, 0]);
  const x2 = tf.tensor2d([[1, 4, 2, 0, 6], [9, 0, 5, 5, 10]], [2, 5], 'int32');
  const ym1 = tf.tidy(() => tf.slice(model.apply(params, x, { training: false, extras: { attentionMask: mask } }), [0, 0, 0], [1, 7, D]));
  const ym2 = tf.tidy(() => tf.slice(model.apply(params, x2, { training: false, extras: { attentionMask: mask } }), [0, 0, 0], [1, 7, D]));
  assert.ok(maxAbsDiff(ym1, ym2) < 1e-5);
  const [first, last] = await trainToy(result, [2, 9, D]);
  assert.ok(last < first, `loss ${first} → ${last}`);
  // Save → load into a fresh copy of the base: same outputs.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hyperlab-prompt-'));
  savePromptLearning(dir, result.record);
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'adapter_config.json'), 'utf8'));
  assert.equal(json.peft_type, 'PROMPT_TUNING');
  assert.equal(json.num_virtual_tokens, 4);
  const { tensors } = decodeSafetensors(new Uint8Array(fs.readFileSync(path.join(dir, 'adapter_model.safetensors'))));
  assert.deepEqual([...tensors.keys()], ['prompt_embeddings']);
  tf.dispose([...tensors.values()]);
  const fresh = lm();
  const loaded = loadPromptTuning(dir, fresh.model, fresh.params);
  assert.equal(maxAbsDiff(output(model, params, x), output(loaded.model, loaded.params, x)), 0);
  tf.dispose([x, x2, y, mask, ext, ym1, ym2]);
});

testOnBackends('prompt tuning: root target returns the wrapper; random init; config errors', () => {
  const block = transformerEncoderBlock({ dModel: D, numHeads: 2, dimFeedforward: 16, dropout: 0 });
  const params = block.init(new Rng(2));
  const result = addPromptTuning(block, params, { numVirtualTokens: 3, tokenDim: D });
  assert.notEqual(result.model, block);
  const x = tf.ones([2, 5, D]);
  const y = tf.tidy(() => result.model.apply(params, x));
  assert.deepEqual(y.shape, [2, 8, D]);
  assert.throws(() => addPromptTuning(block, params, { numVirtualTokens: 3, tokenDim: D, promptTuningInit: 'tokens' }), /needs initTokenIds/);
  assert.throws(() => addPromptTuning(block, params, { numVirtualTokens: 3, tokenDim: D, targetModule: 'nope' }), /no module at targetModule 'nope'/);
  tf.dispose([x, y]);
});

for (const prefixProjection of [false, true]) {
  testOnBackends(`prefix tuning${prefixProjection ? ' with projection' : ''}: shapes, counts, only prefixes train, loss falls, save/load`, async () => {
    const { model, params } = lm(4);
    const x = ids();
    const base = output(model, params, x);
    const result = addPrefixTuning(model, params, { numVirtualTokens: 3, tokenDim: D, targetModule: '1', prefixProjection, encoderHiddenSize: 5 });
    const n = 3;
    const L = 2;
    const expected = prefixProjection ? n * D + 5 * D + 5 + L * 2 * D * 5 + L * 2 * D : n * L * 2 * D;
    assert.equal(trainableParameters(params).trainable, expected);
    const y = tf.tidy(() => model.apply(params, x));
    assert.deepEqual(y.shape, [2, 5, D]);
    assert.ok(maxAbsDiff(base, y) > 1e-4, 'prefixes change the output');
    const [first, last] = await trainToy(result, [2, 5, D]);
    assert.ok(last < first, `loss ${first} → ${last}`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hyperlab-prefix-'));
    savePromptLearning(dir, result.record);
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'adapter_config.json'), 'utf8'));
    assert.equal(json.peft_type, 'PREFIX_TUNING');
    assert.equal(json.num_layers, 2);
    assert.equal(json.prefix_projection, prefixProjection);
    const fresh = lm(4);
    const loaded = loadPrefixTuning(dir, fresh.model, fresh.params);
    assert.deepEqual(flatten(fresh.params).get('1.prompt_encoder.default.embedding.weight')!.shape, [n, L * 2 * D]);
    assert.ok(maxAbsDiff(output(model, params, x), output(loaded.model, loaded.params, x)) < 1e-5);
    tf.dispose([x, y]);
  });
}

testOnBackends('prefix tuning: attention with prefixes equals attention over [prefix; sequence] keys (hand reference)', () => {
  const block = transformerEncoderBlock({ dModel: D, numHeads: 2, dimFeedforward: 16, dropout: 0 });
  const holder = sequential([block]);
  const params = holder.init(new Rng(6));
  const mha = block.children.self_attn;
  const p = (params['0'] as Params).self_attn as Params;
  const x = tf.tidy(() => tf.reshape(tf.sin(tf.range(0, 2 * 4 * D)), [2, 4, D]));
  const pk = tf.tidy(() => tf.reshape(tf.cos(tf.range(0, 3 * D)), [3, D]));
  const pv = tf.tidy(() => tf.reshape(tf.sin(tf.mul(tf.range(0, 3 * D), 0.3)), [3, D]));
  const mask = tf.tensor2d([[1, 1, 1, 0], [1, 1, 1, 1]], [2, 4], 'int32');
  const got = tf.tidy(() => mha.apply(p, x, { training: false, extras: { prefixKeys: pk, prefixValues: pv, attentionMask: mask } }));
  const want = tf.tidy(() => {
    const f = flatten(p);
    const proj = (name: string, t: tf.Tensor): tf.Tensor => tf.add(tf.matMul(tf.reshape(t, [-1, D]), f.get(`${name}.weight`)!, false, true), f.get(`${name}.bias`)!);
    const heads = (t: tf.Tensor, len: number): tf.Tensor => tf.transpose(tf.reshape(t, [2, len, 2, 4]), [0, 2, 1, 3]);
    const q = heads(proj('q_proj', x), 4);
    const k = heads(tf.concat([tf.broadcastTo(tf.expandDims(pk, 0), [2, 3, D]), tf.reshape(proj('k_proj', x), [2, 4, D])], 1), 7);
    const v = heads(tf.concat([tf.broadcastTo(tf.expandDims(pv, 0), [2, 3, D]), tf.reshape(proj('v_proj', x), [2, 4, D])], 1), 7);
    const keep = tf.reshape(tf.concat([tf.ones([2, 3]), tf.cast(mask, 'float32')], 1), [2, 1, 1, 7]);
    const scores = tf.add(tf.div(tf.matMul(q, k, false, true), 2), tf.mul(tf.sub(1, keep), -1e9));
    const o = tf.reshape(tf.transpose(tf.matMul(tf.softmax(scores), v), [0, 2, 1, 3]), [8, D]);
    return tf.reshape(proj('out_proj', o), [2, 4, D]);
  });
  assert.ok(maxAbsDiff(got, want) < 1e-5, `${maxAbsDiff(got, want)}`);
  tf.dispose([x, pk, pv, mask, got, want]);
});
