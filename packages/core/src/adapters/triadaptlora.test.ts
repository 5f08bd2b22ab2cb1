import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { maxAbsDiff, testOnBackends } from '../testing/backends.js';
import { flatten, type Params } from '../params/params.js';
import { addAdapter, merge, unmerge } from './framework.js';
import { triadaptActiveParams, triadaptGrowth, triadaptloraConfig, triadaptThreshold, type TriadaptloraConfigInput } from './triadaptlora.js';
import { trainableParameters } from './report.js';
import { adapterStateDict } from './save.js';
import { addAtIdentity, checkGrownSaveLoad, ranksOf, trainWithOwnHooks } from './rank-growth-fixtures.js';
import { checkMergeRoundTrip, checkTrainsOnlyAdapters, output, randn, smallMlp, snapshot } from './test-fixtures.js';

const leaf = (params: Params, p: string): tf.Variable => flatten(params).get(p)!;
const matrix = (params: Params, p: string): number[][] => leaf(params, p).arraySync() as number[][];

/** smallMlp (6 → 5 → 4) with TriAdaptLoRA on both layers. */
function adapted(options: Partial<TriadaptloraConfigInput> = {}): ReturnType<typeof smallMlp> {
  const net = smallMlp();
  addAdapter(net.model, net.params, triadaptloraConfig({ initR: 1, targetR: 2, maxR: 3, totalStep: 30, targetModules: ['0', '1'], ...options }));
  return net;
}

/** L (lower trapezoidal, first r columns) and U (upper trapezoidal, first r rows) of a layer, by hand. */
function triangles(params: Params, layer: string, r: number): { l: number[][]; u: number[][] } {
  const b = matrix(params, `${layer}.lora_B.default`);
  const a = matrix(params, `${layer}.lora_A.default`);
  return {
    l: b.map((row, i) => row.slice(0, r).map((v, j) => (j <= i ? v : 0))),
    u: a.slice(0, r).map((row, i) => row.map((v, j) => (j >= i ? v : 0))),
  };
}

const matMul = (p: number[][], q: number[][]): number[][] => p.map((row) => q[0].map((_, j) => row.reduce((sum, v, k) => sum + v * q[k][j], 0)));

testOnBackends('triadaptlora: identity at init (L = 0); U is upper trapezoidal, maxR slots pre-allocated; ranknum frozen at initR; saved keys', () => {
  const { params, record } = addAtIdentity(triadaptloraConfig({ initR: 2, targetR: 3, maxR: 4, totalStep: 10, targetModules: ['0', '1'] }));
  assert.deepEqual(leaf(params, '0.lora_A.default').shape, [4, 6]);
  assert.deepEqual(leaf(params, '0.lora_B.default').shape, [5, 4]);
  assert.ok(matrix(params, '0.lora_A.default').every((row, i) => row.every((v, j) => (j < i ? v === 0 : v !== 0))));
  assert.ok(matrix(params, '1.lora_B.default').every((row) => row.every((v) => v === 0)));
  assert.deepEqual(ranksOf(params), [2, 2]);
  assert.equal(leaf(params, '0.ranknum.default').trainable, false);
  assert.equal(trainableParameters(params).trainable, 4 * (6 + 5) + 4 * (5 + 4));
  assert.deepEqual([...adapterStateDict(record).keys()].sort(), ['0.lora_A', '0.lora_B', '0.ranknum', '1.lora_A', '1.lora_B', '1.ranknum'].map((k) => `base_model.model.${k}`));
});

testOnBackends('triadaptlora: ΔW = s·L·U over the triangles of the first r slots; exactly r·(in + out) − r·(r − 1) entries get gradient; an LU-factored rank-2 matrix is reproduced', () => {
  const { model, params } = adapted({ initR: 2, targetR: 2, maxR: 3, loraAlpha: 4 });
  // Fill every entry, in use or not: only the triangles of the first 2 slots may count.
  ['0.lora_A.default', '0.lora_B.default', '1.lora_A.default', '1.lora_B.default'].forEach((p, i) => leaf(params, p).assign(randn(20 + i, leaf(params, p).shape)));
  const x = randn(2, [32, 6]);
  const [w, bias] = ['0.weight', '0.bias'].map((p) => leaf(params, p));
  const { l, u } = triangles(params, '0', 2);
  const delta = tf.tensor2d(matMul(l, u));
  const ref = tf.tidy(() => tf.add(tf.add(tf.matMul(x, w, false, true), bias), tf.mul(tf.matMul(x, delta, false, true), 4 / 2)));
  const y = tf.tidy(() => model.children!['0'].apply(params['0'] as never, x));
  assert.ok(maxAbsDiff(y, ref) < 1e-5);
  // Gradients: non-zero exactly on the entries in use.
  const vars = ['0', '1'].flatMap((layer) => [leaf(params, `${layer}.lora_A.default`), leaf(params, `${layer}.lora_B.default`)]);
  const { grads } = tf.variableGrads(() => tf.sum(tf.square(model.apply(params, x))) as tf.Scalar, vars);
  const nonZero = (layer: string): number => ['lora_A', 'lora_B'].reduce((n, key) => n + Array.from(grads[leaf(params, `${layer}.${key}.default`).name].dataSync()).filter((g) => g !== 0).length, 0);
  assert.equal(nonZero('0'), triadaptActiveParams({ inFeatures: 6, outFeatures: 5 }, 2));
  assert.equal(nonZero('1'), triadaptActiveParams({ inFeatures: 5, outFeatures: 4 }, 2));
  assert.equal(triadaptActiveParams({ inFeatures: 6, outFeatures: 5 }, 2), 2 * 11 - 2);
  tf.dispose(Object.values(grads));
  // Doolittle's elimination of a random rank-2 M [5, 6] gives L (unit lower, 5×2) and U (upper, 2×6) with L·U = M.
  const m = matMul(randn(5, [5, 2]).arraySync() as number[][], randn(6, [2, 6]).arraySync() as number[][]);
  const uRows = [m[0].slice()];
  const lCols = [m.map((row) => row[0] / uRows[0][0])];
  const rest = m.map((row, i) => row.map((v, j) => v - lCols[0][i] * uRows[0][j]));
  uRows.push(rest[1].slice());
  lCols.push(rest.map((row) => row[1] / uRows[1][1]));
  const lower = m.map((_, i) => [lCols[0][i], i >= 1 ? lCols[1][i] : 0, 0]);
  const upper = [uRows[0], uRows[1].map((v, j) => (j >= 1 ? v : 0)), new Array(6).fill(0)];
  leaf(params, '0.lora_B.default').assign(tf.tensor2d(lower));
  leaf(params, '0.lora_A.default').assign(tf.tensor2d(upper));
  const before = leaf(params, '0.weight').dataSync().slice();
  merge(model, params, ['default']);
  const merged = leaf(params, '0.weight').dataSync();
  assert.ok(maxAbsDiff(Array.from(merged, (v, k) => v - before[k]), m.flat().map((v) => v * 2)) < 1e-4);
  unmerge(model, params);
  tf.dispose([x, y, ref, delta]);
});

testOnBackends('triadaptlora: merge/unmerge round trip; training moves only the entries in use', async () => {
  const { model, params } = adapted({ initR: 2, targetR: 2, maxR: 3 });
  leaf(params, '0.lora_B.default').assign(tf.mul(randn(7, [5, 3]), 0.3));
  leaf(params, '1.lora_B.default').assign(tf.mul(randn(8, [4, 3]), 0.3));
  const x = randn(2, [3, 6]);
  checkMergeRoundTrip(model, params, x, ['0.weight', '1.weight']);
  const before = snapshot(params);
  await checkTrainsOnlyAdapters(model, params, [8, 6], [8, 4]);
  // Slot 2 (row 2 of U, column 2 of L) and the entries outside the triangles are bit-identical.
  for (const layer of ['0', '1']) {
    const [a0, b0] = ['lora_A', 'lora_B'].map((k) => before.get(`${layer}.${k}.default`)!);
    const [a1, b1] = ['lora_A', 'lora_B'].map((k) => leaf(params, `${layer}.${k}.default`).dataSync());
    const [inF, slots] = [leaf(params, `${layer}.lora_A.default`).shape[1]!, 3];
    a1.forEach((v, k) => (Math.floor(k / inF) >= 2 || k % inF < Math.floor(k / inF) ? assert.equal(v, a0[k], `U[${layer}] entry ${k} moved`) : undefined));
    b1.forEach((v, k) => (k % slots >= 2 || k % slots > Math.floor(k / slots) ? assert.equal(v, b0[k], `L[${layer}] entry ${k} moved`) : undefined));
  }
  x.dispose();
});

testOnBackends('triadaptlora: the threshold schedules move from thresholdInit to thresholdFinal over [tinit, totalStep − tfinal]', () => {
  const base = { tinit: 2, tfinal: 2, totalStep: 12, thresholdInit: 0.9, thresholdFinal: 0.4 };
  const at = (schedule: 'linear' | 'exponential' | 'cosine' | 'constant', step: number): number => triadaptThreshold({ ...base, thresholdSchedule: schedule }, step);
  for (const schedule of ['linear', 'exponential', 'cosine'] as const) {
    assert.equal(at(schedule, 0), 0.9);
    assert.ok(Math.abs(at(schedule, 10) - 0.4) < 1e-12);
    assert.ok(Math.abs(at(schedule, 12) - 0.4) < 1e-12);
    for (let t = 2; t < 10; t++) assert.ok(at(schedule, t + 1) < at(schedule, t), `${schedule} rose at ${t}`);
  }
  assert.ok(Math.abs(at('linear', 6) - 0.65) < 1e-12);
  assert.ok(Math.abs(at('exponential', 6) - Math.sqrt(0.9 * 0.4)) < 1e-12);
  assert.ok(Math.abs(at('cosine', 6) - 0.65) < 1e-12);
  assert.equal(at('constant', 7), 0.9);
});

testOnBackends('triadaptlora: growth only on schedule, only in layers whose normalised ‖ΔW‖_F passes τ(t); growing keeps the function; budget and slots never exceeded', () => {
  const { model, params } = adapted({ targetR: 3, tinit: 1, deltaT: 2, totalStep: 12, thresholdInit: 1, thresholdFinal: 0.1 });
  leaf(params, '0.lora_B.default').assign(tf.tensor2d([[1, 0, 0], [0.5, 0, 0], [-1, 0, 0], [0.2, 0, 0], [0.7, 0, 0]]));
  leaf(params, '1.lora_B.default').assign(tf.tensor2d([[0.3, 0, 0], [-0.2, 0, 0], [0.1, 0, 0], [0.25, 0, 0]]));
  const growth = triadaptGrowth(model);
  assert.equal(growth.budget, 6);
  // Î by hand: ‖ΔW‖_F / √(out·in), relative to the larger one (s is common and cancels).
  const norm = (layer: string, inF: number, outF: number): number => {
    const { l, u } = triangles(params, layer, 1);
    return Math.sqrt(matMul(l, u).flat().reduce((n, v) => n + v * v, 0)) / Math.sqrt(inF * outF);
  };
  const [n0, n1] = [norm('0', 6, 5), norm('1', 5, 4)];
  assert.ok(n0 > n1);
  const importance = growth.importance();
  assert.ok(Math.abs(importance['0'] - 1) < 1e-6 && Math.abs(importance['1'] - n1 / n0) < 1e-5);
  // Layer '1' first qualifies at the first growth step (even, in (1, 12)) with τ(t) = 1 − 0.9·(t − 1)/11 ≤ Î₁.
  const firstFor1 = [2, 4, 6, 8, 10].find((t) => 1 - (0.9 * (t - 1)) / 11 <= n1 / n0)!;
  const x = randn(2, [3, 6]);
  const grownAt: Record<number, string[]> = {};
  for (let step = 0; step < 14; step++) {
    const y = output(model, params, x);
    const grown = growth.update(step);
    if (grown.length) grownAt[step] = grown;
    assert.ok(maxAbsDiff(y, output(model, params, x)) === 0, `growing at step ${step} changed the output`);
    const ranks = growth.ranks();
    assert.ok(ranks['0'] + ranks['1'] <= 6 && ranks['0'] <= 3 && ranks['1'] <= 3);
  }
  const expected: Record<number, string[]> = { 2: ['0'], 4: ['0'] };
  let rank1 = 1;
  for (const t of [2, 4, 6, 8, 10]) if (t >= firstFor1 && rank1 < 3) (expected[t] = [...(expected[t] ?? []), '1']), rank1++;
  assert.deepEqual(grownAt, expected);
  assert.deepEqual(ranksOf(params), [3, rank1]);
  assert.equal(growth.growing, false);
  assert.deepEqual(growth.metrics().keptRank, ranksOf(params)[0] + ranksOf(params)[1]);
  growth.dispose();
  x.dispose();
});

testOnBackends('triadaptlora: merge is refused while ranks can grow; train() with the method hooks, then save → load reproduces the grown forward and ranks', async () => {
  const { model, params } = adapted({ initR: 1, targetR: 2, maxR: 3, tinit: 0, deltaT: 1, totalStep: 6, thresholdInit: 0.5, thresholdFinal: 0.5 });
  const growth = triadaptGrowth(model);
  growth.update(0);
  assert.throws(() => merge(model, params), /TriAdaptLoRA adapter 'default' cannot be merged while its ranks are still growing/);
  growth.dispose();
  merge(model, params);
  unmerge(model, params);
  const hooks = await trainWithOwnHooks(model, params, 8);
  const ranks = ranksOf(params);
  assert.ok(ranks[0] + ranks[1] > 2 && ranks[0] + ranks[1] <= 4, `ranks ${ranks}`);
  assert.deepEqual(hooks.metrics!(), { keptRank: ranks[0] + ranks[1], activeParams: triadaptActiveParams({ inFeatures: 6, outFeatures: 5 }, ranks[0]) + triadaptActiveParams({ inFeatures: 5, outFeatures: 4 }, ranks[1]) });
  assert.match(hooks.summary!()[0], new RegExp(`^TriAdaptLoRA ranks after growth \\(${ranks[0] + ranks[1]} of a budget of 4\\): 0: ${ranks[0]}, 1: ${ranks[1]}$`));
  hooks.dispose!();
  const json = checkGrownSaveLoad(model, params, 'TRIADAPTLORA');
  assert.deepEqual([json.threshold_init, json.threshold_schedule, json.max_r], [0.5, 'linear', 3]);
});

testOnBackends('triadaptlora: config errors name the key and the problem', () => {
  assert.throws(() => triadaptloraConfig({ thresholdInit: 1.5, totalStep: 10, targetModules: ['0'] }), /TriAdaptLoraConfig.thresholdInit must be a number in \(0, 1\], got 1.5/);
  assert.throws(() => triadaptloraConfig({ thresholdSchedule: 'step' as never, totalStep: 10, targetModules: ['0'] }), /TriAdaptLoraConfig.thresholdSchedule must be one of "linear", "exponential", "cosine", "constant"/);
  assert.throws(() => triadaptloraConfig({ initR: 3, targetR: 2, totalStep: 10, targetModules: ['0'] }), /TriAdaptLoraConfig.targetR \(2\) must be at least initR \(3\)/);
  const { model, params } = smallMlp();
  assert.throws(() => addAdapter(model, params, triadaptloraConfig({ initR: 5, targetR: 5, totalStep: 10, targetModules: ['1'] })), /TriAdaptLoraConfig.initR = 5 is larger than min\(in, out\) = 4 of layer '1'/);
});
