/**
 * Shared checks for the adapter tests (not a test file itself): small models, random inputs, and
 * the per-method checks every method must pass (identity at init, merge/unmerge, counts, training
 * touches only trainable leaves).
 */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../random.js';
import { flatten, type Params } from '../params/params.js';
import type { Module } from '../nn/module.js';
import { mlp } from '../nn/mlp.js';
import { conv2d } from '../nn/conv2d.js';
import { sequential } from '../nn/sequential.js';
import { activationLayer } from '../nn/activations.js';
import { initializers } from '../nn/init.js';
import { maxAbsDiff } from '../testing/backends.js';
import { train } from '../train/loop.js';
import { adam, type Optimizer } from '../train/optimizers.js';
import { merge, unmerge } from './framework.js';
import type { AdapterTrainingHooks } from './training-hooks.js';

/** Normal random tensor. */
export const randn = (seed: number, shape: number[]): tf.Tensor => initializers.normal()(new Rng(seed), shape);

/** A small MLP 6 → 5 → 4 with its params. */
export function smallMlp(seed = 1): { model: Module; params: Params } {
  const model = mlp({ sizes: [6, 5, 4] });
  return { model, params: model.init(new Rng(seed)) };
}

/** conv 3→4 (3×3, padding 1) → relu → conv 4→2 (1×1), NHWC. */
export function smallConvNet(seed = 1): { model: Module; params: Params } {
  const model = sequential([conv2d({ inChannels: 3, outChannels: 4, kernelSize: 3, padding: 1 }), activationLayer('relu'), conv2d({ inChannels: 4, outChannels: 2, kernelSize: 1 })]);
  return { model, params: model.init(new Rng(seed)) };
}

/** Copies of every leaf's values, by path. */
export function snapshot(params: Params): Map<string, Float32Array> {
  return new Map([...flatten(params)].map(([k, v]) => [k, v.dataSync().slice() as Float32Array]));
}

/** The model's output as an array. */
export function output(model: Module, params: Params, x: tf.Tensor): Float32Array {
  const y = tf.tidy(() => model.apply(params, x));
  const out = y.dataSync().slice() as Float32Array;
  y.dispose();
  return out;
}

/** Merged forward equals the unmerged one within 1e-5 and unmerge restores the base weights within 1e-5. */
export function checkMergeRoundTrip(model: Module, params: Params, x: tf.Tensor, weightPaths: string[]): void {
  const before = snapshot(params);
  const yAdapted = output(model, params, x);
  merge(model, params);
  const yMerged = output(model, params, x);
  assert.ok(maxAbsDiff(yAdapted, yMerged) < 1e-5, `merged forward differs by ${maxAbsDiff(yAdapted, yMerged)}`);
  const changed = weightPaths.some((p) => maxAbsDiff(before.get(p)!, flatten(params).get(p)!) > 0);
  assert.ok(changed, 'merge changed no base weight');
  unmerge(model, params);
  const after = flatten(params);
  for (const p of weightPaths) assert.ok(maxAbsDiff(before.get(p)!, after.get(p)!) < 1e-5, `unmerge left ${p} off by ${maxAbsDiff(before.get(p)!, after.get(p)!)}`);
  assert.ok(maxAbsDiff(yAdapted, output(model, params, x)) < 1e-5);
}

/** Trains 3 Adam steps on random data; asserts frozen leaves are bit-identical and every trainable leaf changed. */
export async function checkTrainsOnlyAdapters(model: Module, params: Params, xShape: number[], yShape: number[]): Promise<void> {
  const before = snapshot(params);
  const flat = flatten(params);
  const optimizer = adam({ lr: 1e-2 });
  await train({
    model,
    params,
    loss: 'mse',
    epochs: 3,
    optimizer,
    rng: new Rng(3),
    data: () => [{ x: randn(10, xShape), y: randn(11, yShape) }],
  });
  optimizer.dispose();
  for (const [path, variable] of flat) {
    const diff = maxAbsDiff(before.get(path)!, variable.dataSync());
    if (variable.trainable) assert.ok(diff > 0, `trainable ${path} did not change`);
    else assert.equal(diff, 0, `frozen ${path} changed by ${diff}`);
  }
}

/**
 * The base model's output with every leaf frozen, as it is once an adapter is added. (On WASM,
 * `linearForward` serves frozen weights from a prepared transposed copy through another kernel
 * path, whose rounding can differ from the trainable path's by an ulp; comparing with the frozen
 * base isolates what the adapter itself changes.)
 */
export function baseOutput(model: Module, params: Params, x: tf.Tensor): Float32Array {
  const flags = [...flatten(params).values()].map((v) => [v, v.trainable] as const);
  for (const [v] of flags) v.trainable = false;
  try {
    return output(model, params, x);
  } finally {
    for (const [v, t] of flags) v.trainable = t;
  }
}

/** Trains `steps` full-batch steps of MSE on one random batch (`[16, in]` → `[16, out]`) through a method's hooks. */
export async function trainWithHooks(model: Module, params: Params, hooks: AdapterTrainingHooks, shapes: { in: number; out: number }, steps: number, optimizer: Optimizer, seed = 3): Promise<void> {
  const x = randn(seed, [16, shapes.in]);
  const y = randn(seed + 1, [16, shapes.out]);
  await train({
    model,
    params,
    loss: 'mse',
    epochs: steps,
    optimizer,
    rng: new Rng(seed),
    data: () => [{ x: x.clone(), y: y.clone() }],
    ...(hooks.penalty ? { penalty: hooks.penalty } : {}),
    ...(hooks.transformGradients ? { transformGradients: hooks.transformGradients } : {}),
    ...(hooks.afterStep ? { afterStep: hooks.afterStep } : {}),
  });
  tf.dispose([x, y]);
}
