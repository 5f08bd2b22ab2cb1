import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { testOnBackends } from '../../testing/backends.js';
import { Rng } from '../../random.js';
import { disposeParams, trainableVariables } from '../../params/params.js';
import { smallModel, strategyContext, tinySplitMnist } from '../test-fixtures.js';
import { validateStrategyConfig } from '../strategy-config.js';
import { toBatch } from '../rows.js';
import { agemStrategy, projectGradient } from './agem.js';

const dot = (a: tf.Tensor[], b: tf.Tensor[]): number => a.reduce((s, t, k) => s + tf.sum(tf.mul(t, b[k])).dataSync()[0], 0);

testOnBackends('A-GEM: the projection leaves g·g_ref ≥ 0, keeps agreeing gradients, and the step does not raise the memory loss', async () => {
  const rng = new Rng(3);
  const g = [tf.tensor(rng.fillNormal(new Float32Array(6))), tf.tensor(rng.fillNormal(new Float32Array(4)))];
  const ref = g.map((t) => tf.neg(tf.add(t, tf.mul(tf.randomNormal(t.shape, 0, 0.1, 'float32', 1), 1))));
  assert.ok(dot(g, ref) < 0);
  const projected = projectGradient(g, ref);
  assert.ok(dot(projected, ref) >= -1e-5, `after projection g·g_ref = ${dot(projected, ref)}`);
  const same = projectGradient(g, g);
  assert.ok(same.every((t, k) => tf.max(tf.abs(tf.sub(t, g[k]))).dataSync()[0] === 0), 'no conflict: unchanged');

  // Through the strategy: memory from experience 0, a batch of experience 1.
  const bench = tinySplitMnist(30, 10);
  const { model, params } = smallModel(bench, 'class');
  const ctx = strategyContext(bench, 'class', model, params);
  const s = agemStrategy(validateStrategyConfig({ name: 'agem', patternsPerExp: 20, sampleSize: 20 }), ctx);
  s.afterExperience!(0);
  const pool = ctx.rows.experiencePool(1);
  const rows = ctx.rows.fromPool(pool, Int32Array.from({ length: 16 }, (_, i) => i), 1);
  s.onBatch!(rows, 1);
  const memory = ctx.rows.fromPool(ctx.rows.experiencePool(0), Int32Array.from({ length: 20 }, (_, i) => i), 1);
  const variables = trainableVariables(params);
  const memBatch = toBatch(memory, 784, ctx.rows.outputs);
  const memLoss = (): number => tf.tidy(() => ctx.loss(model.apply(params, memBatch.x), memBatch.y).dataSync()[0]);
  const batch = toBatch(rows, 784, ctx.rows.outputs);
  const lossBefore = memLoss();
  tf.tidy(() => {
    const { grads } = tf.variableGrads(() => ctx.loss(model.apply(params, batch.x), batch.y), variables);
    const list = variables.map((v) => grads[v.name]);
    const out = s.afterBackward!({ variables, grads: list, batch, step: 0 });
    // A small step along the projected gradient.
    variables.forEach((v, k) => v.assign(tf.sub(v, tf.mul(out[k]!, 1e-3))));
  });
  assert.ok(memLoss() <= lossBefore + 1e-6, `memory loss ${lossBefore} → ${memLoss()}`);
  [...g, ...ref, ...projected, ...same, memBatch.x, memBatch.y, batch.x, batch.y].forEach((t) => t.dispose());
  s.dispose();
  disposeParams(params);
});
