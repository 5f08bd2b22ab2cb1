/**
 * Intrinsic-dimension subspace training, and its structure-aware variant.
 *
 * Papers:
 * - Chunyuan Li, Heerad Farkhoor, Rosanne Liu, Jason Yosinski (2018), "Measuring the Intrinsic
 *   Dimension of Objective Landscapes", ICLR 2018, arXiv:1804.08838: train θ = θ₀ + P·z with
 *   z ∈ R^d (zero at init) in a fixed random subspace; P dense, sparse or Fastfood
 *   (`projections.ts`, `fastfood.ts`, with the reference code's normalisation and padding).
 * - Armen Aghajanyan, Luke Zettlemoyer, Sonal Gupta (2020), "Intrinsic Dimensionality Explains the
 *   Effectiveness of Language Model Fine-Tuning", arXiv:2012.13255 (ACL 2021): SAID,
 *   θᵢ = θ₀,ᵢ + λᵢ·(P·z)ᵢ with one scale λᵢ per parameter tensor i (their "layer"); the m scales
 *   count in d, so z has d − m entries.
 *
 * How it is built here: a whole-model method (`training-hooks.ts`). {@link applyIntrinsic} wraps
 * the model in a module whose params are `intrinsic.z` `[d]` (`[d − m]` with SAID) and
 * `intrinsic.lambda` `[m]` (SAID), trainable, beside `theta0` — the model's own leaves, frozen
 * and never written while training. Its `apply` computes P·z once per call (one projection for the
 * whole model: every leaf of the params tree flattened in tree order and concatenated, D entries,
 * as the reference builds one Fastfood block for all layers), splits it per tensor, scales it
 * (SAID), adds θ₀ and calls the original module with those tensors. The gradient reaches z
 * through Pᵀ (each projection registers its transpose as the gradient) and λᵢ through ⟨∂L/∂θᵢ,
 * (P·z)ᵢ⟩. `finish()` writes θ₀ + P·z into the original leaves and restores their trainable flags.
 *
 * Where this differs from the papers' code:
 * - λ starts at 1 (the released SAID implementations initialise it with ones; with λ = 0 and z = 0
 *   neither would receive a gradient);
 * - SAID here uses the one whole-model projection of Li et al.; the SAID implementations draw one
 *   Fastfood transform per layer, each from the same z;
 * - the reference applies weight decay to θ in some runs; the optimiser here sees z (and λ) only.
 *
 * Not mergeable in the adapter sense (there are no adapter layers): `finish()` is the merge. There
 * is no PEFT equivalent and no saved adapter format; save the finished params with `saveParams`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../random.js';
import type { ApplyContext, Module } from '../../nn/module.js';
import { flatten, variable, type Params } from '../../params/params.js';
import { paramChild, paramLeaf } from '../../nn/param-lookup.js';
import { fields, validateConfig, type ConfigSchema } from '../config.js';
import { registerWholeModelMethod, type WholeModelApplied, type WholeModelMethod } from '../training-hooks.js';
import { makeProjection, PROJECTIONS, type ProjectionKind, type SubspaceProjection } from './projections.js';

/** The `intrinsic` method's configuration. */
export interface IntrinsicConfig {
  method: 'intrinsic';
  /** d: trainable scalars (with SAID, z has dim − m entries and the m per-tensor scales make up the rest). */
  dim: number;
  /** How P is drawn. Default `'fastfood'` (memory O(D)). */
  projection: ProjectionKind;
  /** Structure-aware (Aghajanyan et al.): one trained scale per parameter tensor. Default false. */
  said: boolean;
  /** Seed of P; without it P comes from the caller's generator. */
  seed?: number;
}

/** What {@link intrinsicConfig} accepts (defaults filled in). */
export type IntrinsicConfigInput = Partial<Omit<IntrinsicConfig, 'method'>> & { dim: number; method?: 'intrinsic' };

const schema: ConfigSchema = {
  method: fields.fixed('intrinsic', 'the method'),
  dim: fields.positiveInt(),
  projection: fields.oneOf(PROJECTIONS, 'fastfood'),
  said: fields.boolean(false),
  seed: { ...fields.integer(), optional: true },
};

/** Validates an intrinsic-dimension config and fills its defaults. */
export function intrinsicConfig(input: IntrinsicConfigInput): IntrinsicConfig {
  return validateConfig<IntrinsicConfig>('IntrinsicConfig', schema, { method: 'intrinsic', ...input });
}

/** The wrapper module {@link applyIntrinsic} returns. */
export interface IntrinsicModule extends Module {
  readonly kind: 'intrinsic';
  /** The original module. */
  readonly base: Module;
  /** The projection (d = z's length, D = the parameter count). */
  readonly projection: SubspaceProjection;
  /** The parameter tensors in projection order: dotted path, shape, size. */
  readonly tensors: ReadonlyArray<{ path: string; shape: number[]; size: number }>;
  /** Whether SAID's per-tensor scales are on. */
  readonly said: boolean;
  /** θ = θ₀ + (λ ⊙) P·z as a tree of tensors shaped like the original params (differentiable in z, λ). */
  theta(params: Params): Params;
}

/** What {@link applyIntrinsic} returns. */
export interface IntrinsicApplied extends Required<Pick<WholeModelApplied, 'trainModel' | 'trainParams'>> {
  trainModel: IntrinsicModule;
  /** `{ intrinsic: { z, lambda? }, theta0: <the original params> }`. */
  trainParams: Params;
  /** d (trainable scalars, λ included), D (the model's parameter count), m (tensors). */
  counts: { d: number; D: number; m: number };
  /** Writes θ₀ + (λ ⊙) P·z into the original leaves, restores their trainable flags, frees z, λ and P. Idempotent. */
  finish(): void;
}

/**
 * Reparametrises every leaf of `params` as θ = θ₀ + P·z (see the header). The original leaves are
 * frozen until `finish()`. Throws, naming the config key, when d does not fit the model.
 */
export function applyIntrinsic(model: Module, params: Params, input: IntrinsicConfigInput, options: { rng?: Rng } = {}): IntrinsicApplied {
  const config = intrinsicConfig(input);
  const leaves = [...flatten(params)];
  if (leaves.length === 0) throw new Error('intrinsic: the model has no parameters');
  const tensors = leaves.map(([path, leaf]) => ({ path, shape: [...leaf.shape], size: leaf.size }));
  const D = tensors.reduce((a, t) => a + t.size, 0);
  const m = tensors.length;
  const zDim = config.said ? config.dim - m : config.dim;
  if (config.said && zDim < 1) {
    throw new Error(`IntrinsicConfig.dim must exceed the number of parameter tensors m = ${m} when said is true (z has dim − m entries), got ${config.dim}`);
  }
  if (zDim > D) throw new Error(`IntrinsicConfig.dim must be at most the model's parameter count D = ${D}${config.said ? ` plus m = ${m}` : ''}, got ${config.dim}`);
  const rng = config.seed !== undefined ? new Rng(config.seed) : (options.rng ?? new Rng(0));
  const projection = makeProjection(config.projection, zDim, tensors.map((t) => t.size), rng.fork('intrinsic'));

  const trainable = leaves.map(([, leaf]) => leaf.trainable);
  for (const [, leaf] of leaves) leaf.trainable = false;
  const intrinsic: Params = { z: variable(tf.zeros([zDim]), 'intrinsic_z') };
  if (config.said) intrinsic.lambda = variable(tf.ones([m]), 'intrinsic_lambda');
  const trainParams: Params = { intrinsic, theta0: params };

  const theta = (p: Params): Params => {
    const own = paramChild(p, 'intrinsic', 'intrinsic');
    const base = paramChild(p, 'theta0', 'intrinsic');
    const offsets = tf.split(projection.project(paramLeaf(own, 'z', 'intrinsic') as tf.Tensor1D), tensors.map((t) => t.size));
    const lambda = config.said ? paramLeaf(own, 'lambda', 'intrinsic') : undefined;
    const values = new Map<string, tf.Tensor>();
    tensors.forEach((t, i) => {
      const theta0 = leafAt(base, t.path);
      let delta = tf.reshape(offsets[i], t.shape);
      if (lambda) delta = tf.mul(delta, tf.reshape(tf.slice(lambda, [i], [1]), []));
      values.set(t.path, tf.add(theta0, delta));
    });
    return treeOf(params, values);
  };

  const trainModel: IntrinsicModule = {
    kind: 'intrinsic',
    base: model,
    projection,
    tensors,
    said: config.said,
    theta,
    init: () => {
      throw new Error('intrinsic: the wrapper has no init of its own; its params come from applyIntrinsic');
    },
    apply: (p: Params, x: tf.Tensor, ctx?: ApplyContext) => model.apply(theta(p), x, ctx),
  };

  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    const values = tf.tidy(() => {
      const tree = theta(trainParams);
      return tensors.map((t) => tf.keep(leafAt(tree, t.path)));
    });
    leaves.forEach(([, leaf], i) => {
      leaf.assign(values[i]);
      leaf.trainable = trainable[i];
    });
    tf.dispose(values);
    for (const leaf of flatten(intrinsic).values()) leaf.dispose();
    projection.dispose();
  };

  return { trainModel, trainParams, counts: { d: config.dim, D, m }, finish };
}

/** The tensor at a dotted path of a tree whose leaves may be any tensor. */
function leafAt(tree: Params, path: string): tf.Tensor {
  const parts = path.split('.');
  let node: Params = tree;
  for (const part of parts.slice(0, -1)) node = paramChild(node, part, 'intrinsic');
  return paramLeaf(node, parts[parts.length - 1], 'intrinsic');
}

/** A tree shaped like `like` with `values` (by dotted path) at its leaves. */
function treeOf(like: Params, values: Map<string, tf.Tensor>, prefix = ''): Params {
  const out: Params = {};
  for (const [key, value] of Object.entries(like)) {
    const path = prefix ? `${prefix}.${key}` : key;
    out[key] = value instanceof tf.Tensor ? (values.get(path) as tf.Variable) : treeOf(value, values, path);
  }
  return out;
}

/** The `intrinsic` whole-model method for `%%adapter` and {@link import('../training-hooks.js').applyWholeModelMethod}. */
export const intrinsicMethod: WholeModelMethod<IntrinsicConfig> = {
  name: 'intrinsic',
  configName: 'IntrinsicConfig',
  description: 'intrinsic dimension (Li et al. 2018): train θ = θ₀ + P·z in a random d-dimensional subspace (dense, sparse or Fastfood P; said: per-tensor scales, Aghajanyan et al. 2020)',
  schema,
  apply({ model, params, config, rng }) {
    const applied = applyIntrinsic(model, params, config, { rng });
    const { d, D, m } = applied.counts;
    const { projection } = applied.trainModel;
    return {
      trainModel: applied.trainModel,
      trainParams: applied.trainParams,
      finish: applied.finish,
      hooks: {
        summary: () => [
          `intrinsic: d = ${d} of D = ${D.toLocaleString('en-US')} parameters (${config.projection} projection${config.said ? `, SAID: ${m} per-tensor scales + ${d - m} subspace coordinates` : ''}, P holds ${(projection.bytes / 2 ** 20).toFixed(1)} MiB); θ₀ + P·z written back into the model`,
        ],
        metrics: () => ({ intrinsicDim: d, parameterCount: D }),
      },
    };
  },
};

registerWholeModelMethod(intrinsicMethod);
