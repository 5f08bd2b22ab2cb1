/**
 * Linear (fully connected) layer in PyTorch's layout: `weight` is `[out, in]`, `y = x·Wᵀ + b`, so
 * weights and adapters (LoRA's A `[r, in]`, B `[out, r]`) map 1:1 to PyTorch/PEFT state dicts.
 *
 * Performance: on the WASM backend, tfjs's fast matmul path (XNNPACK) serves only un-batched
 * matmuls without transpose flags; `matMul(x, w, false, true)` and the transposed matmuls autodiff
 * emits in the backward pass fall back to a scalar loop about 12× slower. {@link linearForward}
 * therefore has its own gradient (`tf.customGrad`) in which every product is a plain 2-D
 * `matMul(a, b)` with explicit transposes: forward `x·transpose(W)`, backward `dx = dy·W` and
 * `dW = transpose(dy)·x`.
 *
 * On the `wasm`, `cpu` and `tensorflow` backends {@link linearForward} runs the `HyperLabLinear`
 * kernel instead (`backend/matmul-fast.ts`): same products, but its gradient is registered at the
 * kernel level so the tape computes only the gradients it needs (no `dW` for a frozen weight, no
 * `dx` for a model input), transposes and the bias gradient are done in JavaScript on the WASM
 * heap, and a frozen weight (a non-trainable `tf.Variable`) is transposed once, not every step.
 * The custom-gradient version below remains the path for other backends.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../random.js';
import type { Params } from '../params/params.js';
import type { ApplyContext, Module } from './module.js';
import { initializers, initVariable, type Initializer } from './init.js';
import { checkLastDim, paramLeaf } from './param-lookup.js';
import { fastKernelsAvailable, linearKernel, registerFastKernels } from '../backend/matmul-fast.js';

registerFastKernels();

/** Arguments of {@link linear}. */
export interface LinearArgs {
  /** Size of the last dimension of the input. */
  inFeatures: number;
  /** Size of the last dimension of the output. */
  outFeatures: number;
  /** Whether to add a learned bias `[out]`. Default true. */
  bias?: boolean;
  /**
   * Initialiser of the weight `[out, in]`. Default PyTorch's `kaiming_uniform_(a=√5)`, i.e.
   * U(−1/√in, 1/√in) ({@link initializers}.torchDefault).
   */
  init?: Initializer;
  /** Initialiser of the bias `[out]`. Default U(−1/√in, 1/√in), as PyTorch. */
  biasInit?: Initializer;
}

/** A linear layer; its configuration is readable (adapters need the sizes). */
export interface LinearModule extends Module {
  /** Always `'linear'`. */
  readonly kind: 'linear';
  /** Size of the last dimension of the input. */
  readonly inFeatures: number;
  /** Size of the last dimension of the output. */
  readonly outFeatures: number;
  /** Whether the params hold a bias. */
  readonly bias: boolean;
}

type Save = (tensors: tf.Tensor[]) => void;

/** The leading dimensions of `x` `[..., in]` (the output is `[..., out]`). */
function leading(x: tf.Tensor): number[] {
  return x.shape.slice(0, -1);
}

const linearWithBias = tf.customGrad((x, w, b, save) => {
  const [input, weight, bias] = [x as tf.Tensor, w as tf.Tensor, b as tf.Tensor];
  const [outFeatures, inFeatures] = weight.shape;
  const x2d = tf.reshape(input, [-1, inFeatures]);
  (save as Save)([x2d, weight]);
  const y2d = tf.add(tf.matMul(x2d, tf.transpose(weight)), bias);
  return {
    value: tf.reshape(y2d, [...leading(input), outFeatures]),
    gradFunc: (dy: tf.Tensor, [savedX, savedW]: tf.Tensor[]) => {
      const dy2d = tf.reshape(dy, [-1, outFeatures]);
      return [
        tf.reshape(tf.matMul(dy2d, savedW), input.shape),
        tf.matMul(tf.transpose(dy2d), savedX),
        tf.sum(dy2d, 0),
      ];
    },
  };
});

const linearNoBias = tf.customGrad((x, w, save) => {
  const [input, weight] = [x as tf.Tensor, w as tf.Tensor];
  const [outFeatures, inFeatures] = weight.shape;
  const x2d = tf.reshape(input, [-1, inFeatures]);
  (save as Save)([x2d, weight]);
  return {
    value: tf.reshape(tf.matMul(x2d, tf.transpose(weight)), [...leading(input), outFeatures]),
    gradFunc: (dy: tf.Tensor, [savedX, savedW]: tf.Tensor[]) => {
      const dy2d = tf.reshape(dy, [-1, outFeatures]);
      return [tf.reshape(tf.matMul(dy2d, savedW), input.shape), tf.matMul(tf.transpose(dy2d), savedX)];
    },
  };
});

/**
 * `x·Wᵀ + b` for `x` `[..., in]`, `weight` `[out, in]`, `bias` `[out]`, with the WASM-friendly
 * custom gradient described above. Usable directly by adapters (`linearForward(x, A)` is LoRA's
 * down-projection).
 */
export function linearForward(x: tf.Tensor, weight: tf.Tensor, bias?: tf.Tensor): tf.Tensor {
  const [outFeatures, inFeatures] = weight.shape as number[];
  if (weight.rank !== 2) throw new Error(`linearForward: weight must be [out, in], got [${weight.shape.join(', ')}]`);
  checkLastDim(x, inFeatures, 'linearForward');
  if (bias !== undefined && (bias.rank !== 1 || bias.shape[0] !== outFeatures)) {
    throw new Error(`linearForward: bias must be [${outFeatures}], got [${bias.shape.join(', ')}]`);
  }
  if (fastKernelsAvailable() && x.dtype === 'float32' && weight.dtype === 'float32' && (bias === undefined || bias.dtype === 'float32')) {
    const frozenWeight = weight instanceof tf.Variable && !weight.trainable;
    return tf.tidy(() => {
      const x2d = x.rank === 2 ? x : tf.reshape(x, [-1, inFeatures]);
      const y = linearKernel(x2d, weight, bias, frozenWeight);
      return x.rank === 2 ? y : tf.reshape(y, [...leading(x), outFeatures]);
    });
  }
  return bias === undefined ? linearNoBias(x, weight) : linearWithBias(x, weight, bias);
}

function checkSize(value: number, name: string, owner: string): void {
  if (!Number.isInteger(value) || value < 1) throw new Error(`${owner}: ${name} must be a positive integer, got ${value}`);
}

/**
 * A linear layer: params `{ weight: [out, in], bias: [out] }` (no `bias` when `bias: false`),
 * forward `x·Wᵀ + b` on inputs `[..., in]`. `init(rng)` draws the weight then the bias from `rng`.
 */
export function linear(args: LinearArgs): LinearModule {
  const { inFeatures, outFeatures, bias = true } = args;
  checkSize(inFeatures, 'inFeatures', 'linear');
  checkSize(outFeatures, 'outFeatures', 'linear');
  const init = args.init ?? initializers.torchDefault();
  const biasInit = args.biasInit ?? initializers.torchDefaultBias(inFeatures);
  return {
    kind: 'linear',
    inFeatures,
    outFeatures,
    bias,
    init(rng: Rng): Params {
      const params: Params = { weight: initVariable(init, rng, [outFeatures, inFeatures], 'linear.weight') };
      if (bias) params.bias = initVariable(biasInit, rng, [outFeatures], 'linear.bias');
      return params;
    },
    apply(params: Params, x: tf.Tensor, _ctx?: ApplyContext): tf.Tensor {
      checkLastDim(x, inFeatures, 'linear');
      return linearForward(x, paramLeaf(params, 'weight', 'linear'), bias ? paramLeaf(params, 'bias', 'linear') : undefined);
    },
  };
}
