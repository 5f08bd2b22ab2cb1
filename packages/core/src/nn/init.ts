/**
 * Initialisers: deterministic functions of an {@link Rng} and a shape. Values are drawn on the CPU
 * into a Float32Array from the seeded stream, then uploaded, so the same seed gives bit-identical
 * parameters on every backend. Fans follow PyTorch (`torch.nn.init._calculate_fan_in_and_fan_out`)
 * for PyTorch layouts: `[out, in, ...kernel]`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../random.js';
import { variable } from '../params/params.js';

/** Makes a float32 tensor of `shape`, drawing its values from `rng`. */
export type Initializer = (rng: Rng, shape: readonly number[]) => tf.Tensor;

/** Non-linearities {@link calculateGain} knows (PyTorch's names). */
export type Nonlinearity = 'linear' | 'identity' | 'conv2d' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'selu';

/** Fan-in and fan-out of a weight. */
export interface Fans {
  /** Inputs feeding each output unit: `shape[1] × prod(shape[2:])`. */
  fanIn: number;
  /** Outputs fed by each input unit: `shape[0] × prod(shape[2:])`. */
  fanOut: number;
}

function size(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

function fromArray(values: Float32Array, shape: readonly number[]): tf.Tensor {
  return tf.tensor(values, shape.slice(), 'float32');
}

/**
 * Fans of a weight in PyTorch layout (`[out, in]` for a linear, `[out, in, kh, kw]` for a conv).
 * Throws for fewer than 2 dimensions, as PyTorch does.
 */
export function computeFans(shape: readonly number[]): Fans {
  if (shape.length < 2) throw new Error(`computeFans: needs a weight of rank >= 2, got shape [${shape.join(', ')}]`);
  const receptive = size(shape.slice(2));
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

/**
 * The recommended gain for a non-linearity (PyTorch's `calculate_gain`): 1 for linear, conv and
 * sigmoid; 5/3 for tanh; √2 for relu; √(2 / (1 + slope²)) for leaky_relu (slope defaults to 0.01);
 * 3/4 for selu.
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'identity':
    case 'conv2d':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
  }
}

/** All zeros. */
function zeros(): Initializer {
  return (_rng, shape) => tf.zeros(shape.slice(), 'float32');
}

/** All ones. */
function ones(): Initializer {
  return (_rng, shape) => tf.ones(shape.slice(), 'float32');
}

/** Every element equal to `value`. */
function constant(value: number): Initializer {
  return (_rng, shape) => tf.fill(shape.slice(), value, 'float32');
}

/** Normal N(mean, std²). */
function normal(std = 1, mean = 0): Initializer {
  return (rng, shape) => fromArray(rng.fillNormal(new Float32Array(size(shape)), mean, std), shape);
}

/** Uniform U(−a, a) with one argument; U(a, b) with two. */
function uniform(a: number, b?: number): Initializer {
  const [low, high] = b === undefined ? [-a, a] : [a, b];
  if (!(high >= low)) throw new Error(`uniform: empty range [${low}, ${high})`);
  return (rng, shape) => fromArray(rng.fillUniform(new Float32Array(size(shape)), low, high), shape);
}

/**
 * Normal N(mean, std²) truncated at two standard deviations by resampling (Keras semantics; note
 * PyTorch's `trunc_normal_` truncates at absolute bounds ±2 instead).
 */
function truncatedNormal(std = 1, mean = 0): Initializer {
  return (rng, shape) => fromArray(rng.fillTruncatedNormal(new Float32Array(size(shape)), mean, std), shape);
}

/** Glorot/Xavier uniform: U(−a, a), a = gain·√(6 / (fanIn + fanOut)). */
function glorotUniform(gain = 1): Initializer {
  return (rng, shape) => {
    const { fanIn, fanOut } = computeFans(shape);
    return uniform(gain * Math.sqrt(6 / (fanIn + fanOut)))(rng, shape);
  };
}

/** Glorot/Xavier normal: N(0, std²), std = gain·√(2 / (fanIn + fanOut)). */
function glorotNormal(gain = 1): Initializer {
  return (rng, shape) => {
    const { fanIn, fanOut } = computeFans(shape);
    return normal(gain * Math.sqrt(2 / (fanIn + fanOut)))(rng, shape);
  };
}

/** Options of the Kaiming/He initialisers (PyTorch's `kaiming_*_` arguments). */
export interface KaimingOptions {
  /** Negative slope of the leaky_relu that follows (only used with `nonlinearity: 'leaky_relu'`). Default 0. */
  a?: number;
  /** Preserve the variance of the forward pass (`fan_in`, default) or of the backward pass (`fan_out`). */
  mode?: 'fan_in' | 'fan_out';
  /** The non-linearity that follows, for the gain. Default `'relu'` (gain √2). */
  nonlinearity?: Nonlinearity;
}

function kaimingStd(shape: readonly number[], options: KaimingOptions): number {
  const { a = 0, mode = 'fan_in', nonlinearity = 'relu' } = options;
  const fans = computeFans(shape);
  const fan = mode === 'fan_in' ? fans.fanIn : fans.fanOut;
  return calculateGain(nonlinearity, a) / Math.sqrt(fan);
}

/** Kaiming/He uniform: U(−b, b), b = gain·√(3 / fan); by default fan = fanIn and gain = √2 (relu). */
function kaimingUniform(options: KaimingOptions = {}): Initializer {
  return (rng, shape) => uniform(Math.sqrt(3) * kaimingStd(shape, options))(rng, shape);
}

/** Kaiming/He normal: N(0, std²), std = gain / √fan; by default fan = fanIn and gain = √2 (relu). */
function kaimingNormal(options: KaimingOptions = {}): Initializer {
  return (rng, shape) => normal(kaimingStd(shape, options))(rng, shape);
}

/**
 * PyTorch's default for `nn.Linear` and `nn.Conv*` weights: `kaiming_uniform_(a=√5)`, which is
 * U(−1/√fanIn, 1/√fanIn).
 */
function torchDefault(): Initializer {
  return kaimingUniform({ a: Math.sqrt(5), nonlinearity: 'leaky_relu' });
}

/**
 * PyTorch's default for `nn.Linear` / `nn.Conv*` biases: U(−1/√fanIn, 1/√fanIn), where fanIn is
 * the weight's (a bias alone does not know it). U(0, 0) when fanIn is 0, as in PyTorch.
 */
function torchDefaultBias(fanIn: number): Initializer {
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  return uniform(bound);
}

/**
 * The initialisers, tfjs-layers style: `initializers.glorotUniform()` returns an
 * {@link Initializer}. `xavier*` and `he*` are aliases of `glorot*` and `kaiming*`.
 */
export const initializers = {
  zeros,
  ones,
  constant,
  normal,
  uniform,
  truncatedNormal,
  glorotUniform,
  glorotNormal,
  xavierUniform: glorotUniform,
  xavierNormal: glorotNormal,
  kaimingUniform,
  kaimingNormal,
  heUniform: kaimingUniform,
  heNormal: kaimingNormal,
  torchDefault,
  torchDefaultBias,
} as const;

/**
 * Draws a tensor with `init` and wraps it in a parameter variable that owns it: the drawn tensor is
 * disposed once the variable holds its data (`tf.variable` shares data with the tensor it is given,
 * so a tensor left alive would keep the data after the variable is disposed).
 */
export function initVariable(init: Initializer, rng: Rng, shape: readonly number[], name: string, trainable = true): tf.Variable {
  const value = init(rng, shape);
  const leaf = variable(value, name, trainable);
  value.dispose();
  return leaf;
}
