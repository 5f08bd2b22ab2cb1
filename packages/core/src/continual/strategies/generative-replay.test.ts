import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { testOnBackends } from '../../testing/backends.js';
import { disposeParams, trainableVariables } from '../../params/params.js';
import { smallModel, strategyContext, tinySplitMnist } from '../test-fixtures.js';
import { validateStrategyConfig } from '../strategy-config.js';
import { generativeReplayStrategy } from './generative-replay.js';
import { concatRows, scaleWeights, toBatch, type RowBatch } from '../rows.js';
import { previousModelRows } from './distillation.js';

testOnBackends('DGR+distill, task scenario: the replayed batch once with every earlier head distilled as a group gives the loss and gradients of one copy per head', async () => {
  const bench = tinySplitMnist(20, 10);
  const { model, params } = smallModel(bench, 'task');
  const ctx = strategyContext(bench, 'task', model, params);
  const s = generativeReplayStrategy(validateStrategyConfig({ name: 'generative-replay', vaeHidden: [16], zDim: 4, vaeIterations: 2 }), ctx);
  assert.ok(s.trainLoss, 'the task scenario with distillation trains on the grouped loss');
  await s.afterExperience!(0);
  await s.afterExperience!(1);
  const rows = () => ctx.rows.fromPool(ctx.rows.experiencePool(2), Int32Array.from({ length: 8 }, (_, i) => i), 2);
  const merged = await s.onBatch!(rows(), 2);
  const n = ctx.train.batchSize;
  const { inputSize, outputs } = ctx.rows;
  assert.equal(merged.n, 8 + n, 'the batch, then the replayed samples once (not once per earlier head)');
  // The replayed rows, after the batch's 8.
  assert.ok(merged.ceWeight.subarray(8).every((w) => w === 0) && merged.kdWeight.subarray(8).every((w) => w > 0));
  assert.ok(merged.kdLo.subarray(8).every((v) => v === 0) && merged.kdHi.subarray(8).every((v) => v === 4), 'heads 0 and 1 (units 0–3) are distilled');
  // The reference form: the batch at weight 1/3, then previousModelRows' rows (one copy per head) at 2/3.
  const reference = concatRows(scaleWeights(rows(), 1 / 3), previousModelRows(ctx, merged.x.subarray(8 * inputSize), n, merged.teacher!.subarray(8 * outputs), 2, 2 / 3), outputs);
  assert.equal(reference.n, 8 + 2 * n);
  const lossOf = (r: RowBatch, loss: typeof ctx.loss) => {
    const batch = toBatch(r, inputSize, outputs);
    const { value, grads } = tf.variableGrads(() => loss(model.apply(params, batch.x, { training: true }), batch.y), trainableVariables(params));
    const out = { value: value.dataSync()[0], grads: Object.values(grads).map((g) => Array.from(g.dataSync())) };
    tf.dispose([value, ...Object.values(grads), batch.x, batch.y]);
    return out;
  };
  const a = lossOf(merged, s.trainLoss!);
  const b = lossOf(reference, ctx.loss);
  assert.ok(a.value > 0 && Math.abs(a.value - b.value) < 1e-5 * b.value, `${a.value} vs ${b.value}`);
  a.grads.forEach((g, i) => g.forEach((v, j) => assert.ok(Math.abs(v - b.grads[i][j]) < 1e-6 + 1e-4 * Math.abs(b.grads[i][j]), `grad ${i}[${j}]: ${v} vs ${b.grads[i][j]}`)));
  // Without distillation (hard labels per head) the rows stay one copy per head.
  const hard = generativeReplayStrategy(validateStrategyConfig({ name: 'generative-replay', distill: false, vaeHidden: [16], zDim: 4, vaeIterations: 2 }), ctx);
  assert.equal(hard.trainLoss, undefined);
  s.dispose();
  hard.dispose();
  disposeParams(params);
});
