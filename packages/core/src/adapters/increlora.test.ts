import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { maxAbsDiff, testOnBackends } from '../testing/backends.js';
import { flatten, type Params } from '../params/params.js';
import { addAdapter, merge, unmerge } from './framework.js';
import { increloraConfig, increloraGrowth, type IncreloraConfigInput } from './increlora.js';
import { trainableParameters } from './report.js';
import { adapterStateDict } from './save.js';
import { addAtIdentity, checkGrownSaveLoad, ranksOf, trainWithOwnHooks } from './rank-growth-fixtures.js';
import { checkMergeRoundTrip, checkTrainsOnlyAdapters, output, randn, smallMlp, snapshot } from './test-fixtures.js';

const leaf = (params: Params, p: string): tf.Variable => flatten(params).get(p)!;
const values = (params: Params, p: string): number[] => Array.from(leaf(params, p).dataSync());

/** smallMlp (6 → 5 → 4) with IncreLoRA on both layers. */
function adapted(options: Partial<IncreloraConfigInput> = {}): ReturnType<typeof smallMlp> {
  const net = smallMlp();
  addAdapter(net.model, net.params, increloraConfig({ initR: 1, targetR: 2, maxR: 3, totalStep: 30, targetModules: ['0', '1'], ...options }));
  return net;
}

/** Gradients of one for every E and zero for A and B: a triplet's importance then grows with |E_i|. */
function eGradients(params: Params): Map<tf.Variable, tf.Tensor> {
  const grads = new Map<tf.Variable, tf.Tensor>();
  for (const [p, v] of flatten(params)) if (/lora_[AEB]/.test(p)) grads.set(v, /lora_E/.test(p) ? tf.onesLike(v) : tf.zerosLike(v));
  return grads;
}

testOnBackends('increlora: identity at init (E = 0); maxR slots pre-allocated; ranknum leaf (frozen) holds initR; saved keys', () => {
  const { params, record } = addAtIdentity(increloraConfig({ initR: 1, targetR: 2, maxR: 3, totalStep: 10, targetModules: ['0', '1'] }));
  assert.deepEqual(leaf(params, '0.lora_A.default').shape, [3, 6]);
  assert.deepEqual(leaf(params, '0.lora_E.default').shape, [3, 1]);
  assert.deepEqual(leaf(params, '0.lora_B.default').shape, [5, 3]);
  assert.deepEqual(values(params, '1.ranknum.default'), [1]);
  assert.equal(leaf(params, '1.ranknum.default').trainable, false);
  // Every allocated slot counts as trainable (the hooks' activeParams counts the used ones).
  assert.equal(trainableParameters(params).trainable, 3 * (6 + 5 + 1) + 3 * (5 + 4 + 1));
  assert.deepEqual(
    [...adapterStateDict(record).keys()].sort(),
    ['0.lora_A', '0.lora_B', '0.lora_E', '0.ranknum', '1.lora_A', '1.lora_B', '1.lora_E', '1.ranknum'].map((k) => `base_model.model.${k}`),
  );
  // maxR is capped at min(in, out) per layer.
  const other = smallMlp();
  addAdapter(other.model, other.params, increloraConfig({ initR: 1, targetR: 4, maxR: 9, totalStep: 10, targetModules: ['1'] }));
  assert.deepEqual(leaf(other.params, '1.lora_A.default').shape, [4, 5]);
});

testOnBackends('increlora: forward B·(A ⊙ E)·α/(r + 1e-5) over the active slots; gradients reach only the active triplets; merge round trip; training leaves the other slots as they were', async () => {
  const { model, params } = adapted({ initR: 2, targetR: 3, maxR: 4, loraAlpha: 6 });
  leaf(params, '0.lora_E.default').assign(tf.tensor2d([[0.5], [-1], [0], [0]]));
  leaf(params, '1.lora_E.default').assign(tf.tensor2d([[1], [0.3], [0], [0]]));
  const x = randn(2, [3, 6]);
  const [w, bias, a, e, b] = ['0.weight', '0.bias', '0.lora_A.default', '0.lora_E.default', '0.lora_B.default'].map((p) => leaf(params, p));
  const ref = tf.tidy(() => {
    const [a2, e2, b2] = [tf.slice(a, [0, 0], [2, 6]), tf.slice(e, [0, 0], [2, 1]), tf.slice(b, [0, 0], [5, 2])];
    return tf.add(tf.add(tf.matMul(x, w, false, true), bias), tf.mul(tf.matMul(tf.matMul(x, tf.mul(a2, e2), false, true), b2, false, true), 6 / (2 + 1e-5)));
  });
  const y = tf.tidy(() => model.children!['0'].apply(params['0'] as never, x));
  assert.ok(maxAbsDiff(y, ref) < 1e-5);
  // ∂(Σ output)/∂θ is zero at the unused slots 2, 3 (E's gradient is masked; A, B see E = 0) and not at the active ones.
  const vars = [a, e, b];
  const { grads } = tf.variableGrads(() => tf.sum(model.apply(params, x)) as tf.Scalar, vars);
  const rows = (t: tf.Tensor, from: number, to: number): number[] => Array.from(tf.slice(t, [from, 0], [to - from, -1]).dataSync());
  const cols = (t: tf.Tensor, from: number, to: number): number[] => Array.from(tf.slice(t, [0, from], [-1, to - from]).dataSync());
  assert.ok(rows(grads[a.name], 2, 4).every((g) => g === 0) && rows(grads[e.name], 2, 4).every((g) => g === 0) && cols(grads[b.name], 2, 4).every((g) => g === 0));
  assert.ok(rows(grads[e.name], 0, 2).every((g) => g !== 0) && rows(grads[a.name], 0, 2).some((g) => g !== 0) && cols(grads[b.name], 0, 2).some((g) => g !== 0));
  tf.dispose(Object.values(grads));
  checkMergeRoundTrip(model, params, x, ['0.weight', '1.weight']);
  const before = snapshot(params);
  await checkTrainsOnlyAdapters(model, params, [8, 6], [8, 4]);
  // Slots 2 and 3 (rows of A and E, columns of B) are bit-identical after three Adam steps.
  const unused = (t: tf.Tensor, axis: number): number[] => tf.tidy(() => Array.from((axis === 0 ? tf.slice(t, [2, 0], [2, -1]) : tf.slice(t, [0, 2], [-1, 2])).dataSync()));
  for (const layer of ['0', '1']) {
    for (const [key, axis] of [['lora_A', 0], ['lora_E', 0], ['lora_B', 1]] as const) {
      const p = `${layer}.${key}.default`;
      const old = tf.tensor(before.get(p)!, leaf(params, p).shape);
      assert.deepEqual(unused(leaf(params, p), axis), unused(old, axis), `${p}: an unused slot changed`);
      old.dispose();
    }
  }
  tf.dispose([x, y, ref]);
});

testOnBackends('increlora: growth only on schedule, in the highest-importance layer; reserves (E = 1e-5) set up first and zeroed when the budget is spent; merge refused meanwhile', () => {
  const { model, params } = adapted({ tinit: 2, deltaT: 3 });
  const e0 = leaf(params, '0.lora_E.default');
  const e1 = leaf(params, '1.lora_E.default');
  e0.assign(tf.tensor2d([[0.1], [0], [0]]));
  e1.assign(tf.tensor2d([[0.9], [0], [0]]));
  const growth = increloraGrowth(model);
  assert.equal(growth.budget, 4);
  const grads = eGradients(params);
  const grownAt: Record<number, string[]> = {};
  for (let step = 0; step <= 12; step++) {
    const grown = growth.update(step, grads);
    if (grown.length) grownAt[step] = grown;
    if (step === 0) {
      // Advance learning: the next slot of each layer is a reserve with E = 1e-5.
      assert.deepEqual(growth.reserves(), { 0: 1, 1: 1 });
      assert.deepEqual(Array.from(e1.dataSync()), [0.9, 1e-5, 0].map(Math.fround));
      assert.throws(() => merge(model, params), /cannot be merged while its ranks are still growing/);
    }
    assert.ok(Object.values(growth.ranks()).reduce((n, r) => n + r, 0) <= growth.budget);
  }
  // Steps 3 and 6 are the growth steps (> tinit = 2, multiples of deltaT = 3); layer '1' (|E| = 0.9) wins both; the budget of 4 is then spent.
  assert.deepEqual(grownAt, { 3: ['1'], 6: ['1'] });
  assert.deepEqual(growth.ranks(), { 0: 1, 1: 3 });
  assert.deepEqual(values(params, '1.ranknum.default'), [3]);
  assert.equal(growth.growing, false);
  // The reserves are gone (E = 0), the activated slots keep their E.
  assert.deepEqual(growth.reserves(), { 0: 0, 1: 0 });
  assert.deepEqual(Array.from(e0.dataSync()), [0.1, 0, 0].map(Math.fround));
  assert.deepEqual(Array.from(e1.dataSync()), [0.9, 1e-5, 1e-5].map(Math.fround));
  assert.deepEqual(growth.metrics(), { keptRank: 4, activeParams: 1 * (6 + 5 + 1) + 3 * (5 + 4 + 1) });
  assert.deepEqual(growth.summary(), ['IncreLoRA ranks after growth (4 of a budget of 4): 0: 1, 1: 3']);
  merge(model, params);
  unmerge(model, params);
  growth.dispose();
  tf.dispose([...grads.values()]);
});

testOnBackends('increlora: the budget is exact under topH × increRankNum, and tfinal ends growth with budget left', () => {
  // Budget 6, ranks 2 + 2: one round could add 2 × 2 but only 2 fit.
  const first = adapted({ initR: 2, targetR: 3, maxR: 4, topH: 2, increRankNum: 2, deltaT: 1 });
  const g1 = increloraGrowth(first.model);
  const grads = eGradients(first.params);
  leaf(first.params, '0.lora_E.default').assign(tf.tensor2d([[1], [1], [0], [0]]));
  leaf(first.params, '1.lora_E.default').assign(tf.tensor2d([[0.5], [0.5], [0], [0]]));
  for (let step = 0; step < 10; step++) {
    g1.update(step, grads);
    assert.ok(Object.values(g1.ranks()).reduce((n, r) => n + r, 0) <= 6);
  }
  assert.deepEqual(g1.ranks(), { 0: 4, 1: 2 });
  g1.dispose();
  tf.dispose([...grads.values()]);
  // totalStep − tfinal = 3: growth at steps 1 and 2 only, then the ranks are final below the budget.
  const second = adapted({ initR: 1, targetR: 3, maxR: 4, totalStep: 8, tfinal: 5, deltaT: 1 });
  const g2 = increloraGrowth(second.model);
  const grads2 = eGradients(second.params);
  for (let step = 0; step < 8; step++) g2.update(step, grads2);
  assert.equal(Object.values(g2.ranks()).reduce((n, r) => n + r, 0), 2 + 2);
  assert.equal(g2.growing, false);
  g2.dispose();
  tf.dispose([...grads2.values()]);
});

testOnBackends('increlora: restart warmup scales the first updates of a new component by (t − t₀)/W', () => {
  const { model, params } = adapted({ tinit: 2, deltaT: 3, restartWarmup: 4 });
  leaf(params, '1.lora_E.default').assign(tf.tensor2d([[0.9], [0], [0]]));
  leaf(params, '0.lora_E.default').assign(tf.tensor2d([[0.1], [0], [0]]));
  const growth = increloraGrowth(model);
  const grads = eGradients(params);
  for (let step = 0; step <= 3; step++) growth.update(step, grads); // step 3: layer '1' activates slot 1, reserves slot 2
  const variables = [...flatten(params).values()].filter((v) => v.trainable);
  const ctx = { variables, grads: variables.map((v) => grads.get(v)), batch: { x: tf.zeros([1, 6]), y: tf.zeros([1, 4]) }, step: 4 };
  const before = snapshot(params);
  growth.transformGradients(ctx);
  for (const v of variables) if (/lora_/.test(v.name)) v.assign(tf.add(v, 1)); // an "update" of +1 everywhere
  growth.afterStep(ctx);
  const moved = (p: string, index: number): number => leaf(params, p).dataSync()[index] - before.get(p)![index];
  const close = (got: number, want: number): void => assert.ok(Math.abs(got - want) < 1e-5, `moved ${got}, expected ${want}`);
  close(moved('1.lora_E.default', 0), 1); // an initial component: the run's own schedule
  close(moved('1.lora_E.default', 1), 1 / 4); // E of the slot activated at step 3
  close(moved('1.lora_A.default', 2 * 5), 1 / 4); // A of the reserve made at step 3
  close(moved('1.lora_A.default', 1 * 5), 1); // A of slot 1, a reserve since step 0: warmed up
  close(moved('1.lora_B.default', 2), 1 / 4); // B[0, 2], the new reserve's column
  growth.dispose();
  tf.dispose([...grads.values(), ctx.batch.x, ctx.batch.y]);
});

testOnBackends('increlora: train() with the method hooks grows within the budget; summary and keptRank; save → load reproduces the grown forward and ranks', async () => {
  const { model, params } = adapted({ initR: 1, targetR: 2, maxR: 3, tinit: 1, deltaT: 2, totalStep: 8, orthRegWeight: 0.1, restartWarmup: 2 });
  const hooks = await trainWithOwnHooks(model, params, 10);
  const { keptRank, activeParams } = hooks.metrics!();
  const ranks = ranksOf(params);
  assert.equal(keptRank, 4);
  assert.equal(ranks[0] + ranks[1], 4);
  assert.equal(activeParams, ranks[0] * 12 + ranks[1] * 10);
  assert.match(hooks.summary!()[0], new RegExp(`^IncreLoRA ranks after growth \\(4 of a budget of 4\\): 0: ${ranks[0]}, 1: ${ranks[1]}$`));
  hooks.dispose!();
  const x = randn(2, [3, 6]);
  checkMergeRoundTrip(model, params, x, ['0.weight', '1.weight']);
  x.dispose();
  const json = checkGrownSaveLoad(model, params, 'INCRELORA');
  assert.deepEqual([json.init_r, json.target_r, json.max_r, json.advance_learn], [1, 2, 3, true]);
});

testOnBackends('increlora: config errors name the key and the problem', () => {
  assert.throws(() => increloraConfig({ initR: 4, targetR: 2, totalStep: 10, targetModules: ['0'] }), /IncreLoraConfig.targetR \(2\) must be at least initR \(4\)/);
  assert.throws(() => increloraConfig({ tinit: 8, tfinal: 2, totalStep: 10, targetModules: ['0'] }), /tinit \(8\) must be below totalStep − tfinal/);
  assert.throws(() => increloraConfig({ initR: 3, targetR: 4, maxR: 2, totalStep: 10, targetModules: ['0'] }), /IncreLoraConfig.maxR \(2\) must be at least initR \(3\)/);
  assert.throws(() => increloraConfig({ targetModules: ['0'] } as never), /IncreLoraConfig.totalStep is required/);
  assert.throws(() => increloraConfig({ totalStep: 10, targetModules: ['0'], init_r: 2 } as never), /unknown key 'init_r' in IncreLoraConfig — did you mean 'initR'\?/);
  const { model, params } = smallMlp();
  assert.throws(() => addAdapter(model, params, increloraConfig({ initR: 5, targetR: 5, totalStep: 10, targetModules: ['1'] })), /initR = 5 is larger than min\(in, out\) = 4 of layer '1'/);
});
