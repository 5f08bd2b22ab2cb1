import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { testOnBackends } from '../../testing/backends.js';
import { disposeParams, trainableVariables } from '../../params/params.js';
import { smallModel, strategyContext, tinySplitMnist } from '../test-fixtures.js';
import { validateStrategyConfig } from '../strategy-config.js';
import { estimateFisher, ewcStrategy } from './ewc.js';

testOnBackends('EWC: the penalty is zero at the anchor and ½λ·ΣF·δ² away from it (quadratic in δ)', async () => {
  const bench = tinySplitMnist(20, 10);
  const { model, params } = smallModel(bench, 'task');
  const ctx = strategyContext(bench, 'task', model, params);
  const lambda = 3;
  const s = ewcStrategy(validateStrategyConfig({ name: 'ewc', ewcLambda: lambda, fisherSamples: 8 }), ctx);
  assert.equal(s.penalty!({} as never), undefined, 'no penalty before the first experience ends');
  await s.afterExperience!(0);
  const at = s.penalty!({} as never)!;
  assert.equal(at.dataSync()[0], 0);
  at.dispose();
  const fisher = s.quadratic.terms[0].importance;
  assert.ok(fisher.every((f) => f.dataSync().every((v) => v >= 0)), 'a Fisher is non-negative');
  const totalF = fisher.reduce((sum, f) => sum + tf.sum(f).dataSync()[0], 0);
  assert.ok(totalF > 0);
  const variables = trainableVariables(params);
  const shift = (delta: number): number => {
    const saved = variables.map((v) => v.clone());
    variables.forEach((v) => v.assign(tf.add(v, delta)));
    const p = s.penalty!({} as never)!;
    const value = p.dataSync()[0];
    p.dispose();
    variables.forEach((v, k) => v.assign(saved[k]));
    saved.forEach((t) => t.dispose());
    return value;
  };
  const p1 = shift(0.01);
  const p2 = shift(0.02);
  assert.ok(Math.abs(p1 - 0.5 * lambda * totalF * 1e-4) <= 1e-3 * p1, `penalty ${p1} vs ½λΣF·δ² ${0.5 * lambda * totalF * 1e-4}`);
  assert.ok(Math.abs(p2 / p1 - 4) < 1e-2, `doubling δ quadruples the penalty (${p2 / p1})`);
  // separate mode: one term per experience.
  await s.afterExperience!(1);
  assert.equal(s.quadratic.terms.length, 2);
  s.dispose();
  disposeParams(params);
});

testOnBackends('online EWC: one running Fisher F ← F_new + decayFactor·F_old; Fisher from predicted labels by default', async () => {
  const bench = tinySplitMnist(20, 10);
  const { model, params } = smallModel(bench, 'class');
  const ctx = strategyContext(bench, 'class', model, params);
  const s = ewcStrategy(validateStrategyConfig({ name: 'online-ewc', decayFactor: 0.5, fisherSamples: 6 }), ctx);
  await s.afterExperience!(0);
  const first = s.quadratic.terms[0].importance.map((f) => f.clone());
  await s.afterExperience!(1);
  assert.equal(s.quadratic.terms.length, 1, 'online keeps one term');
  const variables = trainableVariables(params);
  const fresh = await estimateFisher(ctx, variables, 1, { fisherSamples: 6, empFI: false });
  s.quadratic.terms[0].importance.forEach((f, k) => {
    const expected = tf.add(fresh[k], tf.mul(first[k], 0.5));
    assert.ok(tf.max(tf.abs(tf.sub(f, expected))).dataSync()[0] <= 1e-6 * (1 + tf.max(expected).dataSync()[0]));
    expected.dispose();
  });
  assert.equal(s.quadratic.terms[0].scale, 0.5 * 1e8 * 0.5, 'van de Ven: ½·λ·γ');
  const empirical = await estimateFisher(ctx, variables, 1, { fisherSamples: 6, empFI: true });
  assert.ok(empirical.some((f, k) => tf.max(tf.abs(tf.sub(f, fresh[k]))).dataSync()[0] > 0), 'the empirical Fisher differs');
  [...first, ...fresh, ...empirical].forEach((t) => t.dispose());
  s.dispose();
  disposeParams(params);
});
