/**
 * FLoRA: low-rank core space for N-dimensional weights (Tucker-form updates).
 *
 * Paper: Chongjie Si, Xuehui Wang, Xue Yang, Zhengqin Xu, Qingyun Li, Jifeng Dai, Yu Qiao,
 * Xiaokang Yang, Wei Shen (2024), "FLoRA: Low-Rank Core Space for N-dimension", arXiv:2405.14739.
 *
 * LoRA flattens a convolution kernel `[out, in, kh, kw]` into a matrix before factoring it, which
 * separates neighbouring kernel taps. FLoRA keeps the weight's N modes and gives the update a
 * Tucker form: a small core G `[r_1, …, r_N]` and one factor U_n `[I_n, r_n]` per mode,
 *
 *   ΔW = s · G ×₁ U₁ ×₂ U₂ ⋯ ×_N U_N,   i.e.  ΔW[i₁…i_N] = s · Σ G[a₁…a_N] · Π_n U_n[i_n, a_n]
 *
 * so the mode-n unfolding of ΔW has rank at most r_n. HyperLab orders the modes as its weights
 * are stored (PyTorch's layout, `nn/conv2d.ts`): a conv2d has N = 4 — out, in, kh, kw — and
 * G `[r_out, r_in, r_kh, r_kw]`; a linear layer has N = 2 and ΔW = s · U_out · G · U_inᵀ, G
 * `[r_out, r_in]` between the two factors.
 *
 * Initialisation, as the authors' code does: G = 0 (so ΔW = 0 and the adapted model equals the
 * base exactly at init) and every factor Kaiming-normal with a = √3 over `[I_n, r_n]`, i.e.
 * N(0, 1/(2·r_n)). The scale s is a plain multiplier (`scale`, default 1, the code's default), not
 * α/r. Dropout (`floraDropout`) acts on the adapter's input.
 *
 * `r` is one integer for every mode or a list per mode (`[r_out, r_in]`, `[r_out, r_in, r_kh, r_kw]`).
 * A single integer is capped at each mode's size (a 3×3 kernel's spatial modes hold rank ≤ 3; more
 * only adds redundant parameters); an explicit list must fit each mode, else an error names the
 * layer. Trainable count per layer: Π r_n + Σ I_n · r_n.
 *
 * Forward: on a linear layer the factors run in turn (x·U_in·Gᵀ·U_outᵀ, never forming ΔW); on a
 * conv2d ΔW is formed (it is kernel-sized) and run as a convolution with the base's stride,
 * padding and dilation, as the authors do. Merge adds ΔW to the weight; unmerge subtracts it.
 *
 * Params (HyperLab's names; PEFT has no FLoRA): `<layer>.flora_core.<name>` = G and
 * `<layer>.flora_out|flora_in|flora_kh|flora_kw.<name>` = U_n, saved as
 * `base_model.model.<layer>.flora_core` etc. with `peft_type: "FLORA"`. Where HyperLab differs
 * from the paper: modes follow the stored weight order (the authors' code orders them in, out,
 * kh, kw and transposes at the end — the same update), and HyperLab covers linear and conv2d
 * layers (the paper also treats conv3d and embeddings, which HyperLab does not have).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ApplyContext } from '../nn/module.js';
import type { Params } from '../params/params.js';
import { variable } from '../params/params.js';
import { conv2d, type Conv2dModule } from '../nn/conv2d.js';
import { initializers } from '../nn/init.js';
import { dropout } from '../nn/activations.js';
import { baseFields, configFromPeft, fields, validateConfig, type BaseAdapterConfig, type ConfigSchema, type FieldSpec, type TargetModules } from './config.js';
import { describeTargets } from './targets.js';
import type { AdapterInstance, AdapterMethod, LayerInfo } from './method.js';
import { assignTo, tensorAt } from './param-paths.js';

/** FLoRA's configuration. */
export interface FloraConfig extends BaseAdapterConfig {
  method: 'flora';
  /** Rank per mode: one integer (capped at each mode's size) or `[r_out, r_in]` / `[r_out, r_in, r_kh, r_kw]`. Default 8. */
  r: number | number[];
  /** The multiplier s of ΔW. Default 1. */
  scale: number;
  /** Dropout on the adapter's input (training only). Default 0. */
  floraDropout: number;
  /** Which biases train: none, all the model's, or those of adapted layers (`'lora_only'`, PEFT's word). Default `'none'`. */
  bias: 'none' | 'all' | 'lora_only';
}

/** What {@link floraConfig} accepts. */
export type FloraConfigInput = Partial<Omit<FloraConfig, 'method' | 'targetModules'>> & { targetModules: TargetModules };

const positiveInts = (v: unknown, length: number): boolean => Array.isArray(v) && v.length === length && v.every((x) => Number.isInteger(x) && x > 0);
const intItems = { type: 'integer', minimum: 1 };

/** `r`: a positive integer, or 2 (linear) or 4 (conv2d) of them. */
const rankField: FieldSpec = {
  expected: 'a positive integer, or a list of 2 (linear: [rOut, rIn]) or 4 (conv2d: [rOut, rIn, rKh, rKw]) positive integers',
  check: (v) => (Number.isInteger(v) && (v as number) > 0) || positiveInts(v, 2) || positiveInts(v, 4),
  default: 8,
  json: {
    anyOf: [intItems, { type: 'array', items: intItems, minItems: 2, maxItems: 2 }, { type: 'array', items: intItems, minItems: 4, maxItems: 4 }],
  },
};

const schema: ConfigSchema = {
  ...baseFields('flora'),
  r: rankField,
  scale: fields.number(1),
  floraDropout: fields.probability(0),
  bias: fields.oneOf(['none', 'all', 'lora_only'], 'none'),
};

/** A validated FLoRA config. */
export function floraConfig(input: FloraConfigInput): FloraConfig {
  return validateConfig<FloraConfig>('FloraConfig', schema, { method: 'flora', ...input });
}

/** The modes of a layer's weight, in stored order, with their sizes. */
export function floraModes(layer: Pick<LayerInfo, 'kind' | 'inFeatures' | 'outFeatures' | 'kernelSize'>): Array<{ key: string; size: number }> {
  const modes = [
    { key: 'flora_out', size: layer.outFeatures },
    { key: 'flora_in', size: layer.inFeatures },
  ];
  if (layer.kind === 'conv2d') modes.push({ key: 'flora_kh', size: layer.kernelSize[0] }, { key: 'flora_kw', size: layer.kernelSize[1] });
  return modes;
}

/** The rank of each mode of `layer` under `r` (a single integer is capped at each mode's size). */
export function floraRanks(r: number | readonly number[], layer: Pick<LayerInfo, 'kind' | 'inFeatures' | 'outFeatures' | 'kernelSize'>): number[] {
  const modes = floraModes(layer);
  return typeof r === 'number' ? modes.map((m) => Math.min(r, m.size)) : [...r];
}

/** Trainable scalars of FLoRA on a layer: Π r_n + Σ I_n · r_n. */
export function floraTrainableCount(r: number | readonly number[], layer: Pick<LayerInfo, 'kind' | 'inFeatures' | 'outFeatures' | 'kernelSize'>): number {
  const ranks = floraRanks(r, layer);
  const modes = floraModes(layer);
  return ranks.reduce((a, b) => a * b, 1) + modes.reduce((sum, m, n) => sum + m.size * ranks[n], 0);
}

function checkLayer(config: FloraConfig, layer: LayerInfo): void {
  if (typeof config.r === 'number') return;
  const modes = floraModes(layer);
  const shape = layer.kind === 'linear' ? `linear ${layer.inFeatures} → ${layer.outFeatures}` : `conv2d ${layer.inFeatures} → ${layer.outFeatures}, kernel ${layer.kernelSize.join('×')}`;
  if (config.r.length !== modes.length) {
    throw new Error(`FloraConfig.r has ${config.r.length} ranks but layer '${layer.path}' (${shape}) has ${modes.length} modes (${modes.map((m) => m.key.slice(6)).join(', ')}); give one integer or ${modes.length} ranks`);
  }
  const over = modes.filter((m, n) => (config.r as number[])[n] > m.size);
  if (over.length) {
    throw new Error(`FloraConfig.r = [${config.r.join(', ')}] exceeds the size of mode ${over.map((m) => `${m.key.slice(6)} (${m.size})`).join(', ')} of layer '${layer.path}' (${shape})`);
  }
}

/** State of one FLoRA adapter on one layer. */
interface FloraState {
  [key: string]: unknown;
  ranks: number[];
  /** For conv2d: a convolution with the base's geometry that runs ΔW. */
  conv?: Conv2dModule;
}

/** `t ×_mode u`: contracts mode `mode` of `t` (size R) with `u` `[I, R]`, giving size I there. */
function modeProduct(t: tf.Tensor, u: tf.Tensor, mode: number): tf.Tensor {
  return tf.tidy(() => {
    const rank = t.rank;
    const perm = [mode, ...Array.from({ length: rank }, (_, i) => i).filter((i) => i !== mode)];
    const moved = tf.transpose(t, perm);
    const rest = moved.shape.slice(1);
    const product = tf.matMul(u, tf.reshape(moved, [moved.shape[0], -1]));
    const back = tf.reshape(product, [u.shape[0], ...rest]);
    const inverse = perm.map((_, i) => perm.indexOf(i));
    return tf.transpose(back, inverse);
  });
}

/** G and the factors of adapter `name` in a layer's params. */
function floraFactors(inst: AdapterInstance<FloraConfig>, params: Params): { core: tf.Tensor; factors: tf.Tensor[] } {
  return {
    core: tensorAt(params, `flora_core.${inst.name}`, 'flora'),
    factors: floraModes(inst.layer).map((m) => tensorAt(params, `${m.key}.${inst.name}`, 'flora')),
  };
}

/** ΔW = s · G ×₁ U₁ ⋯ ×_N U_N in the weight's layout (`[out, in]` or `[out, in, kh, kw]`). */
export function floraDelta(inst: AdapterInstance<FloraConfig>, params: Params): tf.Tensor {
  const { core, factors } = floraFactors(inst, params);
  return tf.tidy(() => tf.mul(factors.reduce((t, u, n) => modeProduct(t, u, n), core), inst.config.scale));
}

/** s · ΔW applied to the (dropped-out) input, in the layer output's shape. */
function floraBranch(inst: AdapterInstance<FloraConfig>, params: Params, x: tf.Tensor, ctx?: ApplyContext): tf.Tensor {
  return tf.tidy(() => {
    const xd = dropout(x, inst.config.floraDropout, ctx);
    if (inst.layer.kind === 'conv2d') return (inst.state as FloraState).conv!.apply({ weight: floraDelta(inst, params) } as unknown as Params, xd);
    const { core, factors } = floraFactors(inst, params);
    const [uOut, uIn] = factors;
    const x2 = tf.reshape(xd, [-1, inst.layer.inFeatures]);
    // x·U_in·Gᵀ·U_outᵀ: each row of x through ΔWᵀ = s·U_in·Gᵀ·U_outᵀ.
    const h = tf.matMul(tf.matMul(tf.matMul(x2, uIn), core, false, true), uOut, false, true);
    return tf.reshape(tf.mul(h, inst.config.scale), [...x.shape.slice(0, -1), inst.layer.outFeatures]);
  });
}

/** W ← W ± ΔW (merge: +1, unmerge: −1). */
function foldDelta(inst: AdapterInstance<FloraConfig>, params: Params, sign: 1 | -1): void {
  const weight = tensorAt(params, 'weight', 'flora') as tf.Variable;
  assignTo(weight, () => tf.add(weight, tf.mul(floraDelta(inst, params), sign)));
}

/** The FLoRA method. */
export const flora: AdapterMethod<FloraConfig> = {
  name: 'flora',
  configName: 'FloraConfig',
  description: 'FLoRA: Tucker-form updates, a small core and one factor per weight mode (Si et al. 2024)',
  peftType: 'FLORA',
  supportedKinds: ['linear', 'conv2d'],
  mergeable: true,
  paramKeys: ['flora_core', 'flora_out', 'flora_in', 'flora_kh', 'flora_kw'],
  schema,
  checkLayer,
  init({ layer, config, name, rng }) {
    const ranks = floraRanks(config.r, layer);
    const leaves: Record<string, tf.Variable> = { [`flora_core.${name}`]: variable(tf.zeros(ranks), `${layer.path}.flora_core.${name}`) };
    const factorInit = initializers.kaimingNormal({ a: Math.sqrt(3), nonlinearity: 'leaky_relu' });
    floraModes(layer).forEach((m, n) => {
      leaves[`${m.key}.${name}`] = variable(factorInit(rng.fork(m.key), [m.size, ranks[n]]), `${layer.path}.${m.key}.${name}`);
    });
    const state: FloraState = { ranks };
    if (layer.kind === 'conv2d') {
      const base = layer.module as Conv2dModule;
      state.conv = conv2d({ inChannels: base.inChannels, outChannels: base.outChannels, kernelSize: base.kernelSize, stride: base.stride, padding: base.padding, dilation: base.dilation, bias: false });
    }
    return { leaves, state };
  },
  transformOutput: (inst, params, x, y, _yBase, ctx) => tf.add(y, floraBranch(inst, params, x, ctx)),
  merge: (inst, params) => foldDelta(inst, params, 1),
  unmerge: (inst, params) => foldDelta(inst, params, -1),
  toPeft: (config) => ({
    r: config.r,
    scale: config.scale,
    flora_dropout: config.floraDropout,
    bias: config.bias,
    target_modules: describeTargets(config.targetModules),
    modules_to_save: config.modulesToSave.length ? config.modulesToSave : null,
  }),
  fromPeft: (json) => configFromPeft('flora', json, { r: 'r', scale: 'scale', flora_dropout: 'floraDropout', bias: 'bias' }),
};
