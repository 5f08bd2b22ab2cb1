/**
 * Embedding lookup table: `weight` `[numEmbeddings, embeddingDim]`, initialised N(0, 1) like
 * PyTorch's `nn.Embedding`; the forward gathers rows by int32 id for ids of any shape.
 *
 * The gradient is custom: tfjs's gather gradient needs the `UnsortedSegmentSum` kernel, which
 * tfjs-backend-wasm 4.22 lacks, so {@link embeddingLookup} scatters `dy` into the table with
 * `scatterND` (which sums repeated ids) — O(ids × dim), independent of the vocabulary size.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../random.js';
import type { Params } from '../params/params.js';
import type { ApplyContext, Module } from './module.js';
import { initializers, initVariable, type Initializer } from './init.js';
import { paramLeaf } from './param-lookup.js';

/** Arguments of {@link embedding}. */
export interface EmbeddingArgs {
  /** Number of rows (vocabulary size); ids must be in [0, numEmbeddings). */
  numEmbeddings: number;
  /** Size of each embedding vector. */
  embeddingDim: number;
  /** Initialiser of the table `[numEmbeddings, embeddingDim]`. Default N(0, 1), as PyTorch. */
  init?: Initializer;
}

/** An embedding table; its configuration is readable. */
export interface EmbeddingModule extends Module<tf.Tensor, tf.Tensor> {
  /** Always `'embedding'`. */
  readonly kind: 'embedding';
  /** Number of rows. */
  readonly numEmbeddings: number;
  /** Size of each row. */
  readonly embeddingDim: number;
}

type Save = (tensors: tf.Tensor[]) => void;

const lookup = tf.customGrad((w, i, save) => {
  const [weight, ids] = [w as tf.Tensor, i as tf.Tensor];
  const flatIds = tf.reshape(ids, [-1]);
  (save as Save)([flatIds]);
  const dim = weight.shape[1] as number;
  return {
    value: tf.reshape(tf.gather(weight, flatIds), [...ids.shape, dim]),
    gradFunc: (dy: tf.Tensor, [savedIds]: tf.Tensor[]) => {
      const rows = tf.reshape(dy, [-1, dim]);
      const table = tf.scatterND(tf.reshape(savedIds, [-1, 1]), rows, weight.shape);
      // ids are not differentiable; a float zero stands in for their gradient.
      return [table, tf.zeros(ids.shape, 'float32')];
    },
  };
});

/**
 * Rows of `weight` `[num, dim]` at int32 `ids` of any shape → `[...ids.shape, dim]`, with the
 * scatter-based gradient described above. Ids are not range-checked (tf.gather's behaviour for
 * out-of-range ids is backend-defined).
 */
export function embeddingLookup(weight: tf.Tensor, ids: tf.Tensor): tf.Tensor {
  if (weight.rank !== 2) throw new Error(`embeddingLookup: weight must be [num, dim], got [${weight.shape.join(', ')}]`);
  if (ids.dtype !== 'int32') throw new Error(`embeddingLookup: ids must be int32, got ${ids.dtype}`);
  return lookup(weight, ids);
}

/** An embedding table; `apply(params, ids)` maps int32 ids of any shape to `[...ids.shape, dim]`. */
export function embedding(args: EmbeddingArgs): EmbeddingModule {
  const { numEmbeddings, embeddingDim } = args;
  if (!Number.isInteger(numEmbeddings) || numEmbeddings < 1) throw new Error(`embedding: numEmbeddings must be a positive integer, got ${numEmbeddings}`);
  if (!Number.isInteger(embeddingDim) || embeddingDim < 1) throw new Error(`embedding: embeddingDim must be a positive integer, got ${embeddingDim}`);
  const init = args.init ?? initializers.normal(1);
  return {
    kind: 'embedding',
    numEmbeddings,
    embeddingDim,
    init(rng: Rng): Params {
      return { weight: initVariable(init, rng, [numEmbeddings, embeddingDim], 'embedding.weight') };
    },
    apply(params: Params, ids: tf.Tensor, _ctx?: ApplyContext): tf.Tensor {
      return embeddingLookup(paramLeaf(params, 'weight', 'embedding'), ids);
    },
  };
}
