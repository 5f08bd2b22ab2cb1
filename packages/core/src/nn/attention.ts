/**
 * Multi-head self-attention (Vaswani et al. 2017) with separate `q_proj`, `k_proj`, `v_proj` and
 * `out_proj` linears — the names PEFT users target (`targetModules: ['q_proj', 'v_proj']`).
 *
 * The core, {@link scaledDotProductAttention}, is a plain function of `(q, k, v, mask)` so a faster
 * implementation can replace it: per module (`attention` argument) or globally
 * ({@link setDefaultAttention}). The default's batched matmuls go through HyperLab's
 * `HyperLabBatchMatMul` kernel where the backend has it (WASM: one XNNPACK call per matrix, since
 * tfjs-backend-wasm runs batched or transposed matmuls outside its XNNPACK fast path).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../random.js';
import type { Params } from '../params/params.js';
import { initChildren, type ApplyContext, type Module } from './module.js';
import { linear, type LinearModule } from './linear.js';
import { dropout as applyDropout } from './activations.js';
import { initializers } from './init.js';
import { checkLastDim, paramChild } from './param-lookup.js';
import { batchMatMulKernel, fastKernelsAvailable, registerFastKernels } from '../backend/matmul-fast.js';

registerFastKernels();

/**
 * `a·b` (or with transposes) over matching leading dimensions. On backends with HyperLab's fast
 * kernels, through `HyperLabBatchMatMul` (one XNNPACK call per matrix on WASM, ~5× faster than
 * the batched fallback, with a gradient that stays on that path); otherwise `tf.matMul`.
 */
function matMulBatched(a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean): tf.Tensor {
  const lead = a.shape.slice(0, -2);
  const sameLead = a.rank >= 3 && a.rank === b.rank && tf.util.arraysEqual(lead, b.shape.slice(0, -2));
  if (!sameLead || a.dtype !== 'float32' || b.dtype !== 'float32' || !fastKernelsAvailable()) return tf.matMul(a, b, transposeA, transposeB);
  const batch = lead.reduce((x, y) => x * y, 1);
  const a3 = tf.reshape(a, [batch, ...a.shape.slice(-2)]);
  const b3 = tf.reshape(b, [batch, ...b.shape.slice(-2)]);
  const out = batchMatMulKernel(a3, b3, transposeA, transposeB);
  return tf.reshape(out, [...lead, ...out.shape.slice(-2)]);
}

/** Options of an attention core. */
export interface AttentionOptions {
  /** Dropout rate on the attention weights (training only). Default 0. */
  dropout?: number;
  /** The call's context: `training` and the `rng` dropout draws from. */
  ctx?: ApplyContext;
  /** Multiplier of `q·kᵀ`. Default 1/√d (d = last dimension of q). */
  scale?: number;
}

/**
 * An attention core: `q` `[..., Sq, d]`, `k` `[..., Sk, d]`, `v` `[..., Sk, dv]` → `[..., Sq, dv]`;
 * `mask` is additive (0 = attend, large negative = masked), broadcastable to `[..., Sq, Sk]`.
 */
export type AttentionFunction = (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, mask?: tf.Tensor, options?: AttentionOptions) => tf.Tensor;

/** What {@link keepMaskToAdditive} adds at masked positions (finite, so fully masked rows stay finite). */
export const MASKED_LOGIT = -1e9;

/** softmax(q·kᵀ·scale + mask)·v, with dropout on the weights; differentiable by autodiff. */
export function scaledDotProductAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, mask?: tf.Tensor, options: AttentionOptions = {}): tf.Tensor {
  const d = q.shape[q.rank - 1] as number;
  const { dropout = 0, ctx, scale = 1 / Math.sqrt(d) } = options;
  return tf.tidy(() => {
    let scores = tf.mul(matMulBatched(q, k, false, true), scale);
    if (mask !== undefined) scores = tf.add(scores, mask);
    const weights = applyDropout(tf.softmax(scores), dropout, ctx);
    return matMulBatched(weights, v, false, false);
  });
}

let defaultAttention: AttentionFunction = scaledDotProductAttention;

/**
 * Replaces the attention core used by modules created without an `attention` argument (read at
 * each apply). With no argument, restores {@link scaledDotProductAttention}. Returns the previous.
 */
export function setDefaultAttention(fn?: AttentionFunction): AttentionFunction {
  const previous = defaultAttention;
  defaultAttention = fn ?? scaledDotProductAttention;
  return previous;
}

/** The attention core modules use by default. */
export function getDefaultAttention(): AttentionFunction {
  return defaultAttention;
}

/**
 * Converts `ctx.extras.attentionMask` into an additive mask broadcastable to
 * `[batch, heads, Sq, Sk]`. By dtype: `int32`/`bool` masks are keep-masks (1 = attend, 0 =
 * masked, Hugging Face's `attention_mask` convention — note PyTorch's boolean masks mean the
 * opposite); `float32` masks are additive. Shapes: `[batch, Sk]` (key padding),
 * `[batch, Sq, Sk]`, or `[batch | 1, heads | 1, Sq, Sk]`.
 */
export function keepMaskToAdditive(mask: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const shape = mask.shape as number[];
    let m = mask;
    if (m.rank === 2) m = tf.reshape(m, [shape[0], 1, 1, shape[1]]);
    else if (m.rank === 3) m = tf.reshape(m, [shape[0], 1, shape[1], shape[2]]);
    else if (m.rank !== 4) throw new Error(`attention: attentionMask must be [batch, Sk], [batch, Sq, Sk] or [batch, heads, Sq, Sk], got [${mask.shape.join(', ')}]`);
    if (m.dtype === 'float32') return m;
    return tf.mul(tf.sub(1, tf.cast(tf.notEqual(m, 0), 'float32')), MASKED_LOGIT);
  });
}

/** Arguments of {@link multiHeadAttention}. */
export interface MultiHeadAttentionArgs {
  /** Model width: last dimension of the input and the output. */
  embedDim: number;
  /** Number of heads; must divide `embedDim`. */
  numHeads: number;
  /** Dropout rate on the attention weights (training only). Default 0. */
  dropout?: number;
  /** Whether the four projections have biases. Default true. */
  bias?: boolean;
  /** Attention core for this module. Default: the global default ({@link setDefaultAttention}). */
  attention?: AttentionFunction;
}

/** Multi-head self-attention; its configuration is readable. */
export interface MultiHeadAttentionModule extends Module {
  /** Always `'multi_head_attention'`. */
  readonly kind: 'multi_head_attention';
  /** The projections (`q_proj`, `k_proj`, `v_proj`, `out_proj`); adapters may replace entries. */
  readonly children: Record<string, Module>;
  /** Model width. */
  readonly embedDim: number;
  /** Number of heads. */
  readonly numHeads: number;
  /** Width of each head, `embedDim / numHeads`. */
  readonly headDim: number;
  /** Dropout rate on the attention weights. */
  readonly dropout: number;
}

/** The projection names, in the order params are created. */
export const ATTENTION_PROJECTIONS = ['q_proj', 'k_proj', 'v_proj', 'out_proj'] as const;

/**
 * Multi-head self-attention on `[batch, seq, embedDim]`. An optional mask is read from
 * `ctx.extras.attentionMask` (see {@link keepMaskToAdditive}). Optional `ctx.extras.prefixKeys` and
 * `prefixValues` (`[P, embedDim]` or `[batch, P, embedDim]`, in the projected space) are placed
 * before the projected keys and values and always attended (prefix tuning; the mask is extended). Initialised as PyTorch's
 * `nn.MultiheadAttention`: q/k/v weights xavier-uniform over the packed `[3E, E]` in-projection,
 * i.e. U(±√(1.5/E)), biases 0; `out_proj` weight U(±1/√E), bias 0. Each projection gets
 * `rng.fork(name)`. `apply` looks the projections up in `this.children` at call time.
 */
export function multiHeadAttention(args: MultiHeadAttentionArgs): MultiHeadAttentionModule {
  const { embedDim, numHeads, dropout = 0, bias = true } = args;
  if (!Number.isInteger(numHeads) || numHeads < 1) throw new Error(`multiHeadAttention: numHeads must be a positive integer, got ${numHeads}`);
  if (!Number.isInteger(embedDim) || embedDim < 1 || embedDim % numHeads !== 0) {
    throw new Error(`multiHeadAttention: embedDim (${embedDim}) must be a positive multiple of numHeads (${numHeads})`);
  }
  if (!(dropout >= 0 && dropout <= 1)) throw new RangeError(`multiHeadAttention: dropout must be in [0, 1], got ${dropout}`);
  const headDim = embedDim / numHeads;
  const inProj = (): LinearModule =>
    linear({ inFeatures: embedDim, outFeatures: embedDim, bias, init: initializers.uniform(Math.sqrt(6 / (4 * embedDim))), biasInit: initializers.zeros() });
  const children: Record<string, Module> = {
    q_proj: inProj(),
    k_proj: inProj(),
    v_proj: inProj(),
    out_proj: linear({ inFeatures: embedDim, outFeatures: embedDim, bias, biasInit: initializers.zeros() }),
  };
  const self: MultiHeadAttentionModule = {
    kind: 'multi_head_attention',
    children,
    embedDim,
    numHeads,
    headDim,
    dropout,
    init(rng: Rng): Params {
      return initChildren((this ?? self).children, ATTENTION_PROJECTIONS, rng);
    },
    apply(params: Params, x: tf.Tensor, ctx?: ApplyContext): tf.Tensor {
      if (x.rank !== 3) throw new Error(`multiHeadAttention: expected input [batch, seq, ${embedDim}], got [${x.shape.join(', ')}]`);
      checkLastDim(x, embedDim, 'multiHeadAttention', 'embedDim');
      const current = (this ?? self).children;
      const attend = args.attention ?? defaultAttention;
      const [batch, seq] = x.shape as number[];
      const project = (name: string, input: tf.Tensor): tf.Tensor => current[name].apply(paramChild(params, name, 'multiHeadAttention'), input, ctx);
      // [batch, len, E] → [batch, heads, len, headDim]
      const heads = (t: tf.Tensor): tf.Tensor => tf.transpose(tf.reshape(t, [batch, t.shape[1] as number, numHeads, headDim]), [0, 2, 1, 3]);
      const prefixKeys = ctx?.extras?.prefixKeys;
      const prefixValues = ctx?.extras?.prefixValues;
      if ((prefixKeys === undefined) !== (prefixValues === undefined)) throw new Error('multiHeadAttention: ctx.extras needs both prefixKeys and prefixValues, or neither');
      return tf.tidy(() => {
        const rawMask = ctx?.extras?.attentionMask;
        let mask = rawMask === undefined ? undefined : keepMaskToAdditive(rawMask);
        const q = heads(project('q_proj', x));
        let kp = project('k_proj', x);
        let vp = project('v_proj', x);
        if (prefixKeys !== undefined && prefixValues !== undefined) {
          // Prefix tuning: P learned key/value rows ([P, E] or [batch, P, E]) before the sequence's, always attended.
          const prefix = (t: tf.Tensor): tf.Tensor => (t.rank === 2 ? tf.broadcastTo(tf.expandDims(t, 0), [batch, t.shape[0], embedDim]) : t);
          const p = prefixKeys.shape[prefixKeys.rank - 2] as number;
          kp = tf.concat([prefix(prefixKeys), kp], 1);
          vp = tf.concat([prefix(prefixValues), vp], 1);
          if (mask !== undefined && mask.shape[3] !== 1) mask = tf.pad(mask, [[0, 0], [0, 0], [0, 0], [p, 0]]);
        }
        const k = heads(kp);
        const v = heads(vp);
        const o = attend(q, k, v, mask, { dropout, ctx });
        const merged = tf.reshape(tf.transpose(o, [0, 2, 1, 3]), [batch, seq, embedDim]);
        return project('out_proj', merged);
      });
    },
  };
  return self;
}
