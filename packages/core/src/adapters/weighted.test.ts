import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { maxAbsDiff, testOnBackends } from '../testing/backends.js';
import { flatten, type Params } from '../params/params.js';
import type { Module } from '../nn/module.js';
import { addAdapter, listAdapters, setActiveAdapters } from './framework.js';
import { isAdapterLayer } from './layer.js';
import { loraConfig, loraDelta, type LoraConfig } from './lora.js';
import type { AdapterInstance } from './method.js';
import { subtree } from './param-paths.js';
import { addWeightedAdapter } from './weighted.js';
import { ia3Config } from './ia3.js';
import { output, randn, smallMlp } from './test-fixtures.js';

/** An MLP with LoRA adapters 'a' (r 2, α 4), 'b' (r 2, α 1.5) and 'c' (r 1, rsLoRA, layer 1 only), factors randomised. */
function setup(): { model: Module; params: Params } {
  const { model, params } = smallMlp();
  addAdapter(model, params, loraConfig({ r: 2, loraAlpha: 4, targetModules: ['0', '1'] }), 'a');
  addAdapter(model, params, loraConfig({ r: 2, loraAlpha: 1.5, targetModules: ['0', '1'] }), 'b');
  addAdapter(model, params, loraConfig({ r: 1, loraAlpha: 3, useRslora: true, targetModules: ['1'] }), 'c');
  let seed = 40;
  for (const [path, v] of flatten(params)) if (path.includes('lora_')) v.assign(randn(seed++, v.shape));
  return { model, params };
}

function delta(model: Module, params: Params, layer: string, name: string): tf.Tensor {
  const wrapper = model.children![layer];
  assert.ok(isAdapterLayer(wrapper));
  return loraDelta(wrapper.adapters.get(name) as AdapterInstance<LoraConfig>, subtree(params, layer));
}

function expectedSum(model: Module, params: Params, layer: string, names: string[], weights: number[]): tf.Tensor {
  return tf.tidy(() => names.reduce<tf.Tensor>((acc, n, i) => (model.children![layer] as unknown as { adapters: Map<string, unknown> }).adapters.has(n) ? tf.add(acc, tf.mul(delta(model, params, layer, n), weights[i])) : acc, tf.zeros([layer === '0' ? 5 : 4, layer === '0' ? 6 : 5])));
}

testOnBackends('addWeightedAdapter: cat reproduces Σ w_i ΔW_i exactly, rank Σ r_i, scaling 1', () => {
  const { model, params } = setup();
  const weights = [0.7, -1.3];
  const record = addWeightedAdapter(model, params, ['a', 'c'], weights, 'mix', 'cat');
  assert.equal((record.config as unknown as LoraConfig).r, 3);
  assert.equal((record.config as unknown as LoraConfig).loraAlpha, 3);
  assert.deepEqual(flatten(params).get('1.lora_A.mix.weight')!.shape, [3, 5]);
  for (const layer of ['0', '1']) {
    const got = delta(model, params, layer, 'mix');
    const want = expectedSum(model, params, layer, ['a', 'c'], weights);
    assert.ok(maxAbsDiff(got, want) < 1e-4, `layer ${layer}: ${maxAbsDiff(got, want)}`);
    tf.dispose([got, want]);
  }
  assert.throws(() => addWeightedAdapter(model, params, ['a', 'b', 'c'], [1, 1, 1], 'big', 'cat'), /'cat' gives rank 5, larger than min\(in, out\) = 4 of layer '1'/);
  // The forward of the new adapter alone is base + Σ w_i ΔW_i.
  setActiveAdapters(model, ['mix']);
  const x = randn(3, [4, 6]);
  assert.equal(output(model, params, x).length, 16);
  x.dispose();
});

testOnBackends('addWeightedAdapter: full-rank svd reproduces Σ w_i ΔW_i; default rank = max r_i', () => {
  const { model, params } = setup();
  const weights = [0.5, 2];
  addWeightedAdapter(model, params, ['a', 'b'], weights, 'svd4', 'svd', { svdRank: 4 });
  for (const layer of ['0', '1']) {
    const got = delta(model, params, layer, 'svd4');
    const want = expectedSum(model, params, layer, ['a', 'b'], weights);
    assert.ok(maxAbsDiff(got, want) < 1e-4, `layer ${layer}: ${maxAbsDiff(got, want)}`);
    tf.dispose([got, want]);
  }
  const rec = addWeightedAdapter(model, params, ['a', 'b'], weights, 'svd2', 'svd');
  assert.equal((rec.config as unknown as LoraConfig).r, 2);
  assert.deepEqual(flatten(params).get('0.lora_B.svd2.weight')!.shape, [5, 2]);
});

testOnBackends("addWeightedAdapter: 'linear' is PEFT's Σ√(w·s)·A, Σ√(w·s)·B", () => {
  const { model, params } = setup();
  addWeightedAdapter(model, params, ['a', 'b'], [0.5, 2], 'lin', 'linear');
  const flat = flatten(params);
  const cA = Math.sqrt(0.5 * 2);
  const cB = Math.sqrt(2 * 0.75);
  for (const f of ['lora_A', 'lora_B']) {
    const want = tf.tidy(() => tf.add(tf.mul(flat.get(`0.${f}.a.weight`)!, cA), tf.mul(flat.get(`0.${f}.b.weight`)!, cB)));
    assert.ok(maxAbsDiff(flat.get(`0.${f}.lin.weight`)!, want) < 1e-6);
    want.dispose();
  }
});

testOnBackends('addWeightedAdapter: errors for unequal ranks (linear), unknown names, non-LoRA adapters', () => {
  const { model, params } = setup();
  const count = listAdapters(model).length;
  assert.throws(() => addWeightedAdapter(model, params, ['a', 'c'], [1, 1], 'x', 'linear'), /'linear' needs adapters of equal rank, got a: r = 2, c: r = 1/);
  assert.throws(() => addWeightedAdapter(model, params, ['a', 'nope'], [1, 1], 'x', 'cat'), /no adapter named 'nope' \(have: a, b, c\)/);
  assert.throws(() => addWeightedAdapter(model, params, ['a'], [1, 2], 'x', 'cat'), /1 adapters but 2 weights/);
  assert.throws(() => addWeightedAdapter(model, params, ['a', 'b'], [1, -1], 'x', 'linear'), /w·s = -0.75 < 0/);
  assert.throws(() => addWeightedAdapter(model, params, ['a', 'b', 'c'], [1, 1, 1], 'x', 'svd', { svdRank: 5 }), /rank 5, larger than min\(in, out\) = 4 of layer '1'/);
  assert.equal(listAdapters(model).length, count);
  const other = smallMlp(2);
  addAdapter(other.model, other.params, ia3Config({ targetModules: ['0'] }), 'i');
  assert.throws(() => addWeightedAdapter(other.model, other.params, ['i'], [1], 'x', 'cat'), /LoRA adapters only; 'i' is IA3/);
});
