/**
 * 2-D convolution on NHWC inputs with PyTorch's parameter layout: `weight` `[out, in, kh, kw]`,
 * `bias` `[out]`, so state dicts and conv adapters map 1:1 to PyTorch. The forward transposes the
 * weight to tfjs's `[kh, kw, in, out]` and calls `tf.conv2d`.
 *
 * Training needs the `Conv2DBackpropFilter` kernel, which stock tfjs-backend-wasm 4.22 lacks (cpu
 * has it; `src/backend/` adds it to wasm). tfjs-core's own Conv2D gradient rejects dilation > 1;
 * the gradient `src/backend/` registers supports it.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../random.js';
import type { Params } from '../params/params.js';
import type { ApplyContext, Module } from './module.js';
import { computeFans, initializers, initVariable, type Initializer } from './init.js';
import { paramLeaf } from './param-lookup.js';

/** A size given once for both spatial dimensions or as `[height, width]`. */
export type Size2 = number | [number, number];

/** Arguments of {@link conv2d}. */
export interface Conv2dArgs {
  /** Channels of the input (its last dimension, NHWC). */
  inChannels: number;
  /** Channels of the output (number of filters). */
  outChannels: number;
  /** Kernel height and width. */
  kernelSize: Size2;
  /** Step between applications of the kernel. Default 1. */
  stride?: Size2;
  /**
   * `'valid'` (default, no padding), `'same'` (output size ⌈input/stride⌉; with stride > 1 the
   * extra padding goes bottom/right as in TensorFlow — PyTorch allows `'same'` only at stride 1),
   * or zero padding on each side, symmetric per dimension, as PyTorch's integer `padding`.
   */
  padding?: 'valid' | 'same' | Size2;
  /** Spacing between kernel taps. Default 1. tfjs allows stride > 1 or dilation > 1, not both. */
  dilation?: Size2;
  /** Whether to add a learned bias `[out]`. Default true. */
  bias?: boolean;
  /** Initialiser of the weight `[out, in, kh, kw]`. Default PyTorch's U(−1/√fanIn, 1/√fanIn), fanIn = in·kh·kw. */
  init?: Initializer;
  /** Initialiser of the bias `[out]`. Default U(−1/√fanIn, 1/√fanIn), as PyTorch. */
  biasInit?: Initializer;
}

/** A 2-D convolution; its configuration is readable. */
export interface Conv2dModule extends Module {
  /** Always `'conv2d'`. */
  readonly kind: 'conv2d';
  /** Channels of the input. */
  readonly inChannels: number;
  /** Channels of the output. */
  readonly outChannels: number;
  /** `[kh, kw]`. */
  readonly kernelSize: [number, number];
  /** `[sh, sw]`. */
  readonly stride: [number, number];
  /** `'valid'`, `'same'`, or `[ph, pw]` zero padding per side. */
  readonly padding: 'valid' | 'same' | [number, number];
  /** `[dh, dw]`. */
  readonly dilation: [number, number];
  /** Whether the params hold a bias. */
  readonly bias: boolean;
}

function pair(value: Size2, name: string, min: number): [number, number] {
  const p: [number, number] = typeof value === 'number' ? [value, value] : [value[0], value[1]];
  if (!p.every((v) => Number.isInteger(v) && v >= min)) throw new Error(`conv2d: ${name} must be integer(s) >= ${min}, got ${JSON.stringify(value)}`);
  return p;
}

/**
 * A 2-D convolution on `[batch, height, width, inChannels]` inputs, giving
 * `[batch, outHeight, outWidth, outChannels]`. `init(rng)` draws the weight then the bias.
 */
export function conv2d(args: Conv2dArgs): Conv2dModule {
  const { inChannels, outChannels, bias = true } = args;
  if (!Number.isInteger(inChannels) || inChannels < 1) throw new Error(`conv2d: inChannels must be a positive integer, got ${inChannels}`);
  if (!Number.isInteger(outChannels) || outChannels < 1) throw new Error(`conv2d: outChannels must be a positive integer, got ${outChannels}`);
  const kernelSize = pair(args.kernelSize, 'kernelSize', 1);
  const stride = pair(args.stride ?? 1, 'stride', 1);
  const dilation = pair(args.dilation ?? 1, 'dilation', 1);
  const rawPadding = args.padding ?? 'valid';
  const padding = rawPadding === 'valid' || rawPadding === 'same' ? rawPadding : pair(rawPadding, 'padding', 0);
  if (stride.some((s) => s > 1) && dilation.some((d) => d > 1)) {
    throw new Error(`conv2d: tfjs supports stride > 1 or dilation > 1, not both (stride ${stride}, dilation ${dilation})`);
  }
  const pad: 'valid' | 'same' | tf.backend_util.ExplicitPadding =
    typeof padding === 'string' ? padding : [[0, 0], [padding[0], padding[0]], [padding[1], padding[1]], [0, 0]];
  const weightShape = [outChannels, inChannels, ...kernelSize];
  const init = args.init ?? initializers.torchDefault();
  const biasInit = args.biasInit ?? initializers.torchDefaultBias(computeFans(weightShape).fanIn);
  return {
    kind: 'conv2d',
    inChannels,
    outChannels,
    kernelSize,
    stride,
    padding,
    dilation,
    bias,
    init(rng: Rng): Params {
      const params: Params = { weight: initVariable(init, rng, weightShape, 'conv2d.weight') };
      if (bias) params.bias = initVariable(biasInit, rng, [outChannels], 'conv2d.bias');
      return params;
    },
    apply(params: Params, x: tf.Tensor, _ctx?: ApplyContext): tf.Tensor {
      if (x.rank !== 4 || x.shape[3] !== inChannels) {
        throw new Error(`conv2d: expected NHWC input [batch, height, width, ${inChannels}], got [${x.shape.join(', ')}]`);
      }
      const weight = paramLeaf(params, 'weight', 'conv2d');
      const b = bias ? paramLeaf(params, 'bias', 'conv2d') : undefined;
      return tf.tidy(() => {
        const filter = tf.transpose(weight, [2, 3, 1, 0]) as tf.Tensor4D;
        const y = tf.conv2d(x as tf.Tensor4D, filter, stride, pad, 'NHWC', dilation);
        return b === undefined ? y : tf.add(y, b);
      });
    },
  };
}
