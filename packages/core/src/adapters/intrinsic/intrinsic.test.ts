import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { maxAbsDiff, testOnBackends } from '../../testing/backends.js';
import { flatten, trainableVariables, type Params } from '../../params/params.js';
import { Rng } from '../../random.js';
import { mlp } from '../../nn/mlp.js';
import { train } from '../../train/loop.js';
import { adam } from '../../train/optimizers.js';
import { meanSquaredError as mseLoss } from '../../train/losses.js';
import { applyWholeModelMethod, findWholeModelMethod } from '../training-hooks.js';
import { output, randn, snapshot } from '../test-fixtures.js';
import { applyIntrinsic } from './intrinsic.js';
import { materializeProjection, PROJECTIONS, type ProjectionKind } from './projections.js';

/** mlp 6 → 5 → 4: D = 30 + 5 + 20 + 4 = 59, m = 4 tensors. */
function net(seed = 1): { model: ReturnType<typeof mlp>; params: Params } {
  const model = mlp({ sizes: [6, 5, 4] });
  return { model, params: model.init(new Rng(seed)) };
}

/** Every leaf's values (variables or plain tensors), concatenated in tree order. */
function flatValues(tree: Params): Float64Array {
  const out: number[] = [];
  const walk = (node: Params): void => {
    for (const value of Object.values(node)) {
      if (value instanceof tf.Tensor) out.push(...Array.from(value.dataSync()));
      else walk(value);
    }
  };
  walk(tree);
  return Float64Array.from(out);
}

const CASES: Array<{ projection: ProjectionKind; said: boolean }> = [...PROJECTIONS.map((projection) => ({ projection, said: false })), { projection: 'fastfood', said: true }, { projection: 'sparse', said: true }];

testOnBackends('intrinsic: θ = θ₀ at z = 0 for every projection (the wrapped model equals the base bit for bit); only z (and λ) are trainable', () => {
  for (const { projection, said } of CASES) {
    const { model, params } = net();
    const x = randn(2, [3, 6]);
    const yBase = output(model, params, x);
    const applied = applyIntrinsic(model, params, { dim: 12, projection, said, seed: 5 });
    assert.equal(maxAbsDiff(yBase, output(applied.trainModel, applied.trainParams, x)), 0, `${projection}${said ? ' + SAID' : ''}`);
    const trainable = [...flatten(applied.trainParams)].filter(([, v]) => v.trainable).map(([p, v]) => [p, v.size]);
    assert.deepEqual(trainable, said ? [['intrinsic.z', 12 - 4], ['intrinsic.lambda', 4]] : [['intrinsic.z', 12]]);
    assert.deepEqual(applied.counts, { d: 12, D: 59, m: 4 });
    assert.equal(applied.trainModel.projection.D, 59);
    applied.finish();
    x.dispose();
  }
});

testOnBackends('intrinsic: dense P has unit-norm columns; sparse P unit-norm columns with density about 1/√Dᵢ per tensor; the same seed draws the same P', () => {
  const { model, params } = net();
  const dense = applyIntrinsic(model, params, { dim: 10, projection: 'dense', seed: 3 });
  const P = materializeProjection(dense.trainModel.projection);
  for (let j = 0; j < 10; j++) {
    let sum = 0;
    for (let i = 0; i < 59; i++) sum += P[i * 10 + j] ** 2;
    assert.ok(Math.abs(sum - 1) < 1e-5, `dense column ${j} has squared norm ${sum}`);
  }
  dense.finish();
  const again = applyIntrinsic(model, params, { dim: 10, projection: 'dense', seed: 3 });
  assert.equal(maxAbsDiff(P, materializeProjection(again.trainModel.projection)), 0);
  again.finish();
  const other = applyIntrinsic(model, params, { dim: 10, projection: 'dense', seed: 4 });
  assert.ok(maxAbsDiff(P, materializeProjection(other.trainModel.projection)) > 0.01);
  other.finish();

  // A bigger model for the sparse density: 40 → 50 → 3 (tensors of 2000, 50, 150, 3 entries).
  const big = mlp({ sizes: [40, 50, 3] });
  const bigParams = big.init(new Rng(2));
  const d = 30;
  const sparse = applyIntrinsic(big, bigParams, { dim: d, projection: 'sparse', seed: 1 });
  const S = materializeProjection(sparse.trainModel.projection);
  const D = 2203;
  for (let j = 0; j < d; j++) {
    let sum = 0;
    for (let i = 0; i < D; i++) sum += S[i * d + j] ** 2;
    assert.ok(Math.abs(sum - 1) < 1e-5, `sparse column ${j} has squared norm ${sum}`);
  }
  // The 2000-entry weight: density 1/√2000 ≈ 0.0224, so about 44.7 nonzeros per column.
  let nonzero = 0;
  for (let i = 0; i < 2000; i++) for (let j = 0; j < d; j++) if (S[i * d + j] !== 0) nonzero++;
  const perColumn = nonzero / d;
  assert.ok(perColumn > 35 && perColumn < 55, `weight block: ${perColumn} nonzeros per column, expected ≈ 44.7`);
  sparse.finish();
});

testOnBackends('intrinsic: gradients reach z (and λ) through the projection, Pᵀ·∂L/∂θ, and the base leaves never change while training', async () => {
  for (const { projection, said } of CASES) {
    const { model, params } = net(3);
    const before = snapshot(params);
    const applied = applyIntrinsic(model, params, { dim: 9, projection, said, seed: 2 });
    const { trainModel, trainParams } = applied;
    const x = randn(4, [8, 6]);
    const y = randn(5, [8, 4]);
    // ∂L/∂z by autodiff equals Pᵀ·(λ ⊙ ∂L/∂θ), ∂L/∂θ taken on the base model at the same θ.
    const vars = trainableVariables(trainParams);
    const { grads } = tf.variableGrads(() => mseLoss(trainModel.apply(trainParams, x), y), vars);
    const z = flatten(trainParams).get('intrinsic.z')!;
    const gz = grads[z.name].dataSync();
    const thetaTree = trainModel.theta(trainParams);
    const thetaLeaves = [...flatten(params).keys()].map((p) => tf.variable(flattenTensorsAt(thetaTree, p), false));
    tf.dispose(thetaTree as unknown as tf.TensorContainer);
    const gTheta = tf.grads((...ts: tf.Tensor[]) => mseLoss(model.apply(treeLike(params, ts), x), y))(thetaLeaves);
    const lambda = said ? Array.from(flatten(trainParams).get('intrinsic.lambda')!.dataSync()) : [1, 1, 1, 1];
    const scaled = Array.from(tf.tidy(() => tf.concat(gTheta.map((g, i) => tf.mul(tf.reshape(g, [-1]), lambda[i])))).dataSync());
    // Pᵀ from the materialised P (built with the forward map only), so this checks each projection's transpose too.
    const P = materializeProjection(trainModel.projection);
    const dz = gz.length;
    const expected = Array.from({ length: dz }, (_, j) => scaled.reduce((sum: number, g: number, i: number) => sum + P[i * dz + j] * g, 0));
    assert.ok(maxAbsDiff(gz, expected) < 1e-5, `${projection}: ∂L/∂z off by ${maxAbsDiff(gz, expected)}`);
    assert.ok(Math.max(...Array.from(gz, Math.abs)) > 0, `${projection}: z receives no gradient`);
    tf.dispose([...Object.values(grads), ...thetaLeaves, ...gTheta]);

    const optimizer = adam({ lr: 0.05 });
    await train({ model: trainModel, params: trainParams, loss: 'mse', epochs: 4, optimizer, rng: new Rng(1), data: () => [{ x: x.clone(), y: y.clone() }] });
    optimizer.dispose();
    for (const [path, leaf] of flatten(params)) {
      assert.equal(maxAbsDiff(before.get(path)!, leaf.dataSync()), 0, `${projection}: base leaf ${path} changed while training`);
      assert.equal(leaf.trainable, false);
    }
    assert.ok(Math.max(...Array.from(z.dataSync(), Math.abs)) > 0, 'z did not move');
    if (said) assert.ok(maxAbsDiff(flatten(trainParams).get('intrinsic.lambda')!.dataSync(), [1, 1, 1, 1]) > 0, 'λ did not move');
    applied.finish();
    tf.dispose([x, y]);
  }
});

testOnBackends('intrinsic: training in a d ≈ D subspace reduces the loss on a tiny regression task (each projection, and SAID)', async () => {
  for (const { projection, said } of CASES) {
    const { model, params } = net(4);
    const teacher = net(9);
    const x = randn(6, [32, 6]);
    const y = tf.tidy(() => teacher.model.apply(teacher.params, x));
    const applied = applyIntrinsic(model, params, { dim: 50, projection, said, seed: 1 });
    const loss = (): number => tf.tidy(() => mseLoss(applied.trainModel.apply(applied.trainParams, x), y).dataSync()[0]);
    const initial = loss();
    const optimizer = adam({ lr: 0.03 });
    await train({ model: applied.trainModel, params: applied.trainParams, loss: 'mse', epochs: 150, optimizer, rng: new Rng(1), data: () => [{ x: x.clone(), y: y.clone() }] });
    optimizer.dispose();
    const final = loss();
    assert.ok(final < 0.3 * initial, `${projection}${said ? ' + SAID' : ''}: loss ${initial} → ${final}`);
    applied.finish();
    tf.dispose([x, y]);
    for (const v of flatten(teacher.params).values()) v.dispose();
  }
});

testOnBackends('intrinsic: finish() writes exactly θ₀ + P·z into the original leaves (bit for bit what the wrapper computed), restores their flags and frees z', async () => {
  for (const { projection, said } of CASES) {
    const { model, params } = net(5);
    const theta0 = flatValues(params);
    flatten(params).get('1.bias')!.trainable = false; // a flag that must come back as it was
    const applied = applyIntrinsic(model, params, { dim: 7, projection, said, seed: 8 });
    const { trainModel, trainParams } = applied;
    const x = randn(7, [5, 6]);
    const optimizer = adam({ lr: 0.05 });
    await train({ model: trainModel, params: trainParams, loss: 'mse', epochs: 3, optimizer, rng: new Rng(1), data: () => [{ x: x.clone(), y: tf.ones([5, 4]) }] });
    optimizer.dispose();
    const z = Array.from(flatten(trainParams).get('intrinsic.z')!.dataSync());
    const lambda = said ? Array.from(flatten(trainParams).get('intrinsic.lambda')!.dataSync()) : undefined;
    const wrappedTree = tf.tidy(() => trainModel.theta(trainParams) as unknown as tf.TensorContainer) as unknown as Params;
    const wrapped = flatValues(wrappedTree);
    tf.dispose(wrappedTree as unknown as tf.TensorContainer);
    const yWrapped = output(trainModel, trainParams, x);
    // θ₀ + (λ ⊙) P·z from the materialised P, in float64.
    const P = materializeProjection(trainModel.projection);
    const d = z.length;
    const expected = new Float64Array(59);
    let row = 0;
    trainModel.tensors.forEach((t, k) => {
      for (let i = 0; i < t.size; i++, row++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += P[row * d + j] * z[j];
        expected[row] = theta0[row] + (lambda ? lambda[k] : 1) * s;
      }
    });
    applied.finish();
    const after = flatValues(params);
    assert.equal(maxAbsDiff(after, wrapped), 0, `${projection}: finish differs from the wrapper's θ`);
    assert.ok(maxAbsDiff(after, expected) < 1e-5, `${projection}: finish differs from θ₀ + P·z by ${maxAbsDiff(after, expected)}`);
    assert.ok(maxAbsDiff(after, theta0) > 1e-4, 'training moved nothing');
    assert.equal(maxAbsDiff(output(model, params, x), yWrapped) < 1e-5, true);
    assert.deepEqual([...flatten(params)].map(([p, v]) => [p, v.trainable]), [['0.weight', true], ['0.bias', true], ['1.weight', true], ['1.bias', false]]);
    assert.equal(flatten(trainParams).get('intrinsic.z')!.isDisposed, true);
    applied.finish(); // idempotent
    x.dispose();
  }
});

testOnBackends('intrinsic: the registered whole-model method validates its config with errors naming the key', () => {
  const { model, params } = net();
  assert.ok(findWholeModelMethod('intrinsic'));
  const { config, applied } = applyWholeModelMethod(model, params, { method: 'intrinsic', dim: 20 }, { rng: new Rng(1) });
  assert.deepEqual(config, { method: 'intrinsic', dim: 20, projection: 'fastfood', said: false });
  assert.equal(trainableVariables(applied.trainParams!).length, 1);
  assert.match(applied.hooks!.summary!()[0], /d = 20 of D = 59/);
  applied.finish!();
  assert.throws(() => applyWholeModelMethod(model, params, { method: 'intrinsic', dim: 60 }, { rng: new Rng(1) }), /IntrinsicConfig\.dim must be at most the model's parameter count D = 59, got 60/);
  assert.throws(() => applyWholeModelMethod(model, params, { method: 'intrinsic', dim: 4, said: true }, { rng: new Rng(1) }), /IntrinsicConfig\.dim must exceed the number of parameter tensors m = 4 when said is true/);
  assert.throws(() => applyWholeModelMethod(model, params, { method: 'intrinsic', dim: 8, projection: 'gaussian' }, { rng: new Rng(1) }), /IntrinsicConfig\.projection must be one of "dense", "sparse", "fastfood", got "gaussian"/);
  assert.throws(() => applyWholeModelMethod(model, params, { method: 'intrinsic', dims: 8 }, { rng: new Rng(1) }), /unknown key 'dims' in IntrinsicConfig — did you mean 'dim'\?/);
  // A failed apply leaves the model as it was: every leaf still trainable.
  assert.ok([...flatten(params).values()].every((v) => v.trainable));
});

/** The tensor at a dotted path of a tree of tensors. */
function flattenTensorsAt(tree: Params, path: string): tf.Tensor {
  let node: unknown = tree;
  for (const part of path.split('.')) node = (node as Record<string, unknown>)[part];
  return node as tf.Tensor;
}

/** A tree like `like` with `values` (in flatten order) at its leaves. */
function treeLike(like: Params, values: tf.Tensor[]): Params {
  let i = 0;
  const walk = (node: Params): Params => Object.fromEntries(Object.entries(node).map(([k, v]) => [k, v instanceof tf.Tensor ? values[i++] : walk(v)])) as Params;
  return walk(like);
}
