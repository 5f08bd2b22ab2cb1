import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { maxAbsDiff, testOnBackends } from '../testing/backends.js';
import { flatten } from '../params/params.js';
import { Rng } from '../random.js';
import { train } from '../train/loop.js';
import { sgd } from '../train/optimizers.js';
import { addAdapter, merge, unmerge } from './framework.js';
import { adaloraAllocator, adaloraBudget, adaloraConfig, adaloraPenalty } from './adalora.js';
import { trainableParameters } from './report.js';
import { adapterStateDict, loadAdapter, saveAdapter } from './save.js';
import { baseOutput, checkMergeRoundTrip, checkTrainsOnlyAdapters, output, randn, smallConvNet, smallMlp } from './test-fixtures.js';

const leaf = (params: ReturnType<typeof smallMlp>['params'], p: string): tf.Variable => flatten(params).get(p)!;

testOnBackends('adalora: identity at init (E = 0); PEFT layout lora_A/E/B; count r·(in + out + 1) per layer', () => {
  const { model, params } = smallMlp();
  const x = randn(2, [3, 6]);
  const yBase = baseOutput(model, params, x);
  const record = addAdapter(model, params, adaloraConfig({ initR: 3, targetR: 2, totalStep: 10, targetModules: ['0', '1'] }));
  assert.equal(maxAbsDiff(yBase, output(model, params, x)), 0);
  assert.deepEqual(leaf(params, '0.lora_A.default').shape, [3, 6]);
  assert.deepEqual(leaf(params, '0.lora_E.default').shape, [3, 1]);
  assert.deepEqual(leaf(params, '0.lora_B.default').shape, [5, 3]);
  assert.equal(trainableParameters(params).trainable, 3 * (6 + 5 + 1) + 3 * (5 + 4 + 1));
  assert.deepEqual([...adapterStateDict(record).keys()].sort(), ['0.lora_A', '0.lora_B', '0.lora_E', '1.lora_A', '1.lora_B', '1.lora_E'].map((k) => `base_model.model.${k}`));
  x.dispose();
});

testOnBackends('adalora: forward B·(A ⊙ E)·α/(initR + 1e-5); merge/unmerge round trip; training moves only A, E, B', async () => {
  const { model, params } = smallMlp();
  addAdapter(model, params, adaloraConfig({ initR: 4, targetR: 2, loraAlpha: 6, totalStep: 10, targetModules: ['0', '1'] }));
  leaf(params, '0.lora_E.default').assign(tf.tensor2d([[0.5], [-1], [2], [0.3]]));
  leaf(params, '1.lora_E.default').assign(tf.tensor2d([[1], [1], [-1], [0.1]]));
  const x = randn(2, [3, 6]);
  const [w, b, a, e, bb] = ['0.weight', '0.bias', '0.lora_A.default', '0.lora_E.default', '0.lora_B.default'].map((p) => leaf(params, p));
  const ref = tf.tidy(() => tf.add(tf.add(tf.matMul(x, w, false, true), b), tf.mul(tf.matMul(tf.matMul(x, tf.mul(a, e), false, true), bb, false, true), 6 / (4 + 1e-5))));
  const y = tf.tidy(() => model.children!['0'].apply(params['0'] as never, x));
  assert.ok(maxAbsDiff(y, ref) < 1e-5);
  checkMergeRoundTrip(model, params, x, ['0.weight', '1.weight']);
  await checkTrainsOnlyAdapters(model, params, [8, 6], [8, 4]);
  tf.dispose([x, y, ref]);
});

testOnBackends('adalora: the budget schedule is initR·n up to tinit, targetR·n after totalStep − tfinal, cubic and monotone between', () => {
  const config = { tinit: 3, tfinal: 4, totalStep: 20, deltaT: 2 };
  const n = 5;
  const [init, target] = [12 * n, 8 * n];
  let previous = Infinity;
  for (let step = 0; step <= 25; step++) {
    const { budget, mask } = adaloraBudget(config, init, target, step);
    if (step <= 3) assert.deepEqual({ budget, mask }, { budget: init, mask: false });
    else if (step > 16) assert.deepEqual({ budget, mask }, { budget: target, mask: true });
    else {
      assert.equal(budget, Math.trunc((init - target) * (1 - (step - 3) / 13) ** 3 + target));
      assert.equal(mask, step % 2 === 0);
    }
    assert.ok(budget <= previous, `budget rose at step ${step}`);
    assert.ok(budget >= target && budget <= init);
    previous = budget;
  }
  assert.equal(adaloraBudget(config, init, target, 16).budget, target);
  assert.throws(() => adaloraConfig({ totalStep: 5, tinit: 3, tfinal: 2, targetModules: ['0'] }), /no budgeting phase/);
  assert.throws(() => adaloraConfig({ targetModules: ['0'] } as never), /AdaLoraConfig.totalStep is required/);
});

testOnBackends('adalora: allocation masks the lowest-importance triplets across layers; merge refused until the ranks are final', () => {
  const { model, params } = smallMlp();
  addAdapter(model, params, adaloraConfig({ initR: 4, targetR: 2, totalStep: 10, targetModules: ['0', '1'] }));
  const e0 = leaf(params, '0.lora_E.default');
  const e1 = leaf(params, '1.lora_E.default');
  e0.assign(tf.tensor2d([[0.9], [0.2], [0.7], [0.05]]));
  e1.assign(tf.tensor2d([[0.1], [0.8], [0.6], [0.4]]));
  const allocator = adaloraAllocator(model);
  assert.equal(allocator.initBudget, 8);
  assert.equal(allocator.targetBudget, 4);
  // Gradients of one for E and zero for A and B: each triplet's importance is |E_i|.
  const grads = new Map<tf.Variable, tf.Tensor>();
  for (const [p, v] of flatten(params)) if (/lora_/.test(p)) grads.set(v, /lora_E/.test(p) ? tf.onesLike(v) : tf.zerosLike(v));
  // Step 1: budget ⌊4·0.9³ + 4⌋ = 6 of 8, so the two smallest |E| overall (0.05 in '0', 0.1 in '1') go.
  const { budget, rankPattern } = allocator.updateAndAllocate(1, grads);
  assert.equal(budget, 6);
  assert.deepEqual(rankPattern, { '0.lora_E': [true, true, true, false], '1.lora_E': [false, true, true, true] });
  assert.deepEqual(Array.from(e0.dataSync()), [0.9, 0.2, 0.7, 0].map(Math.fround));
  assert.deepEqual(Array.from(e1.dataSync()), [0, 0.8, 0.6, 0.4].map(Math.fround));
  assert.equal(allocator.pruning, true);
  assert.throws(() => merge(model, params), /cannot be merged while its budget schedule is still pruning/);
  // Final allocation at totalStep − tfinal = 10: targetR·n = 4 triplets kept.
  for (let step = 2; step <= 10; step++) allocator.updateAndAllocate(step, grads);
  const final = allocator.rankPattern!;
  assert.equal(Object.values(final).flat().filter(Boolean).length, 4);
  final['0.lora_E'].forEach((keep, i) => keep || assert.equal(e0.dataSync()[i], 0));
  final['1.lora_E'].forEach((keep, i) => keep || assert.equal(e1.dataSync()[i], 0));
  assert.equal(allocator.pruning, false);
  // After the schedule the final mask is re-applied every step.
  e0.assign(tf.ones([4, 1]));
  allocator.updateAndAllocate(11, grads);
  assert.deepEqual(Array.from(e0.dataSync()), final['0.lora_E'].map(Number));
  merge(model, params);
  unmerge(model, params);
  allocator.dispose();
  tf.dispose([...grads.values()]);
});

testOnBackends('adalora: the orthogonal penalty is 0 for orthonormal A, B, positive otherwise, with finite gradients', () => {
  const { model, params } = smallMlp();
  addAdapter(model, params, adaloraConfig({ initR: 2, totalStep: 10, targetR: 1, orthRegWeight: 0.5, targetModules: ['0', '1'] }));
  const eye = (rows: number, cols: number): tf.Tensor => tf.eye(rows, cols);
  leaf(params, '0.lora_A.default').assign(eye(2, 6));
  leaf(params, '0.lora_B.default').assign(eye(5, 2));
  leaf(params, '1.lora_A.default').assign(eye(2, 5));
  leaf(params, '1.lora_B.default').assign(eye(4, 2));
  const zero = adaloraPenalty(model, params);
  assert.ok(Math.abs(zero.dataSync()[0]) < 1e-7);
  const vars = [...flatten(params)].filter(([p]) => /lora_[AB]/.test(p)).map(([, v]) => v);
  const { grads } = tf.variableGrads(() => adaloraPenalty(model, params), vars);
  for (const g of Object.values(grads)) assert.ok(g.dataSync().every(Number.isFinite));
  tf.dispose(Object.values(grads));
  // A = 2·I on layer 0: ‖AAᵀ − I‖_F = ‖3·I₂‖_F = 3√2; the mean over the four matrices × 0.5.
  leaf(params, '0.lora_A.default').assign(tf.mul(eye(2, 6), 2));
  const penalty = adaloraPenalty(model, params);
  assert.ok(Math.abs(penalty.dataSync()[0] - (0.5 * 3 * Math.SQRT2) / 4) < 1e-5);
  tf.dispose([zero, penalty]);
});

testOnBackends('adalora: train() with the allocator hooks ends at targetR·n kept triplets; save → load reproduces the pruned forward', async () => {
  const { model, params } = smallMlp();
  addAdapter(model, params, adaloraConfig({ initR: 3, targetR: 1, totalStep: 4, targetModules: ['0', '1'] }));
  const allocator = adaloraAllocator(model);
  const optimizer = sgd({ lr: 0.1 });
  const result = await train({
    model,
    params,
    loss: 'mse',
    epochs: 6,
    optimizer,
    rng: new Rng(3),
    data: () => [{ x: randn(10, [8, 6]), y: randn(11, [8, 4]) }],
    afterStep: allocator.afterStep,
    penalty: allocator.penalty,
  });
  optimizer.dispose();
  assert.equal(result.steps, 6);
  const pattern = allocator.rankPattern!;
  assert.equal(Object.values(pattern).flat().filter(Boolean).length, 2);
  for (const [key, keep] of Object.entries(pattern)) {
    const e = leaf(params, `${key.replace('.lora_E', '')}.lora_E.default`).dataSync();
    keep.forEach((k, i) => k || assert.ok(e[i] === 0, `${key}[${i}] is masked but ${e[i]}`));
  }
  allocator.dispose();
  const x = randn(2, [3, 6]);
  const y = output(model, params, x);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adalora-'));
  saveAdapter(dir, model, params);
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'adapter_config.json'), 'utf8'));
  assert.equal(json.peft_type, 'ADALORA');
  assert.equal(json.init_r, 3);
  const fresh = smallMlp();
  loadAdapter(dir, fresh.model, fresh.params);
  assert.ok(maxAbsDiff(y, output(fresh.model, fresh.params, x)) < 1e-6);
  fs.rmSync(dir, { recursive: true, force: true });
  x.dispose();
});

testOnBackends('adalora: a rankPattern (PEFT saved after pruning) gives each layer its kept rank', () => {
  const { model, params } = smallMlp();
  addAdapter(model, params, adaloraConfig({ initR: 3, totalStep: 10, targetR: 1, targetModules: ['0', '1'], rankPattern: { '0.lora_E': [true, false, false], '1.lora_E': [true, true, false] } }));
  assert.deepEqual(leaf(params, '0.lora_A.default').shape, [1, 6]);
  assert.deepEqual(leaf(params, '1.lora_B.default').shape, [4, 2]);
  assert.equal(adaloraAllocator(model).initBudget, 3);
  const other = smallMlp();
  assert.throws(
    () => addAdapter(other.model, other.params, adaloraConfig({ initR: 3, totalStep: 10, targetR: 1, targetModules: ['0'], rankPattern: { '0.lora_E': [true] } })),
    /has 1 entries; initR is 3/,
  );
});

testOnBackends('adalora: conv2d (lora_A [r, in·kh·kw], ΔW run as a convolution): identity at init, count, merge round trip, training', async () => {
  const { model, params } = smallConvNet();
  const x = randn(2, [2, 5, 5, 3]);
  const yBase = baseOutput(model, params, x);
  addAdapter(model, params, adaloraConfig({ initR: 2, targetR: 1, totalStep: 10, targetModules: ['0', '2'] }));
  assert.equal(maxAbsDiff(yBase, output(model, params, x)), 0);
  assert.deepEqual(leaf(params, '0.lora_A.default').shape, [2, 3 * 9]);
  assert.deepEqual(leaf(params, '0.lora_B.default').shape, [4, 2]);
  assert.equal(trainableParameters(params).trainable, 2 * (27 + 4 + 1) + 2 * (4 + 2 + 1));
  leaf(params, '0.lora_E.default').assign(tf.tensor2d([[1.5], [-0.7]]));
  leaf(params, '2.lora_E.default').assign(tf.tensor2d([[0.4], [2]]));
  checkMergeRoundTrip(model, params, x, ['0.weight', '2.weight']);
  await checkTrainsOnlyAdapters(model, params, [2, 5, 5, 3], [2, 5, 5, 2]);
  x.dispose();
});
