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
import { transformerEncoderBlock } from '../nn/transformer.js';
import { train } from '../train/loop.js';
import { adam } from '../train/optimizers.js';
import { addAdapter, merge } from './framework.js';
import { bottleneckConfig } from './bottleneck.js';
import { addPrefixTuning } from './prefix-tuning.js';
import { addMamAdapter, loadMamAdapter, mamAdapterConfig, parallelAdapterConfig, saveMamAdapter, MAM_PARALLEL_DIR, MAM_PREFIX_DIR } from './mam-adapter.js';
import { applyWholeModelMethod } from './training-hooks.js';
import { trainableParameters } from './report.js';
import { loadAdapter } from './save.js';
import { baseOutput, checkTrainsOnlyAdapters, output, randn, smallMlp, snapshot } from './test-fixtures.js';

const D = 8;
/** Two pre-norm blocks (d 8, 2 heads, ff 16, no dropout) in a sequential. */
function twoBlocks(seed = 1): { model: Module; params: Params } {
  const block = (): Module => transformerEncoderBlock({ dModel: D, numHeads: 2, dimFeedforward: 16, dropout: 0 });
  const model = sequential([block(), block()]);
  return { model, params: model.init(new Rng(seed)) };
}

/** Gives every leaf whose path contains `part` N(0, 0.5²) values. */
function randomise(params: Params, part: string, seed: number): void {
  for (const [p, v] of flatten(params)) if (p.includes(part)) v.assign(tf.tidy(() => tf.mul(randn(seed++, v.shape), 0.5)));
}

testOnBackends('parallel adapter on a linear: y = W·x + b + s·f(x) with s = 4 by default, the base at init, count in·m + m + m·out + out', async () => {
  const { model, params } = smallMlp();
  const x = randn(2, [3, 6]);
  const yBase = baseOutput(model, params, x);
  const config = parallelAdapterConfig({ bottleneckSize: 2, targetModules: ['0'] });
  assert.equal(config.scaling, 4);
  assert.equal(config.placement, 'parallel');
  addAdapter(model, params, config);
  assert.equal(maxAbsDiff(yBase, output(model, params, x)), 0);
  assert.equal(trainableParameters(params).trainable, 6 * 2 + 2 + 2 * 5 + 5);
  randomise(params, 'adapter_', 20);
  const p = (k: string): tf.Variable => flatten(params).get(`0.${k}`)!;
  const got = tf.tidy(() => model.children!['0'].apply(params['0'] as Params, x));
  const expected = tf.tidy(() => {
    const base = tf.add(tf.matMul(x, p('weight'), false, true), p('bias'));
    const down = tf.relu(tf.add(tf.matMul(x, p('adapter_down.default.weight'), false, true), p('adapter_down.default.bias')));
    const f = tf.add(tf.matMul(down, p('adapter_up.default.weight'), false, true), p('adapter_up.default.bias'));
    return tf.add(base, tf.mul(f, 4));
  });
  assert.ok(maxAbsDiff(got, expected) < 1e-5, `${maxAbsDiff(got, expected)}`);
  await checkTrainsOnlyAdapters(model, params, [4, 6], [4, 4]);
  assert.throws(() => merge(model, params), /adapter 'default' is ParallelAdapter, which cannot be merged/);
  assert.throws(() => parallelAdapterConfig({ placement: 'houlsby', targetModules: ['0'] } as never), /ParallelAdapterConfig\.placement must be "parallel"/);
  tf.dispose([x, got, expected]);
});

testOnBackends('parallel adapter on transformer blocks is the bottleneck method\'s parallel placement (same leaves, same output); count 2·d·m + m + d per block', () => {
  const a = twoBlocks(2);
  const b = twoBlocks(2);
  const x = randn(3, [2, 3, D]);
  addAdapter(a.model, a.params, parallelAdapterConfig({ bottleneckSize: 3, targetModules: ['0', '1'] }), 'default', { rng: new Rng(7) });
  addAdapter(b.model, b.params, bottleneckConfig({ placement: 'parallel', scaling: 4, bottleneckSize: 3, targetModules: ['0', '1'] }), 'default', { rng: new Rng(7) });
  assert.equal(trainableParameters(a.params).trainable, 2 * (2 * D * 3 + 3 + D));
  assert.deepEqual([...flatten(a.params).keys()], [...flatten(b.params).keys()]);
  randomise(a.params, 'adapter_', 30);
  randomise(b.params, 'adapter_', 30);
  assert.equal(maxAbsDiff(output(a.model, a.params, x), output(b.model, b.params, x)), 0);
  x.dispose();
});

testOnBackends('MAM on transformer blocks: prefixes on attention + scaled parallel adapter on the FFN; count; at init = prefix tuning alone; only both parts train', async () => {
  const mam = twoBlocks(4);
  const x = randn(5, [2, 3, D]);
  const result = addMamAdapter(mam.model, mam.params, { numVirtualTokens: 4, bottleneckSize: 3, targetModules: ['0', '1'] });
  assert.notEqual(result.model, mam.model, 'prefix tuning on the root wraps it');
  assert.equal(result.base, mam.model);
  assert.ok(result.prefix);
  const n = 4;
  const L = 2;
  assert.equal(trainableParameters(mam.params).trainable, 2 * (2 * D * 3 + 3 + D) + n * L * 2 * D);
  const keys = [...flatten(mam.params)].filter(([, v]) => v.trainable).map(([k]) => k);
  assert.ok(keys.includes('prompt_encoder.default.embedding.weight'));
  assert.ok(keys.includes('0.linear2.adapter_up.default.weight') && keys.includes('1.linear2.adapter_down.default.bias'));
  // W_up = 0: the MAM model is, at init, the prefix-tuned model with the same prefixes.
  const prefixOnly = twoBlocks(4);
  const po = addPrefixTuning(prefixOnly.model, prefixOnly.params, { numVirtualTokens: n, tokenDim: D });
  flatten(prefixOnly.params).get('prompt_encoder.default.embedding.weight')!.assign(flatten(mam.params).get('prompt_encoder.default.embedding.weight')!);
  const yPrefix = output(po.model, prefixOnly.params, x);
  assert.ok(maxAbsDiff(yPrefix, output(result.model, mam.params, x)) < 1e-6);
  const plain = twoBlocks(4);
  assert.ok(maxAbsDiff(yPrefix, baseOutput(plain.model, plain.params, x)) > 1e-4, 'the prefixes act');
  // A non-zero adapter moves the output; training reaches the prefixes and the adapter only.
  randomise(mam.params, 'adapter_up', 40);
  assert.ok(maxAbsDiff(yPrefix, output(result.model, mam.params, x)) > 1e-4);
  const before = snapshot(mam.params);
  const optimizer = adam({ lr: 1e-2 });
  await train({ model: result.model, params: mam.params, loss: 'mse', epochs: 3, optimizer, rng: new Rng(3), data: () => [{ x: randn(10, [4, 3, D]), y: randn(11, [4, 3, D]) }] });
  optimizer.dispose();
  for (const [p, v] of flatten(mam.params)) {
    const moved = maxAbsDiff(before.get(p)!, v.dataSync()) > 0;
    assert.equal(moved, v.trainable, `${p}: ${moved ? 'changed' : 'unchanged'}, trainable ${v.trainable}`);
  }
  assert.throws(() => merge(result.base, mam.params), /cannot be merged/);
  x.dispose();
});

testOnBackends('MAM: save → load round trip is exact; each part loads alone from its PEFT-layout folder', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hyperlab-mam-'));
  const a = twoBlocks(6);
  const ra = addMamAdapter(a.model, a.params, mamAdapterConfig({ numVirtualTokens: 3, bottleneckSize: 2, scaling: 2.5, nonLinearity: 'gelu', targetModules: ['0', '1'] }), { name: 'task' });
  randomise(a.params, 'adapter_', 60);
  const x = randn(7, [2, 3, D]);
  const ya = output(ra.model, a.params, x);
  saveMamAdapter(dir, ra);
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, MAM_PARALLEL_DIR, 'adapter_config.json'), 'utf8')).placement, 'parallel');
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, MAM_PREFIX_DIR, 'adapter_config.json'), 'utf8')).peft_type, 'PREFIX_TUNING');
  const b = twoBlocks(6);
  const rb = loadMamAdapter(dir, b.model, b.params, { name: 'task' });
  assert.equal(maxAbsDiff(ya, output(rb.model, b.params, x)), 0);
  assert.equal(trainableParameters(b.params).trainable, trainableParameters(a.params).trainable);
  // The parallel adapter alone is an ordinary saved adapter.
  const c = twoBlocks(6);
  const record = loadAdapter(path.join(dir, MAM_PARALLEL_DIR), c.model, c.params);
  assert.equal(record.config.scaling, 2.5);
  fs.rmSync(dir, { recursive: true, force: true });
  x.dispose();
});

testOnBackends('MAM on an MLP (no attention): a clear error, and numVirtualTokens 0 is the parallel adapter alone; %%adapter runs it as method mam', () => {
  const { model, params } = smallMlp();
  const keys = [...flatten(params).keys()];
  assert.throws(() => addMamAdapter(model, params, { targetModules: ['0'], bottleneckSize: 2 }), /MamAdapterConfig: the model has no multi_head_attention module, so MAM's prefix tuning has nothing to attach to; set numVirtualTokens: 0/);
  assert.deepEqual([...flatten(params).keys()], keys, 'nothing added');
  const x = randn(2, [3, 6]);
  const yBase = baseOutput(model, params, x);
  const { config, applied } = applyWholeModelMethod(model, params, { method: 'mam', targetModules: ['0'], bottleneckSize: 2, numVirtualTokens: 0 }, { rng: new Rng(1) });
  assert.equal(config.scaling, 4);
  assert.equal(applied.trainModel, model);
  assert.equal(maxAbsDiff(yBase, output(model, params, x)), 0);
  assert.equal(trainableParameters(params).trainable, 6 * 2 + 2 + 2 * 5 + 5);
  assert.throws(() => mamAdapterConfig({ targetModules: ['0'], numVirtualTokens: -1 }), /MamAdapterConfig\.numVirtualTokens must be a non-negative integer/);
  assert.throws(() => mamAdapterConfig({ targetModules: ['0'], num_virtual_tokens: 3 } as never), /unknown key 'num_virtual_tokens' in MamAdapterConfig — did you mean 'numVirtualTokens'\?/);
  assert.throws(() => mamAdapterConfig({ targetModules: ['0'], bottleneckSize: 2, reductionFactor: 4 }), /give bottleneckSize \(2\) or reductionFactor \(4\), not both/);
  x.dispose();
});
