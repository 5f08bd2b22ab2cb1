/**
 * NOLA: LoRA compressed as linear combinations of random bases.
 *
 * Paper: Soroush Abbasi Koohpayegani, K L Navaneet, Parsa Nooralinejad, Soheil Kolouri,
 * Hamed Pirsiavash (2024), "NOLA: Compressing LoRA using Linear Combination of Random Basis",
 * ICLR 2024, arXiv:2310.02556.
 *
 * LoRA's factors are not trained directly; each is a mixture of k frozen random matrices drawn
 * from a seed, and only the mixing coefficients train:
 *
 *   A = Σᵢ αᵢ·Aᵢ  (Aᵢ `[r, in]`, i < numBasisA),   B = Σⱼ βⱼ·Bⱼ  (Bⱼ `[out, r]`, j < numBasisB)
 *   y = base(x) + s · dropout(x)·Aᵀ·Bᵀ,   s = loraAlpha / r   (LoRA's scaling)
 *
 * so a layer trains numBasisA + numBasisB scalars whatever its size and rank. The bases are
 * uniform, Aᵢ ~ U(±1/√in) and Bⱼ ~ U(±1/√r) (kaiming-uniform(a = √5) per basis, LoRA's A init),
 * from HyperLab's generator seeded by `projectionPrngKey` and the layer's path, so they regenerate
 * bit for bit and need not be saved (`saveProjection: false`, the default: the saved adapter is the
 * coefficients and the seed, NOLA's point). β starts at 0, so the model equals the base at init,
 * and α ~ N(0, 1/numBasisA), which makes A distributed like one basis (LoRA's A). Merging adds
 * ΔW = s·B·A to W.
 *
 * NOLA is not in Hugging Face PEFT; the saved directory keeps PEFT's layout and naming style
 * (`peft_type: "NOLA"`, keys `base_model.model.<path>.nola_alpha`, `….nola_beta`, and with
 * `saveProjection` `….nola_basis_A` `[kA, r, in]`, `….nola_basis_B` `[kB, out, r]`), which only
 * HyperLab reads. Params: the same names under the layer (`0.nola_alpha.default`); the bases are
 * frozen leaves there too. Linear layers only.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../random.js';
import type { Params } from '../params/params.js';
import { variable } from '../params/params.js';
import { linearForward } from '../nn/linear.js';
import { dropout } from '../nn/activations.js';
import { baseFields, configFromPeft, fields, validateConfig, type BaseAdapterConfig, type ConfigSchema, type TargetModules } from './config.js';
import { describeTargets } from './targets.js';
import type { AdapterInstance, AdapterMethod } from './method.js';
import { assignTo, tensorAt } from './param-paths.js';

/** NOLA's configuration (not in PEFT; names in PEFT's style). */
export interface NolaConfig extends BaseAdapterConfig {
  method: 'nola';
  /** Rank of A and B. Default 8. */
  r: number;
  /** k: random bases mixed into A. Default 1024 (the paper's). */
  numBasisA: number;
  /** l: random bases mixed into B. Default 1024. */
  numBasisB: number;
  /** s = loraAlpha / r, LoRA's scaling (α the coefficients are `nola_alpha`). Default 8. */
  loraAlpha: number;
  /** Seed of the bases (each layer draws from it and its path). Default 0. */
  projectionPrngKey: number;
  /** Save the bases too. Default false (they regenerate from the seed). */
  saveProjection: boolean;
  /** Dropout on the adapter's input (training only). Default 0. */
  nolaDropout: number;
  /** Which biases train. Default `'none'`. */
  bias: 'none' | 'all';
  /** Always false (weights are `[out, in]`). */
  fanInFanOut: false;
}

/** What {@link nolaConfig} accepts. */
export type NolaConfigInput = Partial<Omit<NolaConfig, 'method' | 'targetModules'>> & { targetModules: TargetModules };

const schema: ConfigSchema = {
  ...baseFields('nola'),
  r: fields.positiveInt(8),
  numBasisA: fields.positiveInt(1024),
  numBasisB: fields.positiveInt(1024),
  loraAlpha: fields.number(8),
  projectionPrngKey: fields.integer(0),
  saveProjection: fields.boolean(false),
  nolaDropout: fields.probability(0),
  bias: fields.oneOf(['none', 'all'], 'none'),
  fanInFanOut: fields.fixed(false, "HyperLab's layers store weights [out, in]"),
};

/** A validated NOLA config. */
export function nolaConfig(input: NolaConfigInput): NolaConfig {
  return validateConfig<NolaConfig>('NolaConfig', schema, { method: 'nola', ...input });
}

/** `count` frozen random matrices `[rows, cols]` ~ U(±1/√cols), as one `[count, rows, cols]` tensor. */
function bases(rng: Rng, count: number, rows: number, cols: number): tf.Tensor {
  const bound = 1 / Math.sqrt(cols);
  return tf.tensor3d(rng.fillUniform(new Float32Array(count * rows * cols), -bound, bound), [count, rows, cols]);
}

/** A = Σ αᵢAᵢ `[r, in]` and B = Σ βⱼBⱼ `[out, r]` of a layer. */
function mixtures(inst: AdapterInstance<NolaConfig>, params: Params): { a: tf.Tensor; b: tf.Tensor } {
  const { r } = inst.config;
  const { inFeatures, outFeatures } = inst.layer;
  const mix = (coefficients: tf.Tensor, basisSet: tf.Tensor, shape: [number, number]): tf.Tensor =>
    tf.reshape(tf.matMul(tf.expandDims(coefficients, 0), tf.reshape(basisSet, [basisSet.shape[0], -1])), shape);
  return {
    a: mix(tensorAt(params, `nola_alpha.${inst.name}`, 'nola'), tensorAt(params, `nola_basis_A.${inst.name}`, 'nola'), [r, inFeatures]),
    b: mix(tensorAt(params, `nola_beta.${inst.name}`, 'nola'), tensorAt(params, `nola_basis_B.${inst.name}`, 'nola'), [outFeatures, r]),
  };
}

const scaleOf = (config: NolaConfig): number => config.loraAlpha / config.r;

function nolaDelta(inst: AdapterInstance<NolaConfig>, params: Params): tf.Tensor {
  return tf.tidy(() => {
    const { a, b } = mixtures(inst, params);
    return tf.mul(tf.matMul(b, a), scaleOf(inst.config));
  });
}

/** The NOLA method. */
export const nola: AdapterMethod<NolaConfig> = {
  name: 'nola',
  configName: 'NolaConfig',
  description: 'NOLA: LoRA factors as trained mixtures of seeded random bases (Koohpayegani et al. 2024)',
  peftType: 'NOLA',
  supportedKinds: ['linear'],
  mergeable: true,
  paramKeys: ['nola_alpha', 'nola_beta', 'nola_basis_A', 'nola_basis_B'],
  schema,
  init({ layer, config, name, rng }) {
    const { r, numBasisA, numBasisB } = config;
    const seeded = new Rng(config.projectionPrngKey).fork(`nola:${layer.path}`);
    const alpha = rng.fork('nola_alpha').fillNormal(new Float32Array(numBasisA), 0, 1 / Math.sqrt(numBasisA));
    return {
      leaves: {
        [`nola_alpha.${name}`]: variable(tf.tensor1d(alpha), `${layer.path}.nola_alpha.${name}`),
        [`nola_beta.${name}`]: variable(tf.zeros([numBasisB]), `${layer.path}.nola_beta.${name}`),
        [`nola_basis_A.${name}`]: variable(bases(seeded.fork('A'), numBasisA, r, layer.inFeatures), `${layer.path}.nola_basis_A.${name}`, false),
        [`nola_basis_B.${name}`]: variable(bases(seeded.fork('B'), numBasisB, layer.outFeatures, r), `${layer.path}.nola_basis_B.${name}`, false),
      },
    };
  },
  transformOutput(inst, params, x, y, _yBase, ctx) {
    return tf.tidy(() => {
      const { a, b } = mixtures(inst, params);
      const xd = dropout(x, inst.config.nolaDropout, ctx);
      return tf.add(y, tf.mul(linearForward(linearForward(xd, a), b), scaleOf(inst.config)));
    });
  },
  merge(inst, params) {
    const weight = tensorAt(params, 'weight', 'nola') as tf.Variable;
    assignTo(weight, () => tf.add(weight, nolaDelta(inst, params)));
  },
  unmerge(inst, params) {
    const weight = tensorAt(params, 'weight', 'nola') as tf.Variable;
    assignTo(weight, () => tf.sub(weight, nolaDelta(inst, params)));
  },
  omitFromSave: (config, peftKey) => !config.saveProjection && /\.nola_basis_[AB]$/.test(peftKey),
  toPeft: (config) => ({
    r: config.r,
    num_basis_A: config.numBasisA,
    num_basis_B: config.numBasisB,
    lora_alpha: config.loraAlpha,
    projection_prng_key: config.projectionPrngKey,
    save_projection: config.saveProjection,
    nola_dropout: config.nolaDropout,
    bias: config.bias,
    fan_in_fan_out: config.fanInFanOut,
    target_modules: describeTargets(config.targetModules),
    modules_to_save: config.modulesToSave.length ? config.modulesToSave : null,
  }),
  fromPeft: (json) =>
    configFromPeft('nola', json, {
      r: 'r',
      num_basis_A: 'numBasisA',
      num_basis_B: 'numBasisB',
      lora_alpha: 'loraAlpha',
      projection_prng_key: 'projectionPrngKey',
      save_projection: 'saveProjection',
      nola_dropout: 'nolaDropout',
      bias: 'bias',
      fan_in_fan_out: 'fanInFanOut',
    }),
};
