/**
 * Layer normalisation over the last dimension (Ba et al. 2016), with PyTorch's names and defaults:
 * `y = (x − mean) / √(var + eps) · weight + bias`, biased variance, `weight` ones and `bias` zeros.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../random.js';
import type { Params } from '../params/params.js';
import type { ApplyContext, Module } from './module.js';
import { checkLastDim, paramLeaf } from './param-lookup.js';
import { initializers, initVariable } from './init.js';

/** Arguments of {@link layerNorm}. */
export interface LayerNormArgs {
  /** Size of the last dimension, over which statistics are taken. */
  normalizedShape: number;
  /** Added to the variance for numerical stability. Default 1e-5. */
  eps?: number;
  /** Whether to learn a per-element scale `weight` and shift `bias`. Default true. */
  elementwiseAffine?: boolean;
}

/** A layer normalisation; its configuration is readable. */
export interface LayerNormModule extends Module {
  /** Always `'layer_norm'`. */
  readonly kind: 'layer_norm';
  /** Size of the normalised (last) dimension. */
  readonly normalizedShape: number;
  /** Added to the variance. */
  readonly eps: number;
  /** Whether params hold `weight` and `bias`. */
  readonly elementwiseAffine: boolean;
}

/**
 * Layer norm on inputs `[..., normalizedShape]`; params `{ weight, bias }` (both
 * `[normalizedShape]`), or `{}` without the affine transform. `init` draws nothing.
 */
export function layerNorm(args: LayerNormArgs): LayerNormModule {
  const { normalizedShape, eps = 1e-5, elementwiseAffine = true } = args;
  if (!Number.isInteger(normalizedShape) || normalizedShape < 1) throw new Error(`layerNorm: normalizedShape must be a positive integer, got ${normalizedShape}`);
  if (!(eps >= 0)) throw new Error(`layerNorm: eps must be >= 0, got ${eps}`);
  return {
    kind: 'layer_norm',
    normalizedShape,
    eps,
    elementwiseAffine,
    init(rng: Rng): Params {
      if (!elementwiseAffine) return {};
      return {
        weight: initVariable(initializers.ones(), rng, [normalizedShape], 'layer_norm.weight'),
        bias: initVariable(initializers.zeros(), rng, [normalizedShape], 'layer_norm.bias'),
      };
    },
    apply(params: Params, x: tf.Tensor, _ctx?: ApplyContext): tf.Tensor {
      checkLastDim(x, normalizedShape, 'layerNorm');
      const weight = elementwiseAffine ? paramLeaf(params, 'weight', 'layerNorm') : undefined;
      const bias = elementwiseAffine ? paramLeaf(params, 'bias', 'layerNorm') : undefined;
      return tf.tidy(() => {
        const centred = tf.sub(x, tf.mean(x, -1, true));
        const variance = tf.mean(tf.square(centred), -1, true);
        const normed = tf.mul(centred, tf.rsqrt(tf.add(variance, eps)));
        return weight === undefined || bias === undefined ? normed : tf.add(tf.mul(normed, weight), bias);
      });
    },
  };
}
