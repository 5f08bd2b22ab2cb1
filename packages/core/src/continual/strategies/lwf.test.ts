import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { testOnBackends } from '../../testing/backends.js';
import { disposeParams, trainableVariables } from '../../params/params.js';
import { smallModel, strategyContext, tinySplitMnist } from '../test-fixtures.js';
import { validateStrategyConfig } from '../strategy-config.js';
import { lwfStrategy } from './lwf.js';

testOnBackends('LwF: the soft targets come from the frozen previous model; changing the live model does not change them', async () => {
  const bench = tinySplitMnist(20, 10);
  const { model, params } = smallModel(bench, 'class');
  const ctx = strategyContext(bench, 'class', model, params);
  const s = lwfStrategy(validateStrategyConfig({ name: 'lwf' }), ctx);
  const rows = () => ctx.rows.fromPool(ctx.rows.experiencePool(1), Int32Array.from({ length: 8 }, (_, i) => i), 1);
  assert.equal((await s.onBatch!(rows(), 0)).teacher, undefined, 'nothing to distil on the first experience');
  s.afterExperience!(0);
  const first = await s.onBatch!(rows(), 1);
  assert.equal(first.n, 16, 'the batch plus its distillation rows (class scenario: one group)');
  for (const v of trainableVariables(params)) v.assign(tf.add(v, tf.randomNormal(v.shape, 0, 0.5, 'float32', 9)));
  const second = await s.onBatch!(rows(), 1);
  assert.deepEqual(Array.from(second.teacher!), Array.from(first.teacher!));
  // Weights: van de Ven's 1/t for the current rows, 1 − 1/t for the distillation (t = 2).
  const ce = Array.from(first.ceWeight).reduce((a, b) => a + b, 0);
  const kd = Array.from(first.kdWeight).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(ce - 0.5) < 1e-6 && Math.abs(kd - 0.5) < 1e-6, `${ce} / ${kd}`);
  // Class scenario: the teacher's units are the 2 seen before, the student's all 4 seen now.
  assert.equal(first.kdHi[8], 2);
  assert.equal(first.hi[8], 4);
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
    const units = a.hi[8] - a.lo[8]; // class: the 4 classes seen so far; domain: the 2 shared units
    assert.equal(units, scenario === 'class' ? 4 : 2);
    for (let k = 8; k < 16; k++) assert.equal(b.kdWeight[k], Math.fround(a.kdWeight[k] / units), `${scenario} row ${k}`);
    assert.deepEqual(Array.from(b.ceWeight), Array.from(a.ceWeight));
    assert.throws(() => validateStrategyConfig({ name: 'lwf', kdReduction: 'max' }), /kdReduction/);
    sum.dispose();
    mean.dispose();
    disposeParams(params);
  }
});
