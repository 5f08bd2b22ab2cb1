/**
 * VeRA: vector-based random matrix adaptation.
 *
 * Paper: Dawid J. Kopiczko, Tijmen Blankevoort, Yuki M. Asano (2024), "VeRA: Vector-based Random
 * Matrix Adaptation", ICLR 2024, arXiv:2310.11454.
 *
 * One pair of frozen random matrices is shared by every adapted layer: A `[r, in_max]` and
 * B `[out_max, r]` (in_max / out_max the largest input / output width among the targets), both
 * kaiming-uniform(a = √5) from a seeded stream (`projectionPrngKey`). Each layer slices them to its
 * size and learns only two scaling vectors, λ_d `[r]` and λ_b `[out]`:
 *
 *   y = base(x) + λ_b ⊙ ( B_s · ( λ_d ⊙ ( A_s · dropout(x) ) ) ),   A_s = A[:, :in], B_s = B[:out, :]
 *
 * λ_b starts at 0 (so the model equals the base at init) and λ_d at `dInitial` (0.1, as PEFT).
 * Merging adds ΔW = diag(λ_b)·B_s·diag(λ_d)·A_s to W.
 *
 * Params (PEFT's names): `<layer>.vera_lambda_b.<name>`, `<layer>.vera_lambda_d.<name>`; shared,
 * frozen: `vera_A.<name>`, `vera_B.<name>` at the root, saved as `base_model.vera_A` /
 * `base_model.vera_B` (with `saveProjection`, the default). Trainable count per layer: r + out.
 * The random values come from HyperLab's generator, not PyTorch's, so a PEFT adapter saved without
 * its projections cannot be reproduced here (save them: `saveProjection: true`). Linear layers only.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../random.js';
import type { Params } from '../params/params.js';
import { variable } from '../params/params.js';
import { linearForward } from '../nn/linear.js';
import { initializers } from '../nn/init.js';
import { dropout } from '../nn/activations.js';
import { baseFields, configFromPeft, fields, validateConfig, type BaseAdapterConfig, type ConfigSchema, type TargetModules } from './config.js';
import { describeTargets } from './targets.js';
import type { AdapterInstance, AdapterMethod } from './method.js';
import { assignTo, tensorAt } from './param-paths.js';

/** VeRA's configuration (PEFT's `VeraConfig`, camelCase). */
export interface VeraConfig extends BaseAdapterConfig {
  method: 'vera';
  /** Rank of the shared projections. Default 256 (PEFT's). */
  r: number;
  /** Seed of the shared projections. Default 0. */
  projectionPrngKey: number;
  /** Save the shared projections with the adapter. Default true. */
  saveProjection: boolean;
  /** Dropout on the adapter's input (training only). Default 0. */
  veraDropout: number;
  /** Initial value of every λ_d. Default 0.1. */
  dInitial: number;
  /** Which biases train. Default `'none'`. */
  bias: 'none' | 'all' | 'vera_only';
  /** Always false (weights are `[out, in]`). */
  fanInFanOut: false;
}

/** What {@link veraConfig} accepts. */
export type VeraConfigInput = Partial<Omit<VeraConfig, 'method' | 'targetModules'>> & { targetModules: TargetModules };

const schema: ConfigSchema = {
  ...baseFields('vera'),
  r: fields.positiveInt(256),
  projectionPrngKey: fields.integer(0),
  saveProjection: fields.boolean(true),
  veraDropout: fields.probability(0),
  dInitial: fields.number(0.1),
  bias: fields.oneOf(['none', 'all', 'vera_only'], 'none'),
  fanInFanOut: fields.fixed(false, "HyperLab's layers store weights [out, in]"),
};

/** A validated VeRA config. */
export function veraConfig(input: VeraConfigInput): VeraConfig {
  return validateConfig<VeraConfig>('VeraConfig', schema, { method: 'vera', ...input });
}

interface VeraState {
  [key: string]: unknown;
  a: tf.Variable;
  b: tf.Variable;
}

function pieces(inst: AdapterInstance<VeraConfig>, params: Params): { aS: tf.Tensor; bS: tf.Tensor; lambdaB: tf.Tensor; lambdaD: tf.Tensor } {
  const { a, b } = inst.state as VeraState;
  const { r } = inst.config;
  return {
    aS: tf.slice(a, [0, 0], [r, inst.layer.inFeatures]),
    bS: tf.slice(b, [0, 0], [inst.layer.outFeatures, r]),
    lambdaB: tensorAt(params, `vera_lambda_b.${inst.name}`, 'vera'),
    lambdaD: tensorAt(params, `vera_lambda_d.${inst.name}`, 'vera'),
  };
}

function veraDelta(inst: AdapterInstance<VeraConfig>, params: Params): tf.Tensor {
  return tf.tidy(() => {
    const { aS, bS, lambdaB, lambdaD } = pieces(inst, params);
    return tf.matMul(tf.mul(bS, tf.expandDims(lambdaB, 1)), tf.mul(aS, tf.expandDims(lambdaD, 1)));
  });
}

/** The VeRA method. */
export const vera: AdapterMethod<VeraConfig> = {
  name: 'vera',
  configName: 'VeraConfig',
  description: 'VeRA: shared frozen random low-rank matrices, trained scaling vectors (Kopiczko et al. 2024)',
  peftType: 'VERA',
  supportedKinds: ['linear'],
  mergeable: true,
  paramKeys: ['vera_lambda_b', 'vera_lambda_d', 'vera_A', 'vera_B'],
  schema,
  createShared(config, layers, name) {
    const inMax = Math.max(...layers.map((l) => l.inFeatures));
    const outMax = Math.max(...layers.map((l) => l.outFeatures));
    const rng = new Rng(config.projectionPrngKey);
    const init = initializers.torchDefault();
    return {
      vera_A: variable(init(rng.fork('vera_A'), [config.r, inMax]), `vera_A.${name}`, false),
      vera_B: variable(init(rng.fork('vera_B'), [outMax, config.r]), `vera_B.${name}`, false),
    };
  },
  init({ layer, config, name, shared }) {
    return {
      leaves: {
        [`vera_lambda_b.${name}`]: variable(tf.zeros([layer.outFeatures]), `${layer.path}.vera_lambda_b.${name}`),
        [`vera_lambda_d.${name}`]: variable(tf.fill([config.r], config.dInitial), `${layer.path}.vera_lambda_d.${name}`),
      },
      state: { a: shared.vera_A, b: shared.vera_B },
    };
  },
  transformOutput(inst, params, x, y, _yBase, ctx) {
    return tf.tidy(() => {
      const { aS, bS, lambdaB, lambdaD } = pieces(inst, params);
      const xd = dropout(x, inst.config.veraDropout, ctx);
      return tf.add(y, tf.mul(lambdaB, linearForward(tf.mul(lambdaD, linearForward(xd, aS)), bS)));
    });
  },
  merge(inst, params) {
    const weight = tensorAt(params, 'weight', 'vera') as tf.Variable;
    assignTo(weight, () => tf.add(weight, veraDelta(inst, params)));
  },
  unmerge(inst, params) {
    const weight = tensorAt(params, 'weight', 'vera') as tf.Variable;
    assignTo(weight, () => tf.sub(weight, veraDelta(inst, params)));
  },
  omitFromSave: (config, peftKey) => !config.saveProjection && (peftKey === 'base_model.vera_A' || peftKey === 'base_model.vera_B'),
  toPeft: (config) => ({
    r: config.r,
    target_modules: describeTargets(config.targetModules),
    projection_prng_key: config.projectionPrngKey,
    save_projection: config.saveProjection,
    vera_dropout: config.veraDropout,
    d_initial: config.dInitial,
    bias: config.bias,
    fan_in_fan_out: config.fanInFanOut,
    modules_to_save: config.modulesToSave.length ? config.modulesToSave : null,
    layers_to_transform: null,
    layers_pattern: null,
  }),
  fromPeft: (json) =>
    configFromPeft('vera', json, {
      r: 'r',
      projection_prng_key: 'projectionPrngKey',
      save_projection: 'saveProjection',
      vera_dropout: 'veraDropout',
      d_initial: 'dInitial',
      bias: 'bias',
      fan_in_fan_out: 'fanInFanOut',
    }),
};
