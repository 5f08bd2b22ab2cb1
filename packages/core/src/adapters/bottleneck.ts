/**
 * Bottleneck adapters: a small down-project → non-linearity → up-project network inserted into a
 * frozen model.
 *
 * Papers:
 * - Sequential, after attention and after the feed-forward network: Neil Houlsby, Andrei Giurgiu,
 *   Stanislaw Jastrzebski, Bruna Morrone, Quentin de Laroussilhe, Andrea Gesmundo, Mona Attariyan,
 *   Sylvain Gelly (2019), "Parameter-Efficient Transfer Learning for NLP", arXiv:1902.00751.
 * - Sequential, after the feed-forward network only (the placement found best): Jonas Pfeiffer,
 *   Aishwarya Kamath, Andreas Rücklé, Kyunghyun Cho, Iryna Gurevych (2021), "AdapterFusion:
 *   Non-Destructive Task Composition for Transfer Learning", arXiv:2005.00247.
 * - Parallel to the feed-forward network, with a scaling s: Junxian He, Chunting Zhou, Xuezhe Ma,
 *   Taylor Berg-Kirkpatrick, Graham Neubig (2022), "Towards a Unified View of Parameter-Efficient
 *   Transfer Learning", arXiv:2110.04366.
 *
 * The adapter is f(h) = act(h·W_downᵀ + b_down)·W_upᵀ + b_up, W_down `[m, d]`, W_up `[d, m]`, with
 * m = `bottleneckSize`, or ⌊d / reductionFactor⌋ (at least 1; default reductionFactor 16).
 *
 * On a transformer encoder block (`transformer_encoder_block`, matched by `targetModules`), where
 * a sub-layer's output is the value before its dropout and residual add:
 * - `placement: 'houlsby'`: attention output o ← o + s·f(o) (at `self_attn.out_proj`, the last op
 *   of attention) and feed-forward output y ← y + s·f(y) (at `linear2`): two adapters per block.
 * - `'pfeiffer'`: the feed-forward adapter only (at `linear2`).
 * - `'parallel'`: y ← FFN(u) + s·f(u), u the feed-forward input (the input of `linear1`; the
 *   `linear1` wrapper hands it to the `linear2` wrapper during the same forward).
 * On a linear layer matched directly (an MLP's hidden layers): sequential placements give
 * y ← y + s·f(y) on its output, `'parallel'` gives y ← W·x + b + s·f(x) (f: `in → m → out`).
 * `scaling` s defaults to 1 (the sequential papers have no scaling).
 *
 * Initialisation (`initWeights`): `'zeros'` (default) W_down Kaiming-uniform as PyTorch's Linear
 * (U(±1/√d)), W_up, b_down and b_up zero, so the adapted model equals the base exactly at init (He
 * et al.'s choice); `'bert'` every weight N(0, 0.02²) and biases zero, BERT's initialisation, a
 * near-identity start as Houlsby et al. describe. Houlsby et al. also train the layer norms; list
 * them in `modulesToSave` for that. Bottleneck adapters add a non-linear branch and cannot be merged.
 *
 * Params (HyperLab's names; upstream PEFT has no bottleneck adapters): `<layer>.adapter_down.<name>.weight|bias`,
 * `<layer>.adapter_up.<name>.weight|bias`, `<layer>` being `<block>.self_attn.out_proj` or
 * `<block>.linear2`; saved as `base_model.model.<layer>.adapter_down.weight` (name dropped) with
 * `peft_type: "BOTTLENECK"` (the name LLM-Adapters' PEFT fork uses) and fields `bottleneck_size`,
 * `reduction_factor`, `non_linearity`, `placement`, `scaling`, `init_weights`.
 * Trainable count per adapter: 2·d·m + m + d (parallel on a linear: in·m + m + m·out + out).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../nn/module.js';
import type { Params } from '../params/params.js';
import { variable } from '../params/params.js';
import { linearForward } from '../nn/linear.js';
import { initializers } from '../nn/init.js';
import { getActivation } from '../nn/activations.js';
import { baseFields, configFromPeft, fields, validateConfig, type BaseAdapterConfig, type ConfigSchema, type TargetModules } from './config.js';
import { describeTargets } from './targets.js';
import type { AdapterInstance, AdapterMethod, ExpandedTarget, LayerInfo } from './method.js';
import { tensorAt } from './param-paths.js';

/** Where the adapters go. */
export type BottleneckPlacement = 'houlsby' | 'pfeiffer' | 'parallel';

/** Bottleneck adapter configuration. */
export interface BottleneckConfig extends BaseAdapterConfig {
  method: 'bottleneck';
  /** Bottleneck width m (exclusive with `reductionFactor`). */
  bottleneckSize?: number;
  /** m = ⌊d / reductionFactor⌋ (exclusive with `bottleneckSize`). Default 16 when neither is given. */
  reductionFactor?: number;
  /** The adapter's non-linearity. Default `'relu'`. */
  nonLinearity: 'relu' | 'gelu';
  /** Placement in a transformer block. Default `'houlsby'`. */
  placement: BottleneckPlacement;
  /** Multiplier s of the adapter's output. Default 1. */
  scaling: number;
  /** Initialisation. Default `'zeros'` (up-projection zero: equals the base at init). */
  initWeights: 'bert' | 'zeros';
}

/** What {@link bottleneckConfig} accepts. */
export type BottleneckConfigInput = Partial<Omit<BottleneckConfig, 'method' | 'targetModules'>> & { targetModules: TargetModules };

const schema: ConfigSchema = {
  ...baseFields('bottleneck'),
  bottleneckSize: { ...fields.positiveInt(), optional: true },
  reductionFactor: { expected: 'a positive number', check: (v) => typeof v === 'number' && Number.isFinite(v) && v > 0, optional: true, json: { type: 'number', exclusiveMinimum: 0 } },
  nonLinearity: fields.oneOf(['relu', 'gelu'], 'relu'),
  placement: fields.oneOf(['houlsby', 'pfeiffer', 'parallel'], 'houlsby'),
  scaling: fields.number(1),
  initWeights: fields.oneOf(['bert', 'zeros'], 'zeros'),
};

function checkConfig(config: BottleneckConfig): void {
  if (config.bottleneckSize !== undefined && config.reductionFactor !== undefined) {
    throw new Error(`BottleneckConfig: give bottleneckSize (${config.bottleneckSize}) or reductionFactor (${config.reductionFactor}), not both`);
  }
}

/** A validated bottleneck config. */
export function bottleneckConfig(input: BottleneckConfigInput): BottleneckConfig {
  const config = validateConfig<BottleneckConfig>('BottleneckConfig', schema, { method: 'bottleneck', ...input });
  checkConfig(config);
  return config;
}

/** The bottleneck width for input width d. */
export function bottleneckWidth(config: Pick<BottleneckConfig, 'bottleneckSize' | 'reductionFactor'>, d: number): number {
  return config.bottleneckSize ?? Math.max(1, Math.floor(d / (config.reductionFactor ?? 16)));
}

type Role = 'sequential' | 'parallel' | 'parallel-block' | 'tap';

function roleOf(inst: AdapterInstance<BottleneckConfig>): Role {
  return (inst.layer.role as Role | undefined) ?? (inst.config.placement === 'parallel' ? 'parallel' : 'sequential');
}

/** Input and output widths of the adapter at a layer. */
function widths(config: BottleneckConfig, layer: LayerInfo): { dIn: number; dOut: number } {
  const role = (layer.role as Role | undefined) ?? (config.placement === 'parallel' ? 'parallel' : 'sequential');
  if (role === 'parallel') return { dIn: layer.inFeatures, dOut: layer.outFeatures };
  return { dIn: layer.outFeatures, dOut: layer.outFeatures }; // sequential; parallel-block: u has the block width = linear2's output
}

/** f(h) = act(h·W_downᵀ + b_down)·W_upᵀ + b_up, times s. */
function adapterBranch(inst: AdapterInstance<BottleneckConfig>, params: Params, h: tf.Tensor): tf.Tensor {
  const { name, config } = inst;
  const act = getActivation(config.nonLinearity);
  return tf.tidy(() => {
    const down = linearForward(h, tensorAt(params, `adapter_down.${name}.weight`, 'bottleneck'), tensorAt(params, `adapter_down.${name}.bias`, 'bottleneck'));
    const up = linearForward(act(down), tensorAt(params, `adapter_up.${name}.weight`, 'bottleneck'), tensorAt(params, `adapter_up.${name}.bias`, 'bottleneck'));
    return config.scaling === 1 ? up : tf.mul(up, config.scaling);
  });
}

function bottleneckToPeft(config: BottleneckConfig): Record<string, unknown> {
  return {
    bottleneck_size: config.bottleneckSize ?? null,
    reduction_factor: config.reductionFactor ?? null,
    non_linearity: config.nonLinearity,
    placement: config.placement,
    scaling: config.scaling,
    init_weights: config.initWeights,
    target_modules: describeTargets(config.targetModules),
    modules_to_save: config.modulesToSave.length ? config.modulesToSave : null,
  };
}

function bottleneckFromPeft(json: Record<string, unknown>): Record<string, unknown> {
  return configFromPeft('bottleneck', json, {
    bottleneck_size: 'bottleneckSize',
    reduction_factor: 'reductionFactor',
    non_linearity: 'nonLinearity',
    placement: 'placement',
    scaling: 'scaling',
    init_weights: 'initWeights',
  });
}

/** The bottleneck-adapter method. */
export const bottleneck: AdapterMethod<BottleneckConfig> = {
  name: 'bottleneck',
  configName: 'BottleneckConfig',
  description: 'Bottleneck adapters: small down-up MLPs inserted after layers (Houlsby et al. 2019)',
  peftType: 'BOTTLENECK',
  supportedKinds: ['transformer_encoder_block', 'linear'],
  mergeable: false,
  paramKeys: ['adapter_down', 'adapter_up'],
  schema,
  checkConfig,
  expandTarget(config, module: Module, path: string): ExpandedTarget[] | undefined {
    if (module.kind !== 'transformer_encoder_block') return undefined;
    const at = (rel: string): string => (path === '' ? rel : `${path}.${rel}`);
    if (config.placement === 'houlsby') return [{ path: at('self_attn.out_proj'), role: 'sequential' }, { path: at('linear2'), role: 'sequential' }];
    if (config.placement === 'pfeiffer') return [{ path: at('linear2'), role: 'sequential' }];
    const link: Record<string, unknown> = {};
    return [{ path: at('linear1'), role: 'tap', link }, { path: at('linear2'), role: 'parallel-block', link }];
  },
  init({ layer, config, name, rng }) {
    if (layer.role === 'tap') return { leaves: {} };
    const { dIn, dOut } = widths(config, layer);
    const m = bottleneckWidth(config, dIn);
    const bert = config.initWeights === 'bert';
    const down = bert ? initializers.normal(0.02)(rng.fork('adapter_down'), [m, dIn]) : initializers.torchDefault()(rng.fork('adapter_down'), [m, dIn]);
    const up = bert ? initializers.normal(0.02)(rng.fork('adapter_up'), [dOut, m]) : tf.zeros([dOut, m]);
    return {
      leaves: {
        [`adapter_down.${name}.weight`]: variable(down, `${layer.path}.adapter_down.${name}.weight`),
        [`adapter_down.${name}.bias`]: variable(tf.zeros([m]), `${layer.path}.adapter_down.${name}.bias`),
        [`adapter_up.${name}.weight`]: variable(up, `${layer.path}.adapter_up.${name}.weight`),
        [`adapter_up.${name}.bias`]: variable(tf.zeros([dOut]), `${layer.path}.adapter_up.${name}.bias`),
      },
    };
  },
  transformInput(inst, _params, x) {
    if (roleOf(inst) === 'tap') inst.layer.link![inst.name] = x;
    return x;
  },
  transformOutput(inst, params, x, y) {
    switch (roleOf(inst)) {
      case 'tap':
        return y;
      case 'sequential':
        return tf.add(y, adapterBranch(inst, params, y));
      case 'parallel':
        return tf.add(y, adapterBranch(inst, params, x));
      case 'parallel-block': {
        const link = inst.layer.link!;
        const u = link[inst.name] as tf.Tensor | undefined;
        delete link[inst.name];
        if (!u) throw new Error(`bottleneck adapter '${inst.name}' at '${inst.layer.path}': the parallel adapter needs the feed-forward input, but linear1 did not run first in this forward`);
        return tf.add(y, adapterBranch(inst, params, u));
      }
    }
  },
  toPeft: bottleneckToPeft,
  fromPeft: bottleneckFromPeft,
};
