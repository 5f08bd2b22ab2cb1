import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { testOnBackends } from '../testing/backends.js';
import { Rng } from '../random.js';
import { flatten, type Params } from '../params/params.js';
import { mlp } from '../nn/mlp.js';
import { train, type GradientContext } from '../train/loop.js';
import { resolveLoss } from '../train/losses.js';
import { adam } from '../train/optimizers.js';
import { changedEntries, largestMagnitudeIndices } from './sparse-ft.js';
import { spielHooks, spielRate, spielRevise, type SpielHooks } from './spiel.js';
import { applyWholeModelMethod } from './training-hooks.js';
import { randn, snapshot } from './test-fixtures.js';

const CONFIG = { density: 0.25, updateEvery: 4, accumulationSteps: 2, dropFraction: 0.5, ratePolicy: 'linear' as const, modulesToSave: [] };
const STEPS = 14;

testOnBackends('spiel: one revision drops the smallest |delta|, grows the largest |Σg| among candidates not still active; an index both dropped and regrown keeps its slot', () => {
  const r = spielRevise(Int32Array.from([0, 1, 2, 3]), [0.5, 0.1, 0.3, 0.2], Int32Array.from([1, 5, 6, 2]), [9, 4, 7, 8], 2);
  // Outgoing: 1 (0.1), 3 (0.2); candidate 2 is still active; incoming: 1 (9), 6 (7); 1 is both.
  assert.deepEqual([...r.active], [0, 1, 2, 6]);
  assert.deepEqual([r.dropped, r.grown, r.slots], [[3], [6], [3]]);
  // p = 1 with fewer new candidates than slots: only as many slots change as there are newcomers.
  const all = spielRevise(Int32Array.from([0, 1, 2]), [0.1, 0.2, 0.3], Int32Array.from([0, 1, 4]), [5, 5, 1], 3);
  assert.deepEqual([...all.active], [0, 1, 4]);
  assert.deepEqual([all.dropped, all.grown], [[2], [4]]);
  // Rates: 1 at the first revision, then linear or cosine decay to 0 at T.
  const cfg = { dropFraction: 0.2, accumulationSteps: 5, ratePolicy: 'linear' as const };
  assert.equal(spielRate(cfg, 5, 100), 1);
  assert.ok(Math.abs(spielRate(cfg, 25, 100) - 0.15) < 1e-12);
  assert.ok(Math.abs(spielRate({ ...cfg, ratePolicy: 'cosine' }, 50, 100) - 0.1) < 1e-12);
  assert.ok(Math.abs(spielRate({ ...cfg, ratePolicy: 'cosine' }, 100, 100)) < 1e-12);
});

/** Trains STEPS steps with SpIEL hooks, recording the raw gradient of `0.weight` at every step. */
async function runSpiel(withOptimizer: boolean, onAfterStep?: (ctx: GradientContext, hooks: SpielHooks, optimizer: ReturnType<typeof adam>) => void) {
  const model = mlp({ sizes: [10, 8, 4] });
  const params = model.init(new Rng(1));
  const before = snapshot(params);
  const optimizer = adam({ lr: 1e-2 });
  const hooks = spielHooks(model, params, CONFIG, { totalSteps: STEPS, rng: new Rng(2), ...(withOptimizer ? { optimizer } : {}) });
  const x = randn(3, [16, 10]);
  const y = randn(4, [16, 4]);
  const weight = flatten(params).get('0.weight')!;
  const grads: Float32Array[] = [];
  await train({
    model,
    params,
    loss: 'mse',
    epochs: STEPS,
    optimizer,
    rng: new Rng(3),
    data: () => [{ x: x.clone(), y: y.clone() }],
    transformGradients: (ctx) => {
      grads.push(ctx.grads[ctx.variables.indexOf(weight)]!.dataSync().slice() as Float32Array);
      return hooks.transformGradients!(ctx);
    },
    afterStep: (ctx) => {
      hooks.afterStep!(ctx);
      onAfterStep?.(ctx, hooks, optimizer);
    },
  });
  return { model, params, before, hooks, grads, x, y, optimizer };
}

testOnBackends('spiel: revisions after 2, 6, 10, 14 steps; the first replaces the random start by the top-k |g| of step 0; candidates and mean gradients come from SpIEL\'s phase steps', async () => {
  const { model, params, before, hooks, grads, x, y, optimizer } = await runSpiel(false);
  assert.deepEqual(hooks.revisions.map((r) => r.completed), [2, 6, 10, 14]);
  assert.deepEqual(hooks.revisions.map((r) => Number(r.rate.toFixed(6))), [1, Number((0.5 * (1 - 6 / 14)).toFixed(6)), Number((0.5 * (1 - 10 / 14)).toFixed(6)), 0]);
  // The first revision: the k entries of largest |g| at the initial weights (step 0), computed here independently.
  const params0: Params = { '0': { weight: tf.variable(tf.tensor(before.get('0.weight')!, [8, 10])), bias: tf.variable(tf.tensor(before.get('0.bias')!, [8])) }, '1': { weight: tf.variable(tf.tensor(before.get('1.weight')!, [4, 8])), bias: tf.variable(tf.tensor(before.get('1.bias')!, [4])) } };
  const w0 = (params0['0'] as Params).weight as tf.Variable;
  const { grads: g0 } = tf.variableGrads(() => resolveLoss('mse')(model.apply(params0, x, { training: true, rng: new Rng(0) }), y) as tf.Scalar, [w0]);
  const first = hooks.revisions[0].changes['0.weight'];
  assert.deepEqual([...first.active].sort((a, b) => a - b), [...largestMagnitudeIndices(g0[w0.name].dataSync(), 20)]);
  // Phase 1 watches steps 3, 4, 5 (it begins when (completed + 1) % 4 == 0) and revises after 6.
  const second = hooks.revisions[1].changes['0.weight'];
  assert.ok(second.grown.length > 0, 'the second revision moved indices');
  const candidates = new Set(largestMagnitudeIndices(grads[3], 20));
  second.grown.forEach((index, j) => {
    assert.ok(candidates.has(index), `grown index ${index} was not a candidate of step 3`);
    const mean = (grads[3][index] + grads[4][index] + grads[5][index]) / 3;
    assert.ok(Math.abs(second.meanGrad[j] - mean) <= 1e-6 * Math.max(1, Math.abs(mean)), `mean gradient of ${index}: ${second.meanGrad[j]} vs ${mean}`);
  });
  // Only active entries ever differ from θ₀, bit for bit; no more than density·size changed; biases frozen.
  for (const t of hooks.targets) {
    const now = t.variable.dataSync();
    const active = new Set(t.active);
    for (let i = 0; i < now.length; i++) if (!active.has(i)) assert.ok(Object.is(now[i], t.initial[i]), `${t.path}[${i}] is not active but changed`);
    assert.ok(changedEntries(t) <= CONFIG.density * t.variable.size);
  }
  for (const path of ['0.bias', '1.bias']) assert.deepEqual(flatten(params).get(path)!.dataSync(), before.get(path));
  assert.match(hooks.summary!()[0], /^SpIEL: 28 of 112 entries of 2 weight tensors may change \(25\.00 %\); 4 revisions moved \d+ indices$/);
  assert.equal(hooks.metrics!().spielRevisions, 4);
  hooks.dispose!();
  optimizer.dispose();
  tf.dispose([x, y, g0[w0.name]]);
  Object.values(params0).forEach((p) => Object.values(p as Params).forEach((v) => (v as tf.Variable).dispose()));
});

testOnBackends('spiel: with the optimizer, a revision zeroes the moments of dropped indices and seeds grown ones with the mean g, g² times (1 − βᵗ)', async () => {
  let checked = 0;
  const { hooks, optimizer, x, y } = await runSpiel(true, (ctx, hooks, optimizer) => {
    if (ctx.step + 1 !== 6) return;
    const change = hooks.revisions[1].changes['0.weight'];
    const slot = optimizer.state().slots.find((s) => s.variable === hooks.targets[0].variable)!;
    const m = slot.tensors.exp_avg.dataSync();
    const v = slot.tensors.exp_avg_sq.dataSync();
    for (const index of change.dropped) assert.equal(m[index], 0);
    change.grown.forEach((index, j) => {
      const wantM = change.meanGrad[j] * (1 - 0.9 ** slot.step);
      const wantV = change.meanGradSq[j] * (1 - 0.999 ** slot.step);
      assert.ok(Math.abs(m[index] - wantM) <= 1e-6 * Math.abs(wantM) + 1e-12, `m[${index}] ${m[index]} vs ${wantM}`);
      assert.ok(Math.abs(v[index] - wantV) <= 1e-6 * Math.abs(wantV) + 1e-15, `v[${index}] ${v[index]} vs ${wantV}`);
    });
    checked = change.grown.length;
  });
  assert.ok(checked > 0, 'the revision after 6 steps grew indices');
  hooks.dispose!();
  optimizer.dispose();
  tf.dispose([x, y]);
});

testOnBackends('spiel: registered (method spiel); needs the run\'s steps; accumulationSteps must fit between revisions', () => {
  const model = mlp({ sizes: [10, 8, 4] });
  const params = model.init(new Rng(1));
  const { config, applied } = applyWholeModelMethod(model, params, { method: 'spiel', density: 0.1 }, { rng: new Rng(1), totalSteps: 100 });
  assert.deepEqual([config.updateEvery, config.accumulationSteps, config.dropFraction, config.ratePolicy], [20, 5, 0.2, 'linear']);
  applied.hooks!.dispose!();
  assert.throws(() => applyWholeModelMethod(model, params, { method: 'spiel', density: 0.1 }, { rng: new Rng(1) }), /SpIEL needs the run's total steps/);
  assert.throws(() => applyWholeModelMethod(model, params, { method: 'spiel', updateEvery: 5, accumulationSteps: 5 }, { rng: new Rng(1), totalSteps: 10 }), /SpielConfig\.accumulationSteps \(5\) must be smaller than SpielConfig\.updateEvery \(5\)/);
  assert.throws(() => applyWholeModelMethod(model, params, { method: 'spiel', dropFraction: 1.5 }, { rng: new Rng(1), totalSteps: 10 }), /SpielConfig\.dropFraction must be a number in \(0, 1\], got 1\.5/);
});
