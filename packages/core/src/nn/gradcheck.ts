/**
 * Gradient checking: compares `tf.variableGrads` with central finite differences
 * `(f(θ + ε·eᵢ) − f(θ − ε·eᵢ)) / 2ε` at sampled coordinates. For testing modules and custom
 * gradients; everything runs in float32, so use small models, ε ≈ 1e-2 and a relative tolerance of
 * a few percent (a wrong gradient — transposed, mis-scaled, missing a term — is off by far more).
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../random.js';
import { flatten, type Params } from '../params/params.js';
import type { ApplyContext, Module } from './module.js';

/** Options of {@link checkGradients}. */
export interface GradCheckOptions {
  /** Finite-difference step. Default 1e-2. */
  eps?: number;
  /** Coordinates checked per variable, sampled without replacement when it has more. Default 24. */
  maxPerTensor?: number;
  /** Stream the coordinates are sampled from. Default `new Rng(0)`. */
  rng?: Rng;
  /** Replaces the analytic gradients before comparison (to check that the check can fail). */
  transformAnalytic?: (name: string, grad: tf.Tensor) => tf.Tensor;
}

/** The comparison for one variable. */
export interface GradCheckResult {
  /** The variable's name in the map given to {@link checkGradients}. */
  name: string;
  /** Coordinates compared. */
  checked: number;
  /** max |analytic − numeric| over the checked coordinates. */
  maxAbsError: number;
  /** max |numeric| over the checked coordinates. */
  maxAbsNumeric: number;
  /**
   * `maxAbsError / max(maxAbsNumeric, 1% of the largest |numeric| over all variables, 1e-3)`: the
   * error relative to this variable's gradient scale, except that a variable whose true gradient
   * is (near) zero — e.g. a key-projection bias, to which softmax is invariant — is judged against
   * the check's overall scale, not against float32 finite-difference noise.
   */
  relError: number;
}

function scalarOf(f: () => tf.Scalar): number {
  const value = tf.tidy(f);
  const out = value.dataSync()[0];
  value.dispose();
  return out;
}

function sample(size: number, count: number, rng: Rng): number[] {
  if (size <= count) return Array.from({ length: size }, (_, i) => i);
  return Array.from(rng.permutation(size).subarray(0, count));
}

/**
 * Checks the gradients of the scalar `f` with respect to each variable in `variables` (named for
 * the report). Variables are perturbed in place and restored. Leaves no tensors behind.
 */
export function checkGradients(f: () => tf.Scalar, variables: Record<string, tf.Variable>, options: GradCheckOptions = {}): GradCheckResult[] {
  const { eps = 1e-2, maxPerTensor = 24, rng = new Rng(0), transformAnalytic } = options;
  const names = Object.keys(variables);
  const analytic = tf.tidy(() => {
    const { value, grads } = tf.variableGrads(f, names.map((n) => variables[n]));
    value.dispose();
    return names.map((n) => {
      const g = grads[variables[n].name];
      if (g === undefined) throw new Error(`checkGradients: no gradient for '${n}' (is it used by f and trainable?)`);
      return (transformAnalytic ? transformAnalytic(n, g) : g).dataSync().slice();
    });
  });
  const compared = names.map((name, k) => {
    const variable = variables[name];
    const original = variable.dataSync().slice() as Float32Array;
    const indices = sample(original.length, maxPerTensor, rng);
    const perturbed = original.slice();
    const evaluate = (): number => {
      const t = tf.tensor(perturbed, variable.shape, 'float32');
      variable.assign(t);
      t.dispose();
      return scalarOf(f);
    };
    let maxAbsError = 0;
    let maxAbsNumeric = 0;
    for (const i of indices) {
      perturbed[i] = original[i] + eps;
      const plus = evaluate();
      perturbed[i] = original[i] - eps;
      const minus = evaluate();
      perturbed[i] = original[i];
      const numeric = (plus - minus) / (2 * eps);
      maxAbsError = Math.max(maxAbsError, Math.abs(analytic[k][i] - numeric));
      maxAbsNumeric = Math.max(maxAbsNumeric, Math.abs(numeric));
    }
    const restored = tf.tensor(original, variable.shape, 'float32');
    variable.assign(restored);
    restored.dispose();
    return { name, checked: indices.length, maxAbsError, maxAbsNumeric };
  });
  const overall = Math.max(0, ...compared.map((c) => c.maxAbsNumeric));
  return compared.map((c) => ({ ...c, relError: c.maxAbsError / Math.max(c.maxAbsNumeric, 1e-2 * overall, 1e-3) }));
}

/** Options of {@link checkModuleGradients}. */
export interface ModuleGradCheckOptions extends GradCheckOptions {
  /**
   * The context of every forward pass. Give a function returning a fresh context (e.g. with
   * `rng: new Rng(1)`) to check a module in training mode: each evaluation must see the same mask.
   * Default inference.
   */
  ctx?: ApplyContext | (() => ApplyContext);
  /** Also check the gradient with respect to the input (float inputs only). Default true. */
  checkInput?: boolean;
  /** Stream of the random projection `r` of the output. Default `new Rng(1)`. */
  projectionRng?: Rng;
}

/**
 * Checks a module's gradients with respect to its trainable params (by dotted path) and its input
 * (`'input'`), on the loss `sum(apply(params, x) · r)` for a fixed random `r` (so every output
 * element matters with a different weight).
 */
export function checkModuleGradients(module: Module, params: Params, x: tf.Tensor, options: ModuleGradCheckOptions = {}): GradCheckResult[] {
  const { ctx, checkInput = true, projectionRng = new Rng(1), ...rest } = options;
  const context = (): ApplyContext | undefined => (typeof ctx === 'function' ? ctx() : ctx);
  const variables: Record<string, tf.Variable> = {};
  for (const [path, leaf] of flatten(params)) if (leaf.trainable) variables[path] = leaf;
  const input = checkInput && x.dtype === 'float32' ? tf.variable(x, true) : undefined;
  if (input !== undefined) variables.input = input;
  const inputTensor = input ?? x;
  const outShape = tf.tidy(() => module.apply(params, inputTensor, context()).shape);
  const r = tf.tensor(projectionRng.fillNormal(new Float32Array(outShape.reduce((n, d) => n * d, 1))), outShape, 'float32');
  try {
    return checkGradients(() => tf.sum(tf.mul(module.apply(params, inputTensor, context()), r)), variables, rest);
  } finally {
    r.dispose();
    input?.dispose();
  }
}
