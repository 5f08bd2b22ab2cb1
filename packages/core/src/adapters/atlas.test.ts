import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { maxAbsDiff, testOnBackends } from '../testing/backends.js';
import { Rng } from '../random.js';
import { flatten, unflatten, variable, type Params } from '../params/params.js';
import { mlp } from '../nn/mlp.js';
import { train } from '../train/loop.js';
import { adam } from '../train/optimizers.js';
import { addTaskVectorComposition } from './atlas.js';
import { trainableParameters } from './report.js';
import { applyWholeModelMethod } from './training-hooks.js';
import { output, randn, snapshot } from './test-fixtures.js';

const SIZES = [6, 5, 4];

/** A base MLP and `count` "fine-tuned" copies (base + seeded perturbations of every leaf). */
function setup(count: number): { model: ReturnType<typeof mlp>; base: Params; finetuned: Params[] } {
  const model = mlp({ sizes: SIZES });
  const base = model.init(new Rng(1));
  const finetuned = Array.from({ length: count }, (_, i) =>
    unflatten([...flatten(base)].map(([p, v]) => [p, variable(tf.tidy(() => tf.add(v, tf.mul(randn(100 * i + p.length, v.shape), 0.3))), `ft${i}.${p}`)] as [string, tf.Variable])),
  );
  return { model, base, finetuned };
}

const bits = (t: tf.Tensor | ArrayLike<number>): number[] => Array.from(t instanceof tf.Tensor ? t.dataSync() : t);

testOnBackends('atlas: λ = 0 is the base and λ = eᵢ the i-th fine-tuned params, bit for bit; in between θ_base + Σ λ·τ per block', () => {
  const { model, base, finetuned } = setup(2);
  const c = addTaskVectorComposition(model, base, finetuned);
  assert.deepEqual(c.blocks, ['0.weight', '0.bias', '1.weight', '1.bias']);
  assert.deepEqual(c.lambda.shape, [2, 4]);
  assert.deepEqual(trainableParameters(c.params).trainable, 8);
  const check = (lam: number[][], want: (path: string) => number[]): void => {
    c.lambda.assign(tf.tensor2d(lam));
    const composed = c.compose();
    for (const [path, t] of composed) assert.deepEqual(bits(t), want(path), `${path} at λ = ${JSON.stringify(lam)}`);
    tf.dispose([...composed.values()]);
  };
  const flatBase = flatten(base);
  const flatFt = finetuned.map((f) => flatten(f));
  check([[0, 0, 0, 0], [0, 0, 0, 0]], (p) => bits(flatBase.get(p)!));
  check([[1, 1, 1, 1], [0, 0, 0, 0]], (p) => bits(flatFt[0].get(p)!));
  check([[0, 0, 0, 0], [1, 1, 1, 1]], (p) => bits(flatFt[1].get(p)!));
  // Anisotropic: block 0.weight from vector 0, 1.bias from vector 1, the rest the base.
  check([[1, 0, 0, 0], [0, 0, 0, 1]], (p) => bits((p === '0.weight' ? flatFt[0] : p === '1.bias' ? flatFt[1] : flatBase).get(p)!));
  // General λ: θ_base + Σ λ·(θᵢ − θ_base), to float32 rounding.
  const lam = [[0.3, -0.2, 0.7, 1.5], [0.4, 0.9, -0.6, 0.1]];
  c.lambda.assign(tf.tensor2d(lam));
  const composed = c.compose();
  c.blocks.forEach((path, b) => {
    const want = tf.tidy(() => lam.reduce((acc, row, i) => tf.add(acc, tf.mul(tf.sub(flatFt[i].get(path)!, flatBase.get(path)!), row[b])), flatBase.get(path)! as tf.Tensor));
    assert.ok(maxAbsDiff(composed.get(path)!, want) < 1e-6, path);
    want.dispose();
  });
  tf.dispose([...composed.values()]);
  // The wrapper's forward is the base model on the composed params.
  const x = randn(7, [3, 6]);
  c.lambda.assign(tf.tensor2d([[1, 1, 1, 1], [0, 0, 0, 0]]));
  assert.ok(maxAbsDiff(output(c.model, c.params, x), output(model, finetuned[0], x)) < 1e-6);
  x.dispose();
  c.finish();
});

testOnBackends('atlas: training moves only λ (base and task vectors untouched), the learned λ differs per block and recovers per-block teacher coefficients; finish writes θ into the base', async () => {
  const { model, base, finetuned } = setup(2);
  const baseBefore = snapshot(base);
  const ftBefore = finetuned.map((f) => snapshot(f));
  // The teacher: the same composition with known per-block coefficients.
  const teacherLambda = [[0.2, 1.0, -0.5, 0.8], [0.7, 0.1, 0.4, -0.3]];
  const teacher = addTaskVectorComposition(model, base, finetuned);
  teacher.lambda.assign(tf.tensor2d(teacherLambda));
  const x = randn(11, [64, 6]);
  const y = tf.tidy(() => teacher.model.apply(teacher.params, x));
  const student = addTaskVectorComposition(model, base, finetuned);
  const optimizer = adam({ lr: 0.05 });
  const result = await train({ model: student.model, params: student.params, loss: 'mse', epochs: 300, optimizer, rng: new Rng(1), data: () => [{ x: x.clone(), y: y.clone() }] });
  optimizer.dispose();
  assert.ok(result.history.loss.at(-1)! < 1e-3 * result.history.loss[0], `loss ${result.history.loss[0]} → ${result.history.loss.at(-1)}`);
  for (const [path, values] of baseBefore) assert.deepEqual(flatten(base).get(path)!.dataSync(), values, `base ${path} changed`);
  finetuned.forEach((f, i) => ftBefore[i].forEach((values, path) => assert.deepEqual(flatten(f).get(path)!.dataSync(), values)));
  const learned = student.coefficients();
  assert.ok(Math.max(...learned[0]) - Math.min(...learned[0]) > 0.5, `λ per block: ${learned[0]}`);
  learned.forEach((row, i) => row.forEach((v, b) => assert.ok(Math.abs(v - teacherLambda[i][b]) < 0.05, `λ[${i}][${b}] = ${v}, teacher ${teacherLambda[i][b]}`)));
  const before = output(student.model, student.params, x);
  student.finish();
  assert.ok(maxAbsDiff(output(model, base, x), before) < 1e-5, 'the base now holds the composed θ');
  assert.deepEqual(student.coefficients(), learned);
  assert.throws(() => student.compose(), /the composition is finished/);
  teacher.finish();
  tf.dispose([x, y]);
});

testOnBackends('atlas: blockwise false learns one λ per task vector; whole-model method resolves taskVectors by name; clear errors', () => {
  const { model, base, finetuned } = setup(2);
  const iso = addTaskVectorComposition(model, base, finetuned, { blockwise: false, init: 0.5 });
  assert.deepEqual(iso.lambda.shape, [2, 1]);
  assert.deepEqual(iso.coefficients(), [[0.5], [0.5]]);
  iso.finish();
  const runs: Record<string, Params> = { runA: finetuned[0], runB: finetuned[1] };
  const resolveParams = (name: string): Params => {
    if (!runs[name]) throw new Error(`no run named "${name}"`);
    return runs[name];
  };
  const { applied } = applyWholeModelMethod(model, base, { method: 'atlas', taskVectors: ['runA', 'runB'] }, { rng: new Rng(1), resolveParams });
  assert.deepEqual(Object.keys(applied.trainParams!), ['atlas_lambda']);
  assert.ok([...flatten(base).values()].every((v) => !v.trainable), 'the base is frozen while λ trains');
  const lines = applied.hooks!.summary!();
  assert.match(lines[1], /0\.weight {2}0\.bias {2}1\.weight {2}1\.bias/);
  assert.match(lines[2], /^runA {2}\s+0\.000/);
  applied.finish!();
  assert.throws(() => applyWholeModelMethod(model, base, { method: 'atlas', taskVectors: ['runC'] }, { rng: new Rng(1), resolveParams }), /AtlasConfig\.taskVectors: 'runC': no run named "runC"/);
  assert.throws(() => applyWholeModelMethod(model, base, { method: 'atlas', taskVectors: ['runA'] }, { rng: new Rng(1) }), /AtlasConfig\.taskVectors: this caller cannot look up runs/);
  assert.throws(() => applyWholeModelMethod(model, base, { method: 'atlas', taskVectors: [] }, { rng: new Rng(1) }), /AtlasConfig\.taskVectors must be a non-empty array of run or variable names/);
  const other = mlp({ sizes: [6, 3, 4] }).init(new Rng(2));
  assert.throws(() => addTaskVectorComposition(model, base, [other], { names: ['wide'] }), /aTLAS: task vector 'wide' is not of the base model's architecture: shape mismatch at 0\.weight \(\[3,6\] vs the base's \[5,6\]\)/);
});
