/**
 * Activation functions, dropout, and parameter-free module wrappers for both (for
 * {@link sequential}). Semantics follow PyTorch (`F.gelu`, `F.silu`, `F.dropout`).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Params } from '../params/params.js';
import type { ApplyContext, Module } from './module.js';

/** Activations by name; `gelu` is exact (erf), `gelu_tanh` the tanh approximation. */
export type ActivationName = 'relu' | 'gelu' | 'gelu_tanh' | 'silu' | 'tanh' | 'sigmoid' | 'identity';

/** max(x, 0). */
export function relu(x: tf.Tensor): tf.Tensor {
  return tf.relu(x);
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/**
 * Gaussian error linear unit, x·Φ(x). `approximate: 'none'` (default, PyTorch's default) uses erf:
 * 0.5·x·(1 + erf(x/√2)); `'tanh'` uses 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) (GPT-2, BERT).
 */
export function gelu(x: tf.Tensor, approximate: 'none' | 'tanh' = 'none'): tf.Tensor {
  return tf.tidy(() => {
    const inner =
      approximate === 'tanh'
        ? tf.tanh(tf.mul(tf.add(x, tf.mul(tf.mul(tf.mul(x, x), x), 0.044715)), SQRT_2_OVER_PI))
        : tf.erf(tf.mul(x, Math.SQRT1_2));
    return tf.mul(tf.mul(x, 0.5), tf.add(inner, 1));
  });
}

/** Sigmoid linear unit (swish), x·σ(x). */
export function silu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(x, tf.sigmoid(x)));
}

/** Hyperbolic tangent. */
export function tanh(x: tf.Tensor): tf.Tensor {
  return tf.tanh(x);
}

/** Logistic sigmoid, 1 / (1 + e^−x). */
export function sigmoid(x: tf.Tensor): tf.Tensor {
  return tf.sigmoid(x);
}

/** Softmax along `axis` (default the last). */
export function softmax(x: tf.Tensor, axis = -1): tf.Tensor {
  const last = x.rank - 1;
  const dim = axis < 0 ? x.rank + axis : axis;
  if (dim < 0 || dim > last) throw new Error(`softmax: axis ${axis} is out of range for a rank-${x.rank} tensor`);
  if (dim === last) return tf.softmax(x);
  // tf.softmax works on the last axis only: move `dim` there and back (a swap is its own inverse).
  const perm = x.shape.map((_, i) => (i === dim ? last : i === last ? dim : i));
  return tf.tidy(() => tf.transpose(tf.softmax(tf.transpose(x, perm)), perm));
}

/** The identity. */
function identity(x: tf.Tensor): tf.Tensor {
  return x;
}

const ACTIVATIONS: Record<ActivationName, (x: tf.Tensor) => tf.Tensor> = {
  relu,
  gelu: (x) => gelu(x, 'none'),
  gelu_tanh: (x) => gelu(x, 'tanh'),
  silu,
  tanh,
  sigmoid,
  identity,
};

/** The activation function of a name; throws, listing the names, for an unknown one. */
export function getActivation(name: ActivationName): (x: tf.Tensor) => tf.Tensor {
  const fn = ACTIVATIONS[name];
  if (fn === undefined) throw new Error(`unknown activation '${String(name)}' (have: ${Object.keys(ACTIVATIONS).join(', ')})`);
  return fn;
}

/**
 * Inverted dropout: in training, zeroes each element with probability `rate` and scales the kept
 * ones by 1/(1 − rate), so the expectation is unchanged. The mask is drawn from `ctx.rng` (the
 * same stream gives the same mask on every backend). Returns `x` itself when not training or when
 * `rate` is 0. Throws when training with `rate > 0` and no `ctx.rng`.
 */
export function dropout(x: tf.Tensor, rate: number, ctx?: ApplyContext): tf.Tensor {
  if (!(rate >= 0 && rate <= 1)) throw new RangeError(`dropout: rate must be in [0, 1], got ${rate}`);
  if (!ctx?.training || rate === 0) return x;
  const rng = ctx.rng;
  if (rng === undefined) {
    throw new Error('dropout: training with rate > 0 needs a random stream in ctx.rng, e.g. { training: true, rng: rng.fork("dropout") }');
  }
  const keep = 1 - rate;
  const scale = keep > 0 ? 1 / keep : 0;
  const mask = new Float32Array(x.size);
  for (let i = 0; i < mask.length; i++) mask[i] = rng.uniform() < keep ? scale : 0;
  return tf.tidy(() => tf.mul(x, tf.tensor(mask, x.shape, 'float32')));
}

/** A parameter-free module applying an activation function. */
export interface ActivationModule extends Module {
  /** Always `'activation'`. */
  readonly kind: 'activation';
  /** Which activation. */
  readonly activation: ActivationName;
}

/** An activation as a module (params `{}`), for {@link sequential}. */
export function activationLayer(name: ActivationName): ActivationModule {
  const fn = getActivation(name);
  return {
    kind: 'activation',
    activation: name,
    init: (): Params => ({}),
    apply: (_params: Params, x: tf.Tensor) => fn(x),
  };
}

/** A parameter-free dropout module. */
export interface DropoutModule extends Module {
  /** Always `'dropout'`. */
  readonly kind: 'dropout';
  /** Probability of zeroing an element in training. */
  readonly rate: number;
}

/** Dropout as a module (params `{}`), for {@link sequential}; see {@link dropout}. */
export function dropoutLayer(rate: number): DropoutModule {
  if (!(rate >= 0 && rate <= 1)) throw new RangeError(`dropoutLayer: rate must be in [0, 1], got ${rate}`);
  return {
    kind: 'dropout',
    rate,
    init: (): Params => ({}),
    apply: (_params: Params, x: tf.Tensor, ctx?: ApplyContext) => dropout(x, rate, ctx),
  };
}
