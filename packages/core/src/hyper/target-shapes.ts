/**
 * What a hypernetwork generates: a target module's parameters as a list of named tensors in the
 * target's own tree order, and the inverse, a flat output vector cut back into a Params tree with
 * exactly the target's names and shapes (hypnettorch's `target_shapes`, plus the names PyTorch's
 * state dict would give them).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../nn/module.js';
import { disposeParams, flatten, unflatten, type Params } from '../params/params.js';
import type { Rng } from '../random.js';

/** One generated tensor of the target. */
export interface TargetShape {
  /** Its dotted path in the target's Params (`0.weight`). */
  name: string;
  /** Its shape, in the target's layout (`[out, in]` for a linear weight). */
  shape: number[];
  /** Number of scalars. */
  size: number;
  /** Mean of the target's own initial values of this tensor (1 for a layer norm's weight). */
  initMean: number;
  /** Standard deviation of the target's own initial values (the scale a hypernetwork's init aims for). */
  initStd: number;
}

function moments(values: Float32Array): { mean: number; std: number } {
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / values.length;
  let sq = 0;
  for (const v of values) sq += (v - mean) * (v - mean);
  return { mean, std: Math.sqrt(sq / values.length) };
}

/** The names, shapes and init statistics of a Params tree (its tensors are only read). */
export function shapesOf(params: Params): TargetShape[] {
  return [...flatten(params)].map(([name, v]) => ({ name, shape: [...v.shape], size: v.size, ...momentsOf(v) }));
}

function momentsOf(v: tf.Tensor): { initMean: number; initStd: number } {
  const { mean, std } = moments(v.dataSync() as Float32Array);
  return { initMean: mean, initStd: std };
}

/** The target's tensors (names, shapes, init statistics) from one initialisation `model.init(rng)`. */
export function targetShapes(model: Module, rng: Rng): TargetShape[] {
  const params = model.init(rng);
  try {
    return shapesOf(params);
  } finally {
    disposeParams(params);
  }
}

/** Number of scalars a hypernetwork must output for these shapes. */
export function numOutputs(shapes: readonly TargetShape[]): number {
  return shapes.reduce((n, s) => n + s.size, 0);
}

/**
 * Cuts a flat vector `[numOutputs(shapes)]` into the target's tensors, in order, as a Params tree
 * with the target's names. The leaves are plain tensors (differentiable views of `flat`), not
 * variables: pass the tree to `target.apply` inside the same `tf.tidy`/gradient tape.
 */
export function splitToParams(flat: tf.Tensor, shapes: readonly TargetShape[]): Params {
  if (flat.rank !== 1 || flat.shape[0] !== numOutputs(shapes)) throw new Error(`splitToParams: expected a vector of ${numOutputs(shapes)} values, got [${flat.shape.join(', ')}]`);
  const parts = shapes.length === 1 ? [flat] : tf.split(flat, shapes.map((s) => s.size));
  return unflatten(shapes.map((s, i) => [s.name, tf.reshape(parts[i], s.shape) as tf.Variable]));
}

/**
 * Dotted path → leaf of a Params tree whose leaves may be plain tensors (a generated tree);
 * `flatten` in `params.ts` only knows `tf.Variable` leaves.
 */
export function flattenTensors(params: Params, prefix = ''): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  const walk = (node: Params, path: string): void => {
    for (const [key, value] of Object.entries(node)) {
      const full = path ? `${path}.${key}` : key;
      if (value instanceof tf.Tensor) out.set(full, value);
      else walk(value, full);
    }
  };
  walk(params, prefix);
  return out;
}

/** The leaves of a Params tree (variables or generated tensors) concatenated in tree order. */
export function flattenToVector(params: Params): tf.Tensor1D {
  const leaves = [...flattenTensors(params).values()].map((v) => tf.reshape(v, [-1]));
  return (leaves.length === 1 ? leaves[0] : tf.concat(leaves)) as tf.Tensor1D;
}
