import assert from 'node:assert/strict';
import { testOnBackends } from '../testing/backends.js';
import { Rng } from '../random.js';
import { flatten } from '../params/params.js';
import { mlp } from '../nn/mlp.js';
import { adamw } from '../train/optimizers.js';
import { changedEntries, sparseFtHooks, largestMagnitudeIndices } from './sparse-ft.js';
import { applyWholeModelMethod } from './training-hooks.js';
import { snapshot, trainWithHooks } from './test-fixtures.js';

testOnBackends('sparse-ft: k = ⌊density·size⌋ entries per weight; random is seeded, magnitude keeps the largest |θ₀|; biases frozen, modulesToSave trained', () => {
  const model = mlp({ sizes: [10, 8, 4] });
  const params = model.init(new Rng(1));
  const hooks = sparseFtHooks(model, params, { selection: 'magnitude', density: 0.1, modulesToSave: [] }, new Rng(1));
  assert.deepEqual(hooks.targets.map((t) => [t.path, t.k]), [['0.weight', 8], ['1.weight', 3]]);
  for (const t of hooks.targets) {
    const order = Array.from(t.initial, (v, i) => [Math.abs(v), i]).sort((a, b) => b[0] - a[0]);
    assert.deepEqual([...t.active], order.slice(0, t.k).map(([, i]) => i).sort((a, b) => a - b));
  }
  assert.deepEqual([...flatten(params)].filter(([, v]) => v.trainable).map(([p]) => p), ['0.weight', '1.weight']);
  hooks.dispose!();
  const r1 = sparseFtHooks(model, params, { selection: 'random', density: 0.1, modulesToSave: ['1'] }, new Rng(5));
  const r2 = sparseFtHooks(model, params, { selection: 'random', density: 0.1, modulesToSave: ['1'] }, new Rng(5));
  const r3 = sparseFtHooks(model, params, { selection: 'random', density: 0.1, modulesToSave: ['1'] }, new Rng(6));
  assert.deepEqual(r1.targets.map((t) => t.path), ['0.weight']);
  assert.deepEqual([...r1.targets[0].active], [...r2.targets[0].active]);
  assert.notDeepEqual([...r1.targets[0].active], [...r3.targets[0].active]);
  assert.equal(new Set(r1.targets[0].active).size, 8);
  assert.deepEqual([...flatten(params)].filter(([, v]) => v.trainable).map(([p]) => p), ['0.weight', '1.weight', '1.bias']);
  [r1, r2, r3].forEach((h) => h.dispose!());
  assert.deepEqual([...largestMagnitudeIndices([0.5, -2, 2, 0.1], 2)], [1, 2]);
});

testOnBackends('sparse-ft: after AdamW training (decay moves every entry it is given) every unselected entry is bit-identical; ≤ density·size changed', async () => {
  const model = mlp({ sizes: [10, 8, 4] });
  const params = model.init(new Rng(1));
  const before = snapshot(params);
  const hooks = sparseFtHooks(model, params, { selection: 'random', density: 0.2, modulesToSave: [] }, new Rng(2));
  const optimizer = adamw({ lr: 1e-2, weightDecay: 0.1 });
  await trainWithHooks(model, params, hooks, { in: 10, out: 4 }, 6, optimizer);
  optimizer.dispose();
  for (const t of hooks.targets) {
    const now = t.variable.dataSync();
    const selected = new Set(t.active);
    for (let i = 0; i < now.length; i++) if (!selected.has(i)) assert.ok(Object.is(now[i], t.initial[i]), `${t.path}[${i}] changed`);
    const changed = changedEntries(t);
    assert.ok(changed <= 0.2 * t.variable.size, `${t.path}: ${changed} changed`);
    assert.ok(changed >= t.k - 1, `${t.path}: only ${changed} of ${t.k} selected entries moved`);
  }
  for (const path of ['0.bias', '1.bias']) assert.deepEqual(flatten(params).get(path)!.dataSync(), before.get(path));
  assert.match(hooks.summary!()[0], /sparse-ft \(random\): 22 of 112 entries of 2 weight tensors may change/);
  assert.deepEqual(hooks.metrics!(), { sparseEntries: 22 });
  hooks.dispose!();
});

testOnBackends('sparse-ft: registered (method sparse-ft) with clear errors for density and targets', () => {
  const model = mlp({ sizes: [10, 8, 4] });
  const params = model.init(new Rng(1));
  const { config, applied } = applyWholeModelMethod(model, params, { method: 'sparse-ft', density: 0.5, targetModules: ['1'] }, { rng: new Rng(1) });
  assert.equal(config.selection, 'random');
  assert.deepEqual([...flatten(params)].filter(([, v]) => v.trainable).map(([p]) => p), ['1.weight']);
  applied.hooks!.dispose!();
  assert.throws(() => applyWholeModelMethod(model, params, { method: 'sparse-ft', density: 0 }, { rng: new Rng(1) }), /SparseFtConfig\.density must be a number in \(0, 1\], got 0/);
  assert.throws(() => applyWholeModelMethod(model, params, { method: 'sparse-ft', density: 0.001 }, { rng: new Rng(1) }), /SparseFtConfig\.density = 0\.001 selects no entry of any targeted weight \(the largest has 80 entries\)/);
  assert.throws(() => applyWholeModelMethod(model, params, { method: 'sparse-ft', targetModules: ['7'] }, { rng: new Rng(1) }), /SparseFtConfig: targetModules \["7"\] has no linear, conv2d or embedding weight to tune/);
  assert.throws(() => applyWholeModelMethod(model, params, { method: 'sparse-ft', selection: 'fisher' }, { rng: new Rng(1) }), /SparseFtConfig\.selection must be one of "random", "magnitude", got "fisher"/);
});
