/**
 * LoRA: low-rank adaptation.
 *
 * Paper: Edward J. Hu, Yelong Shen, Phillip Wallis, Zeyuan Allen-Zhu, Yuanzhi Li, Shean Wang,
 * Lu Wang, Weizhu Chen (2021), "LoRA: Low-Rank Adaptation of Large Language Models",
 * arXiv:2106.09685.
 * rsLoRA scaling: Damjan Kalajdzievski (2023), "A Rank Stabilization Scaling Factor for
 * Fine-Tuning with LoRA", arXiv:2312.03732.
 * PiSSA initialisation: Fanxu Meng, Zhaohui Wang, Muhan Zhang (2024), "PiSSA: Principal Singular
 * Values and Singular Vectors Adaptation of Large Language Models", arXiv:2404.02948.
 * CorDA initialisation (`'corda'`): in `corda.ts`, which registers it with {@link registerLoraInit}.
 *
 * A frozen weight W `[out, in]` gains a trainable update ΔW = s·B·A with A `[r, in]`, B `[out, r]`:
 *
 *   y = base(x) + s · dropout(x)·Aᵀ·Bᵀ,   s = loraAlpha / r   (rsLoRA: loraAlpha / √r)
 *
 * Initialisation (`initLoraWeights`): `true` (default) A ~ kaiming-uniform(a = √5), i.e.
 * U(±1/√in), and B = 0, so the adapted model equals the base exactly; `'gaussian'` A ~ N(0, 1/r²),
 * B = 0; `false` both kaiming-uniform (not an identity at init); `'pissa'` the top-r singular
 * triplets of W: A = diag(√(S_r/s))·V_rᵀ, B = U_r·diag(√(S_r/s)), and W is replaced by the residual
 * W − s·B·A (so the model is unchanged at init up to rounding; the SVD is `svd.ts`); `'corda'` the
 * same from the SVD of W·C, C the layer's input covariance (`corda.ts`; run `preprocessCorda` first).
 *
 * On conv2d (PEFT's LoRA-conv): A is a convolution with r output channels and the base's kernel
 * size, stride, padding and dilation (`[r, in, kh, kw]`), B a 1×1 convolution (`[out, r, 1, 1]`);
 * ΔW = s·reshape(B·reshape(A, [r, in·kh·kw]), [out, in, kh, kw]).
 *
 * Params (PEFT's names): `<layer>.lora_A.<name>.weight`, `<layer>.lora_B.<name>.weight`.
 * Trainable count per linear layer: r·(in + out); per conv2d: r·(in·kh·kw + out).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ApplyContext } from '../nn/module.js';
import type { Params } from '../params/params.js';
import { variable } from '../params/params.js';
import { linearForward } from '../nn/linear.js';
import { conv2d, type Conv2dModule } from '../nn/conv2d.js';
import { initializers } from '../nn/init.js';
import { dropout } from '../nn/activations.js';
import { baseFields, configFromPeft, fields, validateConfig, type BaseAdapterConfig, type ConfigSchema, type TargetModules } from './config.js';
import { describeTargets } from './targets.js';
import type { AdapterInstance, AdapterMethod, InitContext, LayerInfo } from './method.js';
import { assignTo, tensorAt } from './param-paths.js';
import { truncatedSvd } from './svd.js';

/** How LoRA's A and B start (PEFT's `init_lora_weights`). */
export type LoraInit = true | false | 'gaussian' | 'pissa' | 'corda';

/** PEFT's `CordaConfig` (camelCase); its cache and covariance files and float16 option do not apply here. */
export interface LoraCordaConfig {
  /** `'ipm'` adapts the r largest components of W·C, `'kpm'` the r smallest (PEFT's `corda_method`). Default `'ipm'`. */
  cordaMethod?: 'ipm' | 'kpm';
}

/** LoRA's configuration (PEFT's `LoraConfig`, camelCase). */
export interface LoraConfig extends BaseAdapterConfig {
  method: 'lora';
  /** Rank r of the update. Default 8. */
  r: number;
  /** α: the update is scaled by α/r (or α/√r with rsLoRA). Default 8. */
  loraAlpha: number;
  /** Dropout on the adapter's input (training only). Default 0. */
  loraDropout: number;
  /** Scale by α/√r instead of α/r (rsLoRA). Default false. */
  useRslora: boolean;
  /** Initialisation of A and B. Default `true` (Kaiming-uniform A, zero B). */
  initLoraWeights: LoraInit;
  /** Which biases train: none, all the model's, or those of adapted layers. Default `'none'`. */
  bias: 'none' | 'all' | 'lora_only';
  /** Always false: HyperLab's layers store weights `[out, in]` (PyTorch's nn.Linear layout). */
  fanInFanOut: false;
  /** PEFT's flag for DoRA; true turns this into a DoRA adapter (`dora.ts`). Default false. */
  useDora: boolean;
  /** With `initLoraWeights: 'corda'`: which components the adapter takes (PEFT's `corda_config`). */
  cordaConfig?: LoraCordaConfig;
}

/** What {@link loraConfig} accepts: `targetModules` plus any fields to change from the defaults. */
export type LoraConfigInput = Partial<Omit<LoraConfig, 'method' | 'targetModules'>> & { targetModules: TargetModules };

/** The LoRA fields (shared with DoRA). */
export function loraSchema(method: 'lora' | 'dora'): ConfigSchema {
  return {
    ...baseFields(method),
    r: fields.positiveInt(8),
    loraAlpha: fields.number(8),
    loraDropout: fields.probability(0),
    useRslora: fields.boolean(false),
    initLoraWeights: fields.oneOf([true, false, 'gaussian', 'pissa', 'corda'], true),
    bias: fields.oneOf(['none', 'all', 'lora_only'], 'none'),
    fanInFanOut: fields.fixed(false, "HyperLab's layers store weights [out, in]"),
    useDora: method === 'dora' ? fields.fixed(true, 'DoRA') : fields.boolean(false),
    cordaConfig: {
      expected: "an object { cordaMethod: 'ipm' | 'kpm' }",
      check: (v) => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.entries(v).every(([k, x]) => k === 'cordaMethod' && (x === 'ipm' || x === 'kpm')),
      optional: true,
      json: { type: 'object', properties: { cordaMethod: { enum: ['ipm', 'kpm'], default: 'ipm' } }, additionalProperties: false },
    },
  };
}

/** A validated LoRA config (throws with the problems otherwise). */
export function loraConfig(input: LoraConfigInput): LoraConfig {
  return validateConfig<LoraConfig>('LoraConfig', loraSchema('lora'), { method: 'lora', ...input });
}

/** The scaling s of a LoRA/DoRA config. */
export function loraScaling(config: Pick<LoraConfig, 'loraAlpha' | 'r' | 'useRslora'>): number {
  return config.useRslora ? config.loraAlpha / Math.sqrt(config.r) : config.loraAlpha / config.r;
}

/** Throws, naming the layer, when r exceeds what the layer can hold. */
export function checkLoraRank(configName: string, r: number, layer: LayerInfo, initLoraWeights?: LoraInit): void {
  const fanIn = layer.inFeatures * layer.kernelSize[0] * layer.kernelSize[1];
  const limit = Math.min(fanIn, layer.outFeatures);
  if (r > limit) {
    const shape = layer.kind === 'linear' ? `linear ${layer.inFeatures} → ${layer.outFeatures}` : `conv2d ${layer.inFeatures}·${layer.kernelSize.join('×')} → ${layer.outFeatures}`;
    throw new Error(`${configName}.r = ${r} is larger than min(in, out) = ${limit} of layer '${layer.path}' (${shape})`);
  }
  if ((initLoraWeights === 'pissa' || initLoraWeights === 'corda') && layer.kind !== 'linear') {
    throw new Error(`${configName}: initLoraWeights '${initLoraWeights}' supports linear layers only; '${layer.path}' is ${layer.kind}`);
  }
}

/** An initialisation another file provides (CorDA's): A and B for the layer, rewriting its base weight as needed. */
export type LoraInitializer = (ctx: InitContext<LoraConfig>, scale: number) => [tf.Tensor, tf.Tensor];

const loraInitializers = new Map<string, LoraInitializer>();

/** Registers the initialisation `initLoraWeights: name` runs (`corda.ts` registers `'corda'`). */
export function registerLoraInit(name: string, init: LoraInitializer): void {
  loraInitializers.set(name, init);
}

/** State of one LoRA (or DoRA) adapter on one layer. */
interface LoraState {
  [key: string]: unknown;
  scale: number;
  /** For conv2d: the A convolution (r output channels, the base's geometry). */
  convA?: Conv2dModule;
}

/** Creates A and B for a layer (shared by LoRA and DoRA). */
export function initLoraLeaves(ctx: InitContext<LoraConfig>): { leaves: Record<string, tf.Variable>; state: LoraState } {
  const { layer, config, name, rng, params } = ctx;
  const { r } = config;
  const scale = loraScaling(config);
  const [kh, kw] = layer.kernelSize;
  const shapeA = layer.kind === 'linear' ? [r, layer.inFeatures] : [r, layer.inFeatures, kh, kw];
  const shapeB = layer.kind === 'linear' ? [layer.outFeatures, r] : [layer.outFeatures, r, 1, 1];
  let a: tf.Tensor;
  let b: tf.Tensor;
  const init = config.initLoraWeights;
  if (init === 'pissa') {
    [a, b] = pissaInit(tensorAt(params, 'weight', 'lora') as tf.Variable, r, scale);
  } else if (init === 'corda') {
    const registered = loraInitializers.get(init);
    if (!registered) throw new Error("LoraConfig.initLoraWeights 'corda' needs corda.ts loaded (it comes with @hyperlab/core's adapters index)");
    [a, b] = registered(ctx, scale);
  } else {
    a = init === 'gaussian' ? initializers.normal(1 / r)(rng.fork('lora_A'), shapeA) : initializers.torchDefault()(rng.fork('lora_A'), shapeA);
    b = init === false ? initializers.torchDefault()(rng.fork('lora_B'), shapeB) : tf.zeros(shapeB);
  }
  const state: LoraState = { scale };
  if (layer.kind === 'conv2d') {
    const base = layer.module as Conv2dModule;
    state.convA = conv2d({ inChannels: base.inChannels, outChannels: r, kernelSize: base.kernelSize, stride: base.stride, padding: base.padding, dilation: base.dilation, bias: false });
  }
  return {
    leaves: {
      [`lora_A.${name}.weight`]: variable(a, `${layer.path}.lora_A.${name}`),
      [`lora_B.${name}.weight`]: variable(b, `${layer.path}.lora_B.${name}`),
    },
    state,
  };
}

/** PiSSA: A, B from the top-r singular triplets of W, and W ← W − s·B·A. */
function pissaInit(weight: tf.Variable, r: number, scale: number): [tf.Tensor, tf.Tensor] {
  const [out, inF] = weight.shape;
  const { u, s, vt } = truncatedSvd(weight.dataSync(), out, inF, r);
  const a = new Float32Array(r * inF);
  const b = new Float32Array(out * r);
  for (let k = 0; k < r; k++) {
    const root = Math.sqrt(s[k] / scale);
    for (let i = 0; i < inF; i++) a[k * inF + i] = root * vt[k * inF + i];
    for (let o = 0; o < out; o++) b[o * r + k] = u[o * r + k] * root;
  }
  const A = tf.tensor2d(a, [r, inF]);
  const B = tf.tensor2d(b, [out, r]);
  assignTo(weight, () => tf.sub(weight, tf.mul(tf.matMul(B, A), scale)));
  return [A, B];
}

/** A and B of adapter `name` in a layer's params. */
export function loraFactors(params: Params, name: string): { a: tf.Tensor; b: tf.Tensor } {
  return { a: tensorAt(params, `lora_A.${name}.weight`, 'lora'), b: tensorAt(params, `lora_B.${name}.weight`, 'lora') };
}

/** The low-rank branch s·dropout(x)·Aᵀ·Bᵀ (shape of the layer output). */
export function loraBranch(inst: AdapterInstance<LoraConfig>, params: Params, x: tf.Tensor, ctx?: ApplyContext, xDropped?: tf.Tensor): tf.Tensor {
  const { a, b } = loraFactors(params, inst.name);
  const state = inst.state as LoraState;
  return tf.tidy(() => {
    const xd = xDropped ?? dropout(x, inst.config.loraDropout, ctx);
    if (inst.layer.kind === 'linear') return tf.mul(linearForward(linearForward(xd, a), b), state.scale);
    const h = state.convA!.apply({ weight: a } as unknown as Params, xd);
    return tf.mul(linearForward(h, tf.reshape(b, [inst.layer.outFeatures, inst.config.r])), state.scale);
  });
}

/** ΔW = s·B·A in the base weight's layout (`[out, in]` or `[out, in, kh, kw]`). */
export function loraDelta(inst: AdapterInstance<LoraConfig>, params: Params): tf.Tensor {
  const { a, b } = loraFactors(params, inst.name);
  const { r } = inst.config;
  const { outFeatures, inFeatures, kernelSize } = inst.layer;
  return tf.tidy(() => {
    const product = tf.matMul(tf.reshape(b, [outFeatures, r]), tf.reshape(a, [r, -1]));
    const shaped = inst.layer.kind === 'linear' ? product : tf.reshape(product, [outFeatures, inFeatures, ...kernelSize]);
    return tf.mul(shaped, (inst.state as LoraState).scale);
  });
}

/** PEFT `adapter_config.json` fields of a LoRA/DoRA config. */
export function loraToPeft(config: LoraConfig): Record<string, unknown> {
  return {
    r: config.r,
    lora_alpha: config.loraAlpha,
    lora_dropout: config.loraDropout,
    use_rslora: config.useRslora,
    init_lora_weights: config.initLoraWeights,
    bias: config.bias,
    fan_in_fan_out: config.fanInFanOut,
    use_dora: config.useDora,
    ...(config.initLoraWeights === 'corda'
      ? { corda_config: { cache_file: null, covariance_file: null, corda_method: config.cordaConfig?.cordaMethod ?? 'ipm', verbose: false, use_float16_for_covariance: false, prune_temporary_fields: true } }
      : {}),
    target_modules: describeTargets(config.targetModules),
    modules_to_save: config.modulesToSave.length ? config.modulesToSave : null,
    layers_to_transform: null,
    layers_pattern: null,
    rank_pattern: {},
    alpha_pattern: {},
  };
}

/** A LoRA/DoRA config from PEFT's fields (PEFT keys HyperLab does not use are ignored). */
export function loraFromPeft(json: Record<string, unknown>): Record<string, unknown> {
  const corda = json.corda_config as Record<string, unknown> | null | undefined;
  const cordaConfig = json.init_lora_weights === 'corda' && corda && typeof corda.corda_method === 'string' ? { cordaConfig: { cordaMethod: corda.corda_method } } : {};
  return { ...cordaConfig, ...configFromPeft(json.use_dora === true ? 'dora' : 'lora', json, {
    r: 'r',
    lora_alpha: 'loraAlpha',
    lora_dropout: 'loraDropout',
    use_rslora: 'useRslora',
    init_lora_weights: 'initLoraWeights',
    bias: 'bias',
    fan_in_fan_out: 'fanInFanOut',
    use_dora: 'useDora',
  }) };
}

/** The LoRA method. */
export const lora: AdapterMethod<LoraConfig> = {
  name: 'lora',
  configName: 'LoraConfig',
  description: 'LoRA: trainable low-rank updates B·A beside frozen weights (Hu et al. 2021)',
  peftType: 'LORA',
  supportedKinds: ['linear', 'conv2d'],
  mergeable: true,
  paramKeys: ['lora_A', 'lora_B'],
  schema: loraSchema('lora'),
  checkConfig(config) {
    if (config.cordaConfig !== undefined && config.initLoraWeights !== 'corda') throw new Error(`LoraConfig.cordaConfig is set but initLoraWeights is ${JSON.stringify(config.initLoraWeights)}, not 'corda'`);
  },
  checkLayer: (config, layer) => checkLoraRank('LoraConfig', config.r, layer, config.initLoraWeights),
  init: initLoraLeaves,
  transformOutput: (inst, params, x, y, _yBase, ctx) => tf.add(y, loraBranch(inst, params, x, ctx)),
  merge(inst, params) {
    const weight = tensorAt(params, 'weight', 'lora') as tf.Variable;
    assignTo(weight, () => tf.add(weight, loraDelta(inst, params)));
  },
  unmerge(inst, params) {
    const weight = tensorAt(params, 'weight', 'lora') as tf.Variable;
    assignTo(weight, () => tf.sub(weight, loraDelta(inst, params)));
  },
  toPeft: loraToPeft,
  fromPeft: loraFromPeft,
};
