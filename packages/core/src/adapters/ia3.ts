/**
 * (IA)³: infused adapter by inhibiting and amplifying inner activations.
 *
 * Paper: Haokun Liu, Derek Tam, Mohammed Muqeeth, Jay Mohta, Tenghao Huang, Mohit Bansal, Colin
 * Raffel (2022), "Few-Shot Parameter-Efficient Fine-Tuning is Better and Cheaper than In-Context
 * Learning", NeurIPS 2022, arXiv:2205.05638.
 *
 * A learned vector l rescales a layer's activations element-wise: its output, y = l ⊙ base(x) (the
 * paper's keys and values), or — for layers listed in `feedforwardModules` — its input,
 * y = base(l ⊙ x) (the paper's position-wise feed-forward). l starts at ones, so the model equals
 * the base at init. Merging scales W's rows (output; the bias too) or columns (input). Works on
 * linear and conv2d (per channel).
 *
 * Params (PEFT's name and shapes): `<layer>.ia3_l.<name>`, `[out, 1]` on a linear's output,
 * `[1, in]` on its input, `[1, C, 1, 1]` on conv2d; saved as `…ia3_l`. Trainable count per layer:
 * out (or in).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Params } from '../params/params.js';
import { variable } from '../params/params.js';
import { initializers } from '../nn/init.js';
import { baseFields, configFromPeft, fields, validateConfig, type BaseAdapterConfig, type ConfigSchema, type TargetModules } from './config.js';
import { describeTargets, targetMatcher } from './targets.js';
import type { AdapterInstance, AdapterMethod } from './method.js';
import { assignTo, tensorAt } from './param-paths.js';

/** (IA)³'s configuration (PEFT's `IA3Config`, camelCase). */
export interface Ia3Config extends BaseAdapterConfig {
  method: 'ia3';
  /** Targets whose input (not output) is rescaled; same matching rules, a subset of the targets. Default []. */
  feedforwardModules: string[];
  /** Start l at ones (true, default) or at N(0, 1) (false, as PEFT). */
  initIa3Weights: boolean;
  /** Always false (weights are `[out, in]`). */
  fanInFanOut: false;
}

/** What {@link ia3Config} accepts. */
export type Ia3ConfigInput = Partial<Omit<Ia3Config, 'method' | 'targetModules'>> & { targetModules: TargetModules };

const schema: ConfigSchema = {
  ...baseFields('ia3'),
  feedforwardModules: fields.stringList([]),
  initIa3Weights: fields.boolean(true),
  fanInFanOut: fields.fixed(false, "HyperLab's layers store weights [out, in]"),
};

/** A validated (IA)³ config. */
export function ia3Config(input: Ia3ConfigInput): Ia3Config {
  const config = validateConfig<Ia3Config>('IA3Config', schema, { method: 'ia3', ...input });
  ia3.checkConfig!(config);
  return config;
}

function scaling(inst: AdapterInstance<Ia3Config>, params: Params): tf.Tensor {
  return tensorAt(params, `ia3_l.${inst.name}`, 'ia3');
}

/** l shaped to broadcast against the weight: rows (output) or columns (input). */
function weightFactor(inst: AdapterInstance<Ia3Config>, l: tf.Tensor): tf.Tensor {
  const feedforward = inst.state.feedforward === true;
  const rank = inst.layer.kind === 'linear' ? 2 : 4;
  const shape = new Array<number>(rank).fill(1);
  shape[feedforward ? 1 : 0] = l.size;
  return tf.reshape(l, shape);
}

function rescale(inst: AdapterInstance<Ia3Config>, params: Params, op: 'mul' | 'div'): void {
  const weight = tensorAt(params, 'weight', 'ia3') as tf.Variable;
  const l = scaling(inst, params);
  const apply = op === 'mul' ? tf.mul : tf.div;
  assignTo(weight, () => apply(weight, weightFactor(inst, l)));
  const bias = params.bias as tf.Variable | undefined;
  if (bias !== undefined && inst.state.feedforward !== true) assignTo(bias, () => apply(bias, tf.reshape(l, [-1])));
}

/** The (IA)³ method. */
export const ia3: AdapterMethod<Ia3Config> = {
  name: 'ia3',
  configName: 'IA3Config',
  description: '(IA)³: trained vectors rescaling activations (Liu et al. 2022)',
  peftType: 'IA3',
  supportedKinds: ['linear', 'conv2d'],
  mergeable: true,
  paramKeys: ['ia3_l'],
  schema,
  checkConfig(config) {
    if (config.feedforwardModules.length === 0) return;
    if (Array.isArray(config.targetModules)) {
      const extra = config.feedforwardModules.filter((f) => !(config.targetModules as string[]).includes(f));
      if (extra.length) throw new Error(`IA3Config.feedforwardModules must be a subset of targetModules; not in targetModules: ${extra.join(', ')}`);
    }
  },
  init({ layer, config, name, rng }) {
    const feedforward = config.feedforwardModules.length > 0 && targetMatcher(config.feedforwardModules)(layer.path);
    const size = feedforward ? layer.inFeatures : layer.outFeatures;
    const shape = layer.kind === 'conv2d' ? [1, size, 1, 1] : feedforward ? [1, size] : [size, 1];
    const value = config.initIa3Weights ? tf.ones(shape) : initializers.normal()(rng, shape);
    return { leaves: { [`ia3_l.${name}`]: variable(value, `${layer.path}.ia3_l.${name}`) }, state: { feedforward } };
  },
  transformInput(inst, params, x) {
    if (inst.state.feedforward !== true) return x;
    return tf.mul(x, tf.reshape(scaling(inst, params), [-1]));
  },
  transformOutput(inst, params, _x, y) {
    if (inst.state.feedforward === true) return y;
    return tf.mul(y, tf.reshape(scaling(inst, params), [-1]));
  },
  merge: (inst, params) => rescale(inst, params, 'mul'),
  unmerge: (inst, params) => rescale(inst, params, 'div'),
  toPeft: (config) => ({
    target_modules: describeTargets(config.targetModules),
    feedforward_modules: config.feedforwardModules,
    init_ia3_weights: config.initIa3Weights,
    fan_in_fan_out: config.fanInFanOut,
    modules_to_save: config.modulesToSave.length ? config.modulesToSave : null,
  }),
  fromPeft(json) {
    if (typeof json.feedforward_modules === 'string') throw new Error('IA3Config: feedforward_modules as a regex string is not supported; give a list');
    return configFromPeft('ia3', json, { feedforward_modules: 'feedforwardModules', init_ia3_weights: 'initIa3Weights', fan_in_fan_out: 'fanInFanOut' });
  },
};
