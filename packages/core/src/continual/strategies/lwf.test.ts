import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { testOnBackends } from '../../testing/backends.js';
import { disposeParams, trainableVariables } from '../../params/params.js';
import { smallModel, strategyContext, tinySplitMnist } from '../test-fixtures.js';
import { validateStrategyConfig } from '../strategy-config.js';
import { lwfStrategy } from './lwf.js';
import { concatRows, scaleWeights, toBatch } from '../rows.js';
import { previousModelRows } from './distillation.js';

testOnBackends('LwF: the soft targets come from the frozen previous model; changing the live model does not change them', async () => {
  const bench = tinySplitMnist(20, 10);
  const { model, params } = smallModel(bench, 'class');
  const ctx = strategyContext(bench, 'class', model, params);
  const s = lwfStrategy(validateStrategyConfig({ name: 'lwf' }), ctx);
  const rows = () => ctx.rows.fromPool(ctx.rows.experiencePool(1), Int32Array.from({ length: 8 }, (_, i) => i), 1);
  assert.equal((await s.onBatch!(rows(), 0)).teacher, undefined, 'nothing to distil on the first experience');
  s.afterExperience!(0);
  const first = await s.onBatch!(rows(), 1);
  assert.equal(first.n, 8, 'class scenario: one group over the batch\'s own units, so the distillation rides on its rows');
  for (const v of trainableVariables(params)) v.assign(tf.add(v, tf.randomNormal(v.shape, 0, 0.5, 'float32', 9)));
  const second = await s.onBatch!(rows(), 1);
  assert.deepEqual(Array.from(second.teacher!), Array.from(first.teacher!));
  // Weights: van de Ven's 1/t for the current rows, 1 − 1/t for the distillation (t = 2).
  const ce = Array.from(first.ceWeight).reduce((a, b) => a + b, 0);
  const kd = Array.from(first.kdWeight).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(ce - 0.5) < 1e-6 && Math.abs(kd - 0.5) < 1e-6, `${ce} / ${kd}`);
  // Class scenario: the teacher's units are the 2 seen before, the student's all 4 seen now.
  assert.equal(first.kdHi[0], 2);
  assert.equal(first.hi[0], 4);
  s.dispose();
  disposeParams(params);
});

testOnBackends("LwF kdReduction 'mean': each distillation row's weight is divided by the student's active units (the reference code's April 2019 loss_fn_kd)", async () => {
  const bench = tinySplitMnist(20, 10);
  for (const scenario of ['class', 'domain'] as const) {
    const { model, params } = smallModel(bench, scenario);
    const ctx = strategyContext(bench, scenario, model, params);
    const rows = () => ctx.rows.fromPool(ctx.rows.experiencePool(1), Int32Array.from({ length: 8 }, (_, i) => i), 1);
    const sum = lwfStrategy(validateStrategyConfig({ name: 'lwf' }), ctx);
    const mean = lwfStrategy(validateStrategyConfig({ name: 'lwf', kdReduction: 'mean' }), ctx);
    sum.afterExperience!(0);
    mean.afterExperience!(0);
    const a = await sum.onBatch!(rows(), 1);
    const b = await mean.onBatch!(rows(), 1);
    const units = a.hi[0] - a.lo[0]; // class: the 4 classes seen so far; domain: the 2 shared units
    assert.equal(units, scenario === 'class' ? 4 : 2);
    for (let k = 0; k < 8; k++) assert.equal(b.kdWeight[k], Math.fround(a.kdWeight[k] / units), `${scenario} row ${k}`);
    assert.deepEqual(Array.from(b.ceWeight), Array.from(a.ceWeight));
    assert.throws(() => validateStrategyConfig({ name: 'lwf', kdReduction: 'max' }), /kdReduction/);
    sum.dispose();
    mean.dispose();
    disposeParams(params);
  }
});

testOnBackends('LwF: distillation on the batch\'s own rows gives the loss and gradients of separate rows, one group per earlier head (every scenario, both reductions)', async () => {
  const bench = tinySplitMnist(20, 10);
  for (const scenario of ['domain', 'class', 'task'] as const) {
    for (const kdReduction of ['sum', 'mean'] as const) {
      const { model, params } = smallModel(bench, scenario);
      const ctx = strategyContext(bench, scenario, model, params);
      const s = lwfStrategy(validateStrategyConfig({ name: 'lwf', kdReduction }), ctx);
      assert.equal(s.trainLoss !== undefined, scenario === 'task', 'only the task scenario needs the grouped loss');
      s.afterExperience!(0);
      s.afterExperience!(1);
      const rows = () => ctx.rows.fromPool(ctx.rows.experiencePool(2), Int32Array.from({ length: 8 }, (_, i) => i), 2);
      const merged = await s.onBatch!(rows(), 2);
      assert.equal(merged.n, 8, `${scenario}: one row per example`);
      assert.ok(merged.kdWeight.every((w) => w > 0) && merged.ceWeight.every((w) => w > 0));
      // The reference form: the batch with its cross-entropy (weight 1/3 at t = 3), then the
      // distillation rows as previousModelRows makes them (task: the batch once per earlier head).
      const outputs = ctx.rows.outputs;
      const plain = rows();
      const reference = concatRows(scaleWeights(rows(), 1 / 3), previousModelRows(ctx, plain.x, plain.n, merged.teacher!, 2, 2 / 3, false, kdReduction), outputs);
      assert.equal(reference.n, scenario === 'task' ? 8 * 3 : 16);
      const lossOf = (r: typeof merged, loss: typeof ctx.loss) => {
        const batch = toBatch(r, ctx.rows.inputSize, outputs);
        const { value, grads } = tf.variableGrads(() => loss(model.apply(params, batch.x, { training: true }), batch.y), trainableVariables(params));
        const out = { value: value.dataSync()[0], grads: Object.values(grads).map((g) => Array.from(g.dataSync())) };
        tf.dispose([value, ...Object.values(grads), batch.x, batch.y]);
        return out;
      };
      const a = lossOf(merged, s.trainLoss ?? ctx.loss);
      const b = lossOf(reference, ctx.loss);
      const label = `${scenario}/${kdReduction}`;
      assert.ok(a.value > 0 && Math.abs(a.value - b.value) < 1e-5 * b.value, `${label}: ${a.value} vs ${b.value}`);
      a.grads.forEach((g, i) => g.forEach((v, j) => assert.ok(Math.abs(v - b.grads[i][j]) < 1e-6 + 1e-4 * Math.abs(b.grads[i][j]), `${label} grad ${i}[${j}]: ${v} vs ${b.grads[i][j]}`)));
      s.dispose();
      disposeParams(params);
    }
  }
});
