/**
 * RandLoRA: full-rank parameter-efficient fine-tuning from random bases.
 *
 * Paper: Paul Albert, Frederic Z. Zhang, Hemanth Saratchandran, Cristian Rodriguez-Opazo,
 * Anton van den Hengel, Ehsan Abbasnejad (2025), "RandLoRA: Full-rank parameter-efficient
 * fine-tuning of large models", ICLR 2025, arXiv:2502.00987.
 *
 * Two frozen random tensors are shared by every adapted layer (PEFT's names and shapes):
 * `randlora_A` `[r, 1, min_max]` (one r-row basis, reused by every base) and `randlora_B`
 * `[max_max, n_max, r]` (n_max bases), min_max / max_max the smaller / larger of the largest
 * output and input widths among the targets, n_max = ⌈min_max / r⌉. A layer with d = min(in, out),
 * D = max(in, out) uses n = ⌈d / r⌉ bases (so the update has full rank d) and learns only
 * λ `[r, n]` and γ `[n, d]`:
 *
 *   U_A = reshape(λ[:, :, None] ⊙ A[:, :, :d] ⊙ γ[None], [r·n, d]),  U_B = reshape(B[:D, :n, :], [D, n·r])
 *   ΔW = s · U_B·U_A (in ≤ out) or s · (U_B·U_A)ᵀ (in > out),  s = randloraAlpha / r
 *
 * (the flattening orders of U_A and U_B differ, exactly as in PEFT, which pairs the bases the same
 * way). λ starts at 0 (so the model equals the base) and γ at 1/max(n, d); `initWeights: false`
 * draws λ ~ N(0, 1) and sets γ to 1/max(in, out), as PEFT. The bases are uniform (or, with
 * `sparse`, ternary with P(±1) = 1/6 each; with `verySparse`, P(±1) = 1/(2√min_max) each), each
 * tensor divided by its own standard deviation, drawn from HyperLab's generator seeded by
 * `projectionPrngKey`: the same key gives bit-identical bases, so an adapter saved with
 * `saveProjection: false` reloads exactly here (not in PEFT, whose generator differs).
 *
 * Params and saved keys (PEFT 0.21.2's layout, which stores the shared bases once at the root and
 * once per layer): `<layer>.randlora_lambda.<name>`, `<layer>.randlora_gamma.<name>` (trainable);
 * `randlora_A.<name>`, `randlora_B.<name>` at the root and the same two variables again under every
 * layer (frozen aliases, so the tree mirrors PEFT's state dict; they are counted once per alias in
 * a trainable-parameter report's `all`). Trainable count per layer: r·n + n·d. Linear layers only.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../random.js';
import type { Params } from '../params/params.js';
import { variable } from '../params/params.js';
import { linearForward } from '../nn/linear.js';
import { dropout } from '../nn/activations.js';
import { baseFields, configFromPeft, fields, validateConfig, type BaseAdapterConfig, type ConfigSchema, type TargetModules } from './config.js';
import { describeTargets } from './targets.js';
import type { AdapterInstance, AdapterMethod, LayerInfo } from './method.js';
import { assignTo, tensorAt } from './param-paths.js';

/** RandLoRA's configuration (PEFT's `RandLoraConfig`, camelCase). */
export interface RandloraConfig extends BaseAdapterConfig {
  method: 'randlora';
  /** Rank of each random basis (smaller r: more bases, more trainable params). Default 32. */
  r: number;
  /** s = randloraAlpha / r (PEFT suggests 20·r). Default 640. */
  randloraAlpha: number;
  /** Seed of the shared bases. Default 0. */
  projectionPrngKey: number;
  /** Save the shared bases with the adapter. Default true. */
  saveProjection: boolean;
  /** Ternary bases, P(±1) = 1/6 each. Default false. */
  sparse: boolean;
  /** Ternary bases, P(±1) = 1/(2√min_max) each (takes precedence over `sparse`). Default false. */
  verySparse: boolean;
  /** Dropout on the adapter's input (training only). Default 0. */
  randloraDropout: number;
  /** λ = 0 (the base at init) and γ = 1/max(n, d); false: λ ~ N(0, 1), γ = 1/max(in, out). Default true. */
  initWeights: boolean;
  /** Which biases train. Default `'none'`. */
  bias: 'none' | 'all';
  /** Always false (weights are `[out, in]`). */
  fanInFanOut: false;
}

/** What {@link randloraConfig} accepts. */
export type RandloraConfigInput = Partial<Omit<RandloraConfig, 'method' | 'targetModules'>> & { targetModules: TargetModules };

const schema: ConfigSchema = {
  ...baseFields('randlora'),
  r: fields.positiveInt(32),
  randloraAlpha: fields.number(640),
  projectionPrngKey: fields.integer(0),
  saveProjection: fields.boolean(true),
  sparse: fields.boolean(false),
  verySparse: fields.boolean(false),
  randloraDropout: fields.probability(0),
  initWeights: fields.boolean(true),
  bias: fields.oneOf(['none', 'all'], 'none'),
  fanInFanOut: fields.fixed(false, "HyperLab's layers store weights [out, in]"),
};

/** A validated RandLoRA config. */
export function randloraConfig(input: RandloraConfigInput): RandloraConfig {
  return validateConfig<RandloraConfig>('RandLoraConfig', schema, { method: 'randlora', ...input });
}

/** ⌈d / r⌉: how many rank-r bases make a rank-d update. */
export function randloraNumBases(d: number, r: number): number {
  return Math.ceil(d / r);
}

/** λ and γ scalars a layer trains: r·n + n·d. */
export function randloraTrainableCount(layer: Pick<LayerInfo, 'inFeatures' | 'outFeatures'>, r: number): number {
  const d = Math.min(layer.inFeatures, layer.outFeatures);
  const n = randloraNumBases(d, r);
  return r * n + n * d;
}

/**
 * One shared basis tensor: uniform (or ternary, with `sparsity` s: −1 below 1/(2s), +1 above
 * 1 − 1/(2s)), divided by its (unbiased) standard deviation, as PEFT normalises its bases.
 */
function basis(rng: Rng, shape: number[], sparsity: number | undefined): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = rng.fillUniform(new Float32Array(size), sparsity === undefined ? -1 : 0, 1);
  if (sparsity !== undefined) {
    const edge = 1 / (2 * sparsity);
    for (let i = 0; i < size; i++) values[i] = values[i] < edge ? -1 : values[i] > 1 - edge ? 1 : 0;
  }
  let mean = 0;
  for (const v of values) mean += v;
  mean /= size;
  let sq = 0;
  for (const v of values) sq += (v - mean) ** 2;
  const std = Math.sqrt(sq / Math.max(size - 1, 1));
  if (!(std > 0)) throw new Error(`RandLoraConfig: the random basis of shape [${shape.join(', ')}] came out constant; try another projectionPrngKey`);
  for (let i = 0; i < size; i++) values[i] /= std;
  return tf.tensor(values, shape);
}

interface RandloraState {
  [key: string]: unknown;
  /** Bases used (⌈d / r⌉). */
  numBases: number;
  scale: number;
}

/** U_A `[r·n, d]` and U_B `[D, n·r]` of a layer. */
function scaledBases(inst: AdapterInstance<RandloraConfig>, params: Params): { uA: tf.Tensor; uB: tf.Tensor } {
  const { r } = inst.config;
  const n = (inst.state as RandloraState).numBases;
  const d = Math.min(inst.layer.inFeatures, inst.layer.outFeatures);
  const big = Math.max(inst.layer.inFeatures, inst.layer.outFeatures);
  const a = tensorAt(params, `randlora_A.${inst.name}`, 'randlora');
  const b = tensorAt(params, `randlora_B.${inst.name}`, 'randlora');
  const lambda = tensorAt(params, `randlora_lambda.${inst.name}`, 'randlora');
  const gamma = tensorAt(params, `randlora_gamma.${inst.name}`, 'randlora');
  const slicedA = tf.slice(a, [0, 0, 0], [r, 1, d]);
  const uA = tf.reshape(tf.mul(tf.mul(tf.expandDims(lambda, 2), slicedA), tf.expandDims(gamma, 0)), [r * n, d]);
  const uB = tf.reshape(tf.slice(b, [0, 0, 0], [big, n, r]), [big, n * r]);
  return { uA, uB };
}

function randloraDelta(inst: AdapterInstance<RandloraConfig>, params: Params): tf.Tensor {
  return tf.tidy(() => {
    const { uA, uB } = scaledBases(inst, params);
    const m = tf.mul(tf.matMul(uB, uA), (inst.state as RandloraState).scale);
    return inst.layer.inFeatures <= inst.layer.outFeatures ? m : tf.transpose(m);
  });
}

/** The RandLoRA method. */
export const randlora: AdapterMethod<RandloraConfig> = {
  name: 'randlora',
  configName: 'RandLoraConfig',
  description: 'RandLoRA: full-rank updates from shared random low-rank bases (Albert et al. 2025)',
  peftType: 'RANDLORA',
  supportedKinds: ['linear'],
  mergeable: true,
  paramKeys: ['randlora_lambda', 'randlora_gamma', 'randlora_A', 'randlora_B'],
  schema,
  createShared(config, layers, name) {
    const outMax = Math.max(...layers.map((l) => l.outFeatures));
    const inMax = Math.max(...layers.map((l) => l.inFeatures));
    const [minDim, maxDim] = [Math.min(outMax, inMax), Math.max(outMax, inMax)];
    const sparsity = config.verySparse ? Math.sqrt(minDim) : config.sparse ? 3 : undefined;
    const rng = new Rng(config.projectionPrngKey);
    return {
      randlora_A: variable(basis(rng.fork('randlora_A'), [config.r, 1, minDim], sparsity), `randlora_A.${name}`, false),
      randlora_B: variable(basis(rng.fork('randlora_B'), [maxDim, randloraNumBases(minDim, config.r), config.r], sparsity), `randlora_B.${name}`, false),
    };
  },
  init({ layer, config, name, rng, shared }) {
    const d = Math.min(layer.inFeatures, layer.outFeatures);
    const n = randloraNumBases(d, config.r);
    const lambda = config.initWeights ? tf.zeros([config.r, n]) : tf.tensor(rng.fork('randlora_lambda').fillNormal(new Float32Array(config.r * n)), [config.r, n]);
    const gamma = tf.fill([n, d], config.initWeights ? 1 / Math.max(n, d) : 1 / Math.max(layer.inFeatures, layer.outFeatures));
    const state: RandloraState = { numBases: n, scale: config.randloraAlpha / config.r };
    return {
      leaves: {
        [`randlora_lambda.${name}`]: variable(lambda, `${layer.path}.randlora_lambda.${name}`),
        [`randlora_gamma.${name}`]: variable(gamma, `${layer.path}.randlora_gamma.${name}`),
        // PEFT's layers each hold the shared bases; these are the same (frozen) variables.
        [`randlora_A.${name}`]: shared.randlora_A,
        [`randlora_B.${name}`]: shared.randlora_B,
      },
      state,
    };
  },
  transformOutput(inst, params, x, y, _yBase, ctx) {
    return tf.tidy(() => {
      const { uA, uB } = scaledBases(inst, params);
      const xd = dropout(x, inst.config.randloraDropout, ctx);
      const inIsSmall = inst.layer.inFeatures <= inst.layer.outFeatures;
      // in ≤ out: x·U_Aᵀ·U_Bᵀ; in > out: x·U_B·U_A.
      const h = inIsSmall ? linearForward(linearForward(xd, uA), uB) : linearForward(linearForward(xd, tf.transpose(uB)), tf.transpose(uA));
      return tf.add(y, tf.mul(h, (inst.state as RandloraState).scale));
    });
  },
  merge(inst, params) {
    const weight = tensorAt(params, 'weight', 'randlora') as tf.Variable;
    assignTo(weight, () => tf.add(weight, randloraDelta(inst, params)));
  },
  unmerge(inst, params) {
    const weight = tensorAt(params, 'weight', 'randlora') as tf.Variable;
    assignTo(weight, () => tf.sub(weight, randloraDelta(inst, params)));
  },
  omitFromSave: (config, peftKey) => !config.saveProjection && /(^|\.)randlora_[AB]$/.test(peftKey),
  toPeft: (config) => ({
    r: config.r,
    randlora_alpha: config.randloraAlpha,
    projection_prng_key: config.projectionPrngKey,
    save_projection: config.saveProjection,
    sparse: config.sparse,
    very_sparse: config.verySparse,
    randlora_dropout: config.randloraDropout,
    init_weights: config.initWeights,
    bias: config.bias,
    fan_in_fan_out: config.fanInFanOut,
    target_modules: describeTargets(config.targetModules),
    modules_to_save: config.modulesToSave.length ? config.modulesToSave : null,
    layers_to_transform: null,
    layers_pattern: null,
  }),
  fromPeft: (json) =>
    configFromPeft('randlora', json, {
      r: 'r',
      randlora_alpha: 'randloraAlpha',
      projection_prng_key: 'projectionPrngKey',
      save_projection: 'saveProjection',
      sparse: 'sparse',
      very_sparse: 'verySparse',
      randlora_dropout: 'randloraDropout',
      init_weights: 'initWeights',
      bias: 'bias',
      fan_in_fan_out: 'fanInFanOut',
    }),
};
