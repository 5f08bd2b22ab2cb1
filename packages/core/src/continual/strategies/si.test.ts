import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { testOnBackends } from '../../testing/backends.js';
import { disposeParams, setTrainable, trainableVariables } from '../../params/params.js';
import { train } from '../../train/loop.js';
import { sgd } from '../../train/optimizers.js';
import { smallModel, strategyContext, tinySplitMnist } from '../test-fixtures.js';
import { validateStrategyConfig } from '../strategy-config.js';
import { toBatch } from '../rows.js';
import { minibatchPositions } from './pools.js';
import { siStrategy } from './si.js';

testOnBackends('SI: with SGD the importance is non-negative (and positive somewhere); frozen params get none', async () => {
  const bench = tinySplitMnist(32, 10);
  const { model, params } = smallModel(bench, 'class');
  setTrainable(params, ['0.*'], false);
  const frozen = (params['0'] as Record<string, tf.Variable>).weight;
  const ctx = strategyContext(bench, 'class', model, params);
  const s = siStrategy(validateStrategyConfig({ name: 'si', siLambda: 1 }), ctx);
  assert.equal(s.quadratic.variables.length, trainableVariables(params).length);
  assert.ok(!s.quadratic.variables.includes(frozen), 'the frozen layer is not penalised');
  const optimizer = sgd({ lr: 0.05 });
  for (const experience of [0, 1]) {
    s.beforeExperience!(experience);
    const pool = ctx.rows.experiencePool(experience);
    const positions = minibatchPositions(pool.indices.length, 8, 6, ctx.rng.fork(`t${experience}`));
    await train({
      model,
      params,
      loss: ctx.loss,
      data: function* () {
        for (const p of positions) yield toBatch(ctx.rows.fromPool(pool, p, experience), 784, ctx.rows.outputs);
      },
      epochs: 1,
      optimizer,
      rng: ctx.rng,
      penalty: (c) => s.penalty!(c) ?? tf.scalar(0),
      afterStep: (c) => s.afterStep!(c),
    });
    s.afterExperience!(experience);
    const omega = s.quadratic.terms[0].importance;
    assert.ok(omega.every((w) => w.dataSync().every((v) => v >= 0)), `ω ≥ 0 after experience ${experience}`);
    assert.ok(omega.some((w) => tf.max(w).dataSync()[0] > 0));
  }
  // Moving the frozen weight changes nothing in the penalty.
  const before = s.penalty!({} as never)!.dataSync()[0];
  frozen.assign(tf.add(frozen, 1));
  assert.equal(s.penalty!({} as never)!.dataSync()[0], before);
  optimizer.dispose();
  s.dispose();
  disposeParams(params);
});
