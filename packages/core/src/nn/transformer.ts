/**
 * Transformer encoder block with PyTorch's `nn.TransformerEncoderLayer` child names (`self_attn`,
 * `linear1`, `linear2`, `norm1`, `norm2`), so params paths and adapter targets match PyTorch. Pre-norm
 * by default (`normFirst`), as most current models and unlike PyTorch's default.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../random.js';
import type { Params } from '../params/params.js';
import { initChildren, type ApplyContext, type Module } from './module.js';
import { multiHeadAttention, type AttentionFunction } from './attention.js';
import { linear } from './linear.js';
import { layerNorm } from './layer-norm.js';
import { dropout as applyDropout, getActivation, type ActivationName } from './activations.js';
import { paramChild } from './param-lookup.js';

/** Arguments of {@link transformerEncoderBlock}. */
export interface TransformerEncoderBlockArgs {
  /** Model width: last dimension of the input and the output. */
  dModel: number;
  /** Attention heads; must divide `dModel`. */
  numHeads: number;
  /** Hidden width of the feed-forward network. */
  dimFeedforward: number;
  /** Dropout rate on attention weights, after attention, inside and after the feed-forward (training only). Default 0.1. */
  dropout?: number;
  /** Activation of the feed-forward network. Default `'gelu'` (exact; PyTorch's default is `'relu'`). */
  activation?: ActivationName;
  /** Layer norm before each sub-block (pre-norm, default true) or after each residual add (post-norm, PyTorch's default). */
  normFirst?: boolean;
  /** Epsilon of both layer norms. Default 1e-5. */
  layerNormEps?: number;
  /** Whether the linears have biases. Default true. */
  bias?: boolean;
  /** Attention core for `self_attn`. Default: the global default. */
  attention?: AttentionFunction;
}

/** A transformer encoder block; its configuration is readable. */
export interface TransformerEncoderBlockModule extends Module {
  /** Always `'transformer_encoder_block'`. */
  readonly kind: 'transformer_encoder_block';
  /** `self_attn`, `linear1`, `linear2`, `norm1`, `norm2`; adapters may replace entries. */
  readonly children: Record<string, Module>;
  /** Model width. */
  readonly dModel: number;
  /** Attention heads. */
  readonly numHeads: number;
  /** Feed-forward hidden width. */
  readonly dimFeedforward: number;
  /** Dropout rate. */
  readonly dropout: number;
  /** Feed-forward activation. */
  readonly activation: ActivationName;
  /** Pre-norm (true) or post-norm. */
  readonly normFirst: boolean;
}

const CHILDREN = ['self_attn', 'linear1', 'linear2', 'norm1', 'norm2'] as const;

/**
 * An encoder block on `[batch, seq, dModel]`; the attention mask, if any, comes from
 * `ctx.extras.attentionMask`. Pre-norm: `x + drop(attn(norm1(x)))`, then `x + drop(ff(norm2(x)))`;
 * post-norm: `norm1(x + drop(attn(x)))`, then `norm2(x + drop(ff(x)))`, where
 * `ff(h) = linear2(drop(act(linear1(h))))`. Each child gets `rng.fork(name)`.
 */
export function transformerEncoderBlock(args: TransformerEncoderBlockArgs): TransformerEncoderBlockModule {
  const { dModel, numHeads, dimFeedforward, dropout = 0.1, activation = 'gelu', normFirst = true, layerNormEps = 1e-5, bias = true } = args;
  if (!(dropout >= 0 && dropout <= 1)) throw new RangeError(`transformerEncoderBlock: dropout must be in [0, 1], got ${dropout}`);
  const act = getActivation(activation);
  const children: Record<string, Module> = {
    self_attn: multiHeadAttention({ embedDim: dModel, numHeads, dropout, bias, attention: args.attention }),
    linear1: linear({ inFeatures: dModel, outFeatures: dimFeedforward, bias }),
    linear2: linear({ inFeatures: dimFeedforward, outFeatures: dModel, bias }),
    norm1: layerNorm({ normalizedShape: dModel, eps: layerNormEps }),
    norm2: layerNorm({ normalizedShape: dModel, eps: layerNormEps }),
  };
  const self: TransformerEncoderBlockModule = {
    kind: 'transformer_encoder_block',
    children,
    dModel,
    numHeads,
    dimFeedforward,
    dropout,
    activation,
    normFirst,
    init(rng: Rng): Params {
      return initChildren((this ?? self).children, CHILDREN, rng);
    },
    apply(params: Params, x: tf.Tensor, ctx?: ApplyContext): tf.Tensor {
      const current = (this ?? self).children;
      const run = (name: string, input: tf.Tensor): tf.Tensor => current[name].apply(paramChild(params, name, 'transformerEncoderBlock'), input, ctx);
      const attentionBlock = (h: tf.Tensor): tf.Tensor => applyDropout(run('self_attn', h), dropout, ctx);
      const feedForward = (h: tf.Tensor): tf.Tensor =>
        applyDropout(run('linear2', applyDropout(act(run('linear1', h)), dropout, ctx)), dropout, ctx);
      return tf.tidy(() => {
        if (normFirst) {
          const h = tf.add(x, attentionBlock(run('norm1', x)));
          return tf.add(h, feedForward(run('norm2', h)));
        }
        const h = run('norm1', tf.add(x, attentionBlock(x)));
        return run('norm2', tf.add(h, feedForward(h)));
      });
    },
  };
  return self;
}
