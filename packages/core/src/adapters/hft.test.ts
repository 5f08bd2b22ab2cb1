import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { testOnBackends } from '../testing/backends.js';
import { Rng } from '../random.js';
import { flatten, type Params } from '../params/params.js';
import { mlp } from '../nn/mlp.js';
import { sequential } from '../nn/sequential.js';
import { embedding } from '../nn/embedding.js';
import { linear } from '../nn/linear.js';
import { transformerEncoderBlock } from '../nn/transformer.js';
import { train } from '../train/loop.js';
import { adam } from '../train/optimizers.js';
import type { GradientContext } from '../train/loop.js';
import { chooseCategoryMembers, hftHooks, hftRoundSelection, hftUnits } from './hft.js';
import { applyWholeModelMethod, getWholeModelMethod } from './training-hooks.js';
import { randn, snapshot } from './test-fixtures.js';

function tinyTransformer(): { model: ReturnType<typeof sequential>; params: Params } {
  const block = (): ReturnType<typeof transformerEncoderBlock> => transformerEncoderBlock({ dModel: 8, numHeads: 2, dimFeedforward: 12, dropout: 0 });
  const model = sequential({ embed: embedding({ numEmbeddings: 10, embeddingDim: 8 }), block0: block(), block1: block(), block2: block(), head: linear({ inFeatures: 8, outFeatures: 3 }) });
  return { model, params: model.init(new Rng(1)) };
}

testOnBackends('hft: category-level choice in transformer blocks — 2 of 4 attention projections, 1 of 2 FFN linears, 1 of 2 norms per block; embeddings and modulesToSave always', () => {
  const { model, params } = tinyTransformer();
  const units = hftUnits(model, params, ['head']);
  const byPath = new Map(units.map((u) => [u.path, u]));
  assert.equal(byPath.get('block1.self_attn.k_proj')!.category, 'attention');
  assert.equal(byPath.get('block1.self_attn.k_proj')!.block, 'block1');
  assert.equal(byPath.get('block0.linear2')!.category, 'ffn');
  assert.equal(byPath.get('block2.norm1')!.category, 'norm');
  assert.equal(byPath.get('embed')!.role, 'always');
  assert.equal(byPath.get('head')!.role, 'always');
  // A linear's weight and bias are one matrix.
  assert.deepEqual(byPath.get('block0.linear1')!.leaves.map((l) => l.path), ['block0.linear1.weight', 'block0.linear1.bias']);
  const seen = new Set<string>();
  for (let round = 0; round < 12; round++) {
    const trained = hftRoundSelection(units, 0.5, new Rng(7).fork(`round:${round}`));
    assert.ok(trained.has('embed') && trained.has('head'));
    for (const block of ['block0', 'block1', 'block2']) {
      const count = (prefix: string, names: string[]): number => names.filter((n) => trained.has(`${block}.${prefix}${n}`)).length;
      assert.equal(count('self_attn.', ['q_proj', 'k_proj', 'v_proj', 'out_proj']), 2);
      assert.equal(count('', ['linear1', 'linear2']), 1);
      assert.equal(count('', ['norm1', 'norm2']), 1);
    }
    seen.add([...trained].sort().join(','));
  }
  assert.ok(seen.size > 6, `the choice changes from round to round (${seen.size} distinct of 12)`);
});

testOnBackends('hft: an odd category (three matrices per block, as LLaMA\'s FFN) trains two in half the blocks and one in the other half', () => {
  const groups = [0, 1, 2, 3].map((b) => [`${b}.gate`, `${b}.up`, `${b}.down`]);
  for (let seed = 0; seed < 10; seed++) {
    const chosen = chooseCategoryMembers(groups, 0.5, new Rng(seed));
    assert.equal(chosen.length, 6);
    const perBlock = groups.map((g) => g.filter((m) => chosen.includes(m)).length).sort();
    assert.deepEqual(perBlock, [1, 1, 2, 2]);
  }
  // One block of three (an MLP's three linears): 1 or 2 per round, 1.5 on average.
  let sum = 0;
  for (let seed = 0; seed < 400; seed++) sum += chooseCategoryMembers([['a', 'b', 'c']], 0.5, new Rng(seed)).length;
  assert.ok(Math.abs(sum / 400 - 1.5) < 0.1, `mean ${sum / 400}`);
});

testOnBackends('hft: under Adam the frozen half is bit-identical through its round (no gradient, not a zero gradient: a zero one moves it on momentum)', async () => {
  const model = mlp({ sizes: [6, 5, 5, 3] });
  const params = model.init(new Rng(2));
  for (const leaf of flatten(params).values()) leaf.trainable = false;
  const hooks = hftHooks(model, params, { ratio: 0.5, modulesToSave: [] }, { roundSteps: 3, rng: new Rng('hft-test') });
  assert.ok([...flatten(params).values()].every((v) => v.trainable), 'HFT trains every leaf over the rounds');
  const snapshots: Array<Map<string, Float32Array>> = [snapshot(params)];
  const optimizer = adam({ lr: 1e-2 });
  const x = randn(10, [8, 6]);
  const y = randn(11, [8, 3]);
  await train({
    model,
    params,
    loss: 'mse',
    epochs: 12,
    optimizer,
    rng: new Rng(3),
    data: () => [{ x: x.clone(), y: y.clone() }],
    transformGradients: hooks.transformGradients,
    afterStep: (ctx: GradientContext) => {
      if ((ctx.step + 1) % 3 === 0) snapshots.push(snapshot(params));
    },
  });
  optimizer.dispose();
  assert.equal(hooks.rounds.length, 4);
  let movedAfterTraining = 0;
  for (const { round, trained } of hooks.rounds) {
    const [start, end] = [snapshots[round], snapshots[round + 1]];
    for (const layer of ['0', '1', '2']) {
      for (const leaf of ['weight', 'bias']) {
        const key = `${layer}.${leaf}`;
        const same = start.get(key)!.every((v, i) => Object.is(v, end.get(key)![i]));
        if (trained.includes(layer)) assert.ok(!same, `round ${round}: trained ${key} did not change`);
        else {
          assert.ok(same, `round ${round}: frozen ${key} changed`);
          if (round > 0 && hooks.rounds[round - 1].trained.includes(layer)) movedAfterTraining++;
        }
      }
    }
  }
  assert.ok(movedAfterTraining > 0, 'some matrix was frozen right after a round in which it trained (the case a zero gradient gets wrong)');
  assert.match(hooks.summary!()[0], /HFT: 4 rounds of 3 steps/);
  tf.dispose([x, y]);
});

testOnBackends('hft: a zero gradient instead of none would move a matrix frozen after training (why HFT returns null)', async () => {
  const model = mlp({ sizes: [4, 3] });
  const params = model.init(new Rng(4));
  const x = randn(1, [5, 4]);
  const y = randn(2, [5, 3]);
  const optimizer = adam({ lr: 1e-2 });
  let frozenAt: Float32Array | undefined;
  await train({
    model,
    params,
    loss: 'mse',
    epochs: 4,
    optimizer,
    rng: new Rng(1),
    data: () => [{ x: x.clone(), y: y.clone() }],
    // Train two steps, then "freeze" with zeros.
    transformGradients: (ctx) => (ctx.step < 2 ? ctx.grads : ctx.grads.map((g) => (g ? tf.zerosLike(g) : g))),
    afterStep: (ctx) => {
      if (ctx.step === 1) frozenAt = flatten(params).get('0.weight')!.dataSync().slice() as Float32Array;
    },
  });
  optimizer.dispose();
  const after = flatten(params).get('0.weight')!.dataSync();
  assert.ok(after.some((v, i) => v !== frozenAt![i]), 'with zero gradients Adam kept moving the weight');
  tf.dispose([x, y]);
});

testOnBackends('hft: registered whole-model method; rounds default to an epoch; seeded; clear config errors', () => {
  assert.equal(getWholeModelMethod('hft').configName, 'HftConfig');
  const model = mlp({ sizes: [6, 5, 5, 3] });
  const params = model.init(new Rng(2));
  const { config, applied } = applyWholeModelMethod(model, params, { method: 'hft', seed: 3 }, { rng: new Rng(1), stepsPerEpoch: 4 });
  assert.equal(config.ratio, 0.5);
  const grads = [...flatten(params).values()].map((v) => tf.onesLike(v));
  const variables = [...flatten(params).values()];
  const run = (step: number): boolean[] => applied.hooks!.transformGradients!({ variables, grads, step, batch: undefined as never }).map((g) => g !== null);
  const first = run(0);
  assert.deepEqual(run(3), first, 'steps 0–3 are one round (an epoch of 4 steps)');
  const rounds = [first, run(4), run(8), run(12), run(16)].map((r) => r.join());
  assert.ok(new Set(rounds).size > 1, 'the choice changes between epochs');
  // Same seed, same choices.
  const again = applyWholeModelMethod(model, params, { method: 'hft', seed: 3 }, { rng: new Rng(99), stepsPerEpoch: 4 });
  assert.deepEqual(again.applied.hooks!.transformGradients!({ variables, grads, step: 0, batch: undefined as never }).map((g) => g !== null), first);
  tf.dispose(grads);
  assert.throws(() => applyWholeModelMethod(model, params, { method: 'hft' }, { rng: new Rng(1) }), /HftConfig\.roundSteps is required here/);
  assert.throws(() => applyWholeModelMethod(model, params, { method: 'hft', ratio: 0, roundSteps: 2 }, { rng: new Rng(1) }), /HftConfig\.ratio must be a number in \(0, 1\], got 0/);
  assert.throws(() => applyWholeModelMethod(model, params, { method: 'hft', roundStep: 2 }, { rng: new Rng(1) }), /unknown key 'roundStep' in HftConfig — did you mean 'roundSteps'\?/);
  assert.throws(() => applyWholeModelMethod(model, params, { method: 'hft', roundSteps: 2, modulesToSave: ['9'] }, { rng: new Rng(1) }), /HftConfig\.modulesToSave: '9' matches no module/);
});
