import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { maxAbsDiff, testOnBackends } from '../testing/backends.js';
import { flatten, type Params } from '../params/params.js';
import { conv2d } from '../nn/conv2d.js';
import { mlp } from '../nn/mlp.js';
import { Rng } from '../random.js';
import { addAdapter, getAdapter } from './framework.js';
import { floraConfig, floraTrainableCount } from './flora.js';
import { trainableParameters } from './report.js';
import { adapterStateDict, loadAdapter, saveAdapter } from './save.js';
import { truncatedSvd } from './svd.js';
import { baseOutput, checkMergeRoundTrip, checkTrainsOnlyAdapters, output, randn, smallConvNet, smallMlp } from './test-fixtures.js';

const at = (params: Params, p: string): tf.Variable => flatten(params).get(p)!;

/** Fills every FLoRA leaf with N(0, std²) values (the core starts at zero). */
function randomise(params: Params, seed = 40, std = 1): void {
  for (const [p, v] of flatten(params)) if (p.includes('.flora_')) v.assign(tf.tidy(() => tf.mul(randn(seed++, v.shape), std)));
}

/** ΔW[i₁…i_N] = s · Σ_a G[a] · Π_n U_n[i_n, a_n], by the definition, in row-major order. */
function tuckerByHand(core: tf.Tensor, factors: tf.Tensor[], scale: number): { values: Float64Array; shape: number[] } {
  const g = core.dataSync();
  const ranks = core.shape;
  const us = factors.map((u) => u.dataSync());
  const shape = factors.map((u) => u.shape[0]);
  const size = shape.reduce((a, b) => a * b, 1);
  const coreSize = g.length;
  const values = new Float64Array(size);
  const index = (flat: number, dims: readonly number[]): number[] => {
    const out = new Array<number>(dims.length);
    for (let n = dims.length - 1; n >= 0; n--) {
      out[n] = flat % dims[n];
      flat = Math.floor(flat / dims[n]);
    }
    return out;
  };
  for (let e = 0; e < size; e++) {
    const i = index(e, shape);
    let sum = 0;
    for (let c = 0; c < coreSize; c++) {
      const a = index(c, ranks);
      let term = g[c];
      for (let n = 0; n < shape.length; n++) term *= us[n][i[n] * ranks[n] + a[n]];
      sum += term;
    }
    values[e] = scale * sum;
  }
  return { values, shape };
}

/** Singular values of the mode-n unfolding `[I_n, Π_{m≠n} I_m]` of a row-major tensor. */
function unfoldingSingularValues(values: ArrayLike<number>, shape: number[], mode: number): Float64Array {
  const rows = shape[mode];
  const cols = values.length / rows;
  const matrix = new Float64Array(values.length);
  const strides = shape.map((_, n) => shape.slice(n + 1).reduce((a, b) => a * b, 1));
  const counters = new Array(rows).fill(0);
  for (let e = 0; e < values.length; e++) {
    const i = Math.floor(e / strides[mode]) % rows;
    matrix[i * cols + counters[i]++] = values[e];
  }
  return truncatedSvd(matrix, rows, cols, Math.min(rows, cols)).s;
}

testOnBackends('flora conv2d: identity at init (core zero), count Π r + Σ I·r, only the core and factors train', async () => {
  const { model, params } = smallConvNet();
  const x = randn(1, [2, 5, 5, 3]);
  const yBase = baseOutput(model, params, x);
  addAdapter(model, params, floraConfig({ r: [2, 2, 2, 1], scale: 0.5, targetModules: ['0'] }));
  assert.equal(maxAbsDiff(yBase, output(model, params, x)), 0);
  assert.deepEqual(at(params, '0.flora_core.default').shape, [2, 2, 2, 1]);
  assert.deepEqual(Array.from(at(params, '0.flora_core.default').dataSync()), new Array(8).fill(0));
  assert.deepEqual(at(params, '0.flora_out.default').shape, [4, 2]);
  assert.deepEqual(at(params, '0.flora_in.default').shape, [3, 2]);
  assert.deepEqual(at(params, '0.flora_kh.default').shape, [3, 2]);
  assert.deepEqual(at(params, '0.flora_kw.default').shape, [3, 1]);
  const layer = { kind: 'conv2d' as const, inFeatures: 3, outFeatures: 4, kernelSize: [3, 3] as [number, number] };
  assert.equal(floraTrainableCount([2, 2, 2, 1], layer), 2 * 2 * 2 * 1 + 4 * 2 + 3 * 2 + 3 * 2 + 3 * 1);
  assert.equal(trainableParameters(params).trainable, 31);
  // A single r is capped per mode: r = 8 on a 3→4, 3×3 conv gives ranks [4, 3, 3, 3].
  assert.equal(floraTrainableCount(8, layer), 4 * 3 * 3 * 3 + 4 * 4 + 3 * 3 + 3 * 3 + 3 * 3);
  // The factors are N(0, 1/(2r)) (Kaiming normal, a = √3): on a 64 → 64 linear with r = 8, std 1/4.
  const wide = mlp({ sizes: [64, 64] });
  const wideParams = wide.init(new Rng(2));
  addAdapter(wide, wideParams, floraConfig({ r: 8, targetModules: ['0'] }));
  for (const key of ['0.flora_out.default', '0.flora_in.default']) {
    const v = Array.from(at(wideParams, key).dataSync());
    const std = Math.sqrt(v.reduce((a, b) => a + b * b, 0) / v.length);
    assert.ok(Math.abs(std - 0.25) < 0.025, `${key}: std ${std}`);
  }
  await checkTrainsOnlyAdapters(model, params, [2, 5, 5, 3], [2, 5, 5, 2]);
  x.dispose();
});

testOnBackends('flora conv2d: ΔW is exactly s·G ×₁ U_out ×₂ U_in ×₃ U_kh ×₄ U_kw, each mode-n unfolding of rank r_n; forward = conv with W + ΔW; merge/unmerge', () => {
  const { model, params } = smallConvNet(3);
  const ranks = [2, 2, 2, 1];
  const scale = 0.7;
  addAdapter(model, params, floraConfig({ r: ranks, scale, targetModules: ['0'] }));
  randomise(params);
  const inst = (model.children!['0'] as unknown as { adapters: Map<string, unknown> }).adapters.get('default');
  assert.ok(inst);
  const factors = ['out', 'in', 'kh', 'kw'].map((m) => at(params, `0.flora_${m}.default`));
  const ref = tuckerByHand(at(params, '0.flora_core.default'), factors, scale);
  assert.deepEqual(ref.shape, [4, 3, 3, 3]);
  // The merged weight minus the base weight is ΔW, value by value.
  const w0 = at(params, '0.weight').dataSync().slice();
  const x = randn(2, [2, 5, 5, 3]);
  const yAdapted = output(model, params, x);
  checkMergeRoundTrip(model, params, x, ['0.weight']);
  const { merge, unmerge } = { merge: getAdapter(model).method.merge!, unmerge: getAdapter(model).method.unmerge! };
  const layerParams = params['0'] as Params;
  merge(inst as never, layerParams);
  const w1 = at(params, '0.weight').dataSync();
  const delta = Float64Array.from(w1, (v, i) => v - w0[i]);
  unmerge(inst as never, layerParams);
  let worst = 0;
  for (let i = 0; i < delta.length; i++) worst = Math.max(worst, Math.abs(delta[i] - ref.values[i]));
  assert.ok(worst < 1e-4, `ΔW differs from the Tucker product by ${worst}`);
  // Mode-n rank: exactly r_n (generic random factors), never more.
  ranks.forEach((r, mode) => {
    const s = unfoldingSingularValues(ref.values, ref.shape, mode);
    assert.ok(s[r - 1] / s[0] > 1e-3, `mode ${mode}: rank below ${r} (${Array.from(s).join(', ')})`);
    if (r < s.length) assert.ok(s[r] / s[0] < 1e-6, `mode ${mode}: rank above ${r} (${Array.from(s).join(', ')})`);
  });
  // The adapted layer is the base convolution with weight W + ΔW.
  const conv = conv2d({ inChannels: 3, outChannels: 4, kernelSize: 3, padding: 1 });
  const h = tf.tidy(() => model.children!['0'].apply(layerParams, x));
  const expected = tf.tidy(() => conv.apply({ weight: tf.add(at(params, '0.weight'), tf.tensor(Float32Array.from(ref.values), ref.shape)), bias: at(params, '0.bias') } as unknown as Params, x));
  assert.ok(maxAbsDiff(h, expected) < 1e-4, `${maxAbsDiff(h, expected)}`);
  assert.ok(maxAbsDiff(yAdapted, output(model, params, x)) < 1e-5);
  tf.dispose([x, h, expected]);
});

testOnBackends('flora linear: ΔW = s·U_out·G·U_inᵀ (rank ≤ min(r_out, r_in)), forward and merge round trip, count', async () => {
  const { model, params } = smallMlp(4);
  const x = randn(3, [5, 6]);
  const yBase = baseOutput(model, params, x);
  addAdapter(model, params, floraConfig({ r: [3, 2], scale: 2, targetModules: ['0', '1'] }));
  assert.equal(maxAbsDiff(yBase, output(model, params, x)), 0);
  // Layer 0: 6 → 5, ranks [3, 2]; layer 1: 5 → 4, ranks [3, 2].
  assert.equal(trainableParameters(params).trainable, 3 * 2 + 5 * 3 + 6 * 2 + (3 * 2 + 4 * 3 + 5 * 2));
  randomise(params, 70, 0.5);
  const uOut = at(params, '0.flora_out.default');
  const uIn = at(params, '0.flora_in.default');
  const g = at(params, '0.flora_core.default');
  const delta = tf.tidy(() => tf.mul(tf.matMul(tf.matMul(uOut, g), uIn, false, true), 2));
  const ref = tuckerByHand(g, [uOut, uIn], 2);
  assert.ok(maxAbsDiff(delta, Float32Array.from(ref.values)) < 1e-4);
  const s = unfoldingSingularValues(ref.values, [5, 6], 0);
  assert.ok(s[1] / s[0] > 1e-3 && s[2] / s[0] < 1e-6, `rank of ΔW: ${Array.from(s).join(', ')}`);
  const xin = randn(5, [4, 6]);
  const h = tf.tidy(() => model.children!['0'].apply(params['0'] as Params, xin));
  const expected = tf.tidy(() => tf.add(tf.matMul(xin, tf.add(at(params, '0.weight'), delta), false, true), at(params, '0.bias')));
  assert.ok(maxAbsDiff(h, expected) < 1e-4, `${maxAbsDiff(h, expected)}`);
  checkMergeRoundTrip(model, params, x, ['0.weight', '1.weight']);
  await checkTrainsOnlyAdapters(model, params, [8, 6], [8, 4]);
  tf.dispose([x, xin, h, expected, delta]);
});

testOnBackends('flora: config errors name the key and the layer', () => {
  const { model, params } = smallConvNet();
  assert.throws(() => addAdapter(model, params, floraConfig({ r: [2, 2], targetModules: ['0'] })), /FloraConfig\.r has 2 ranks but layer '0' \(conv2d 3 → 4, kernel 3×3\) has 4 modes \(out, in, kh, kw\)/);
  assert.throws(() => addAdapter(model, params, floraConfig({ r: [2, 2, 4, 1], targetModules: ['0'] })), /FloraConfig\.r = \[2, 2, 4, 1\] exceeds the size of mode kh \(3\) of layer '0'/);
  assert.throws(() => floraConfig({ r: [2, 2, 2], targetModules: ['0'] }), /FloraConfig\.r must be a positive integer, or a list of 2 \(linear: \[rOut, rIn\]\) or 4/);
  assert.throws(() => floraConfig({ scale: 'big' as never, targetModules: ['0'] }), /FloraConfig\.scale must be a finite number/);
  assert.throws(() => floraConfig({ floraDropout: 1, targetModules: ['0'] }), /FloraConfig\.floraDropout must be a number in \[0, 1\)/);
  assert.ok([...flatten(params).keys()].every((k) => !k.includes('flora')), 'failed adds leave nothing behind');
});

testOnBackends('flora: save → load round trip is exact (conv and linear layers, named keys)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hyperlab-flora-'));
  const a = smallConvNet(5);
  const record = addAdapter(a.model, a.params, floraConfig({ r: 2, scale: 1.5, floraDropout: 0.1, targetModules: ['0', '2'] }), 'task');
  randomise(a.params, 90);
  const x = randn(2, [2, 5, 5, 3]);
  const ya = output(a.model, a.params, x);
  assert.deepEqual(
    [...adapterStateDict(record).keys()].sort(),
    ['0.flora_core', '0.flora_in', '0.flora_kh', '0.flora_kw', '0.flora_out', '2.flora_core', '2.flora_in', '2.flora_kh', '2.flora_kw', '2.flora_out'].map((k) => `base_model.model.${k}`),
  );
  saveAdapter(dir, a.model, a.params, 'task');
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'adapter_config.json'), 'utf8'));
  assert.equal(json.peft_type, 'FLORA');
  assert.equal(json.r, 2);
  assert.equal(json.scale, 1.5);
  assert.equal(json.flora_dropout, 0.1);
  const b = smallConvNet(5);
  loadAdapter(dir, b.model, b.params, 'task');
  assert.equal(maxAbsDiff(ya, output(b.model, b.params, x)), 0);
  // A 1×1 conv has spatial modes of size 1: r = 2 is capped to [2, 2, 1, 1].
  assert.deepEqual(at(b.params, '2.flora_core.task').shape, [2, 2, 1, 1]);
  fs.rmSync(dir, { recursive: true, force: true });
  x.dispose();
});
