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
import { getActivation } from '../nn/activations.js';
import { addAdapter, merge } from './framework.js';
import { bottleneckConfig, type BottleneckPlacement } from './bottleneck.js';
import { trainableParameters } from './report.js';
import { loadAdapter, saveAdapter } from './save.js';
import { decodeSafetensors } from '../io/safetensors.js';
import { baseOutput, checkTrainsOnlyAdapters, output, randn, smallMlp } from './test-fixtures.js';

const D = 8;
/** Two pre-norm blocks (d 8, 2 heads, ff 16, no dropout) in a sequential. */
function twoBlocks(seed = 1, normFirst = true): { model: Module; params: Params } {
  const block = (): Module => transformerEncoderBlock({ dModel: D, numHeads: 2, dimFeedforward: 16, dropout: 0, normFirst });
  const model = sequential([block(), block()]);
  return { model, params: model.init(new Rng(seed)) };
}

const perAdapter = (d: number, m: number): number => 2 * d * m + m + d;

for (const placement of ['houlsby', 'pfeiffer', 'parallel'] as BottleneckPlacement[]) {
  testOnBackends(`bottleneck ${placement}: equals the base at init; count 2·d·m + m + d per adapter; trains only adapters`, async () => {
    const { model, params } = twoBlocks(1, placement !== 'pfeiffer');
    const x = randn(2, [2, 3, D]);
    const yBase = baseOutput(model, params, x);
    addAdapter(model, params, bottleneckConfig({ placement, reductionFactor: 4, nonLinearity: 'gelu', scaling: 2, targetModules: ['0', '1'] }));
    assert.equal(maxAbsDiff(yBase, output(model, params, x)), 0);
    const perBlock = placement === 'houlsby' ? 2 : 1;
    assert.equal(trainableParameters(params).trainable, 2 * perBlock * perAdapter(D, 2));
    const keys = [...flatten(params).keys()].filter((k) => k.includes('adapter_'));
    const layer = placement === 'parallel' || placement === 'pfeiffer' ? ['0.linear2'] : ['0.self_attn.out_proj', '0.linear2'];
    for (const l of layer) assert.ok(keys.includes(`${l}.adapter_down.default.weight`), `${l} in ${keys.join(', ')}`);
    assert.equal(keys.length, 2 * perBlock * 4);
    // A non-zero adapter changes the output; gradients reach only adapter params.
    let seed = 50;
    for (const [k, v] of flatten(params)) if (k.includes('adapter_up')) v.assign(randn(seed++, v.shape));
    assert.ok(maxAbsDiff(yBase, output(model, params, x)) > 1e-4);
    await checkTrainsOnlyAdapters(model, params, [2, 3, D], [2, 3, D]);
    assert.throws(() => merge(model, params), /adapter 'default' is Bottleneck, which cannot be merged/);
    x.dispose();
  });
}

testOnBackends('bottleneck parallel: block output = base + s·f(FFN input) (reference computed by hand)', () => {
  const { model, params } = twoBlocks(3);
  const x = randn(4, [1, 3, D]);
  addAdapter(model, params, bottleneckConfig({ placement: 'parallel', bottleneckSize: 3, scaling: 0.5, targetModules: ['0'] }));
  let seed = 70;
  for (const [k, v] of flatten(params)) if (k.includes('adapter_')) v.assign(randn(seed++, v.shape));
  const block = model.children!['0'];
  const p = params['0'] as Params;
  const flat = flatten(p);
  const got = tf.tidy(() => block.apply(p, x));
  const expected = tf.tidy(() => {
    const c = block.children!;
    const baseOf = (m: Module): Module => (m as unknown as { base: Module }).base;
    const h = tf.add(x, c.self_attn.apply(p.self_attn as Params, c.norm1.apply(p.norm1 as Params, x)));
    const u = c.norm2.apply(p.norm2 as Params, h);
    const ffn = baseOf(c.linear2).apply(p.linear2 as Params, getActivation('gelu')(baseOf(c.linear1).apply(p.linear1 as Params, u)));
    const u2 = tf.reshape(u, [3, D]);
    const down = tf.relu(tf.add(tf.matMul(u2, flat.get('linear2.adapter_down.default.weight')!, false, true), flat.get('linear2.adapter_down.default.bias')!));
    const up = tf.add(tf.matMul(down, flat.get('linear2.adapter_up.default.weight')!, false, true), flat.get('linear2.adapter_up.default.bias')!);
    return tf.add(tf.add(h, ffn), tf.mul(tf.reshape(up, [1, 3, D]), 0.5));
  });
  assert.ok(maxAbsDiff(got, expected) < 1e-5, `${maxAbsDiff(got, expected)}`);
  tf.dispose([x, got, expected]);
});

testOnBackends('bottleneck on MLP linears: sequential y + f(y), parallel y + s·f(x); counts', async () => {
  const a = smallMlp();
  const x = randn(2, [3, 6]);
  const y0 = baseOutput(a.model, a.params, x);
  addAdapter(a.model, a.params, bottleneckConfig({ placement: 'pfeiffer', bottleneckSize: 2, targetModules: ['0'] }));
  assert.equal(maxAbsDiff(y0, output(a.model, a.params, x)), 0);
  assert.equal(trainableParameters(a.params).trainable, perAdapter(5, 2));
  const b = smallMlp();
  addAdapter(b.model, b.params, bottleneckConfig({ placement: 'parallel', bottleneckSize: 2, targetModules: ['0'] }));
  assert.equal(trainableParameters(b.params).trainable, 6 * 2 + 2 + 2 * 5 + 5);
  await checkTrainsOnlyAdapters(b.model, b.params, [4, 6], [4, 4]);
  x.dispose();
});

testOnBackends('bottleneck: bert init is near-identity; config errors', () => {
  const { model, params } = twoBlocks();
  const x = randn(2, [2, 3, D]);
  const yBase = baseOutput(model, params, x);
  addAdapter(model, params, bottleneckConfig({ initWeights: 'bert', targetModules: ['0'] }));
  const diff = maxAbsDiff(yBase, output(model, params, x));
  assert.ok(diff > 0 && diff < 0.05, `${diff}`);
  assert.throws(() => bottleneckConfig({ bottleneckSize: 2, reductionFactor: 4, targetModules: ['0'] }), /bottleneckSize \(2\) or reductionFactor \(4\), not both/);
  assert.throws(() => bottleneckConfig({ placement: 'middle' as never, targetModules: ['0'] }), /placement must be one of "houlsby", "pfeiffer", "parallel"/);
  x.dispose();
});

testOnBackends('bottleneck: save → load round trip is exact; key names', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hyperlab-bottleneck-'));
  const a = twoBlocks(5);
  addAdapter(a.model, a.params, bottleneckConfig({ placement: 'houlsby', bottleneckSize: 3, nonLinearity: 'gelu', scaling: 0.7, targetModules: ['0', '1'] }), 'task');
  let seed = 90;
  for (const [k, v] of flatten(a.params)) if (k.includes('adapter_')) v.assign(randn(seed++, v.shape));
  const x = randn(2, [2, 3, D]);
  const ya = output(a.model, a.params, x);
  saveAdapter(dir, a.model, a.params, 'task');
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'adapter_config.json'), 'utf8'));
  assert.equal(json.peft_type, 'BOTTLENECK');
  assert.equal(json.placement, 'houlsby');
  assert.equal(json.bottleneck_size, 3);
  const { tensors } = decodeSafetensors(new Uint8Array(fs.readFileSync(path.join(dir, 'adapter_model.safetensors'))));
  const keys = [...tensors.keys()].sort();
  assert.equal(keys.length, 16);
  assert.ok(keys.includes('base_model.model.0.self_attn.out_proj.adapter_down.weight'));
  assert.ok(keys.includes('base_model.model.1.linear2.adapter_up.bias'));
  tf.dispose([...tensors.values()]);
  const b = twoBlocks(5);
  loadAdapter(dir, b.model, b.params, 'task');
  assert.equal(maxAbsDiff(ya, output(b.model, b.params, x)), 0);
  x.dispose();
});
