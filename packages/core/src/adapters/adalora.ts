/**
 * AdaLoRA: adaptive budget allocation for parameter-efficient fine-tuning.
 *
 * Paper: Qingru Zhang, Minshuo Chen, Alexander Bukharin, Nikos Karampatziakis, Pengcheng He,
 * Yu Cheng, Weizhu Chen, Tuo Zhao (2023), "AdaLoRA: Adaptive Budget Allocation for
 * Parameter-Efficient Fine-Tuning", ICLR 2023, arXiv:2303.10512.
 *
 * Each adapted layer gains an SVD-shaped update ΔW = P·Λ·Q, stored as PEFT stores it:
 * `lora_A` = Q `[r, in]`, `lora_E` = the singular values Λ `[r, 1]`, `lora_B` = P `[out, r]`:
 *
 *   y = base(x) + dropout(x)·(A ⊙ E)ᵀ·Bᵀ · s / (ranknum + 1e-5),   s = loraAlpha (r when loraAlpha ≤ 0)
 *
 * with ranknum = initR (a constant, not saved; PEFT keeps it at initR even after pruning). E starts
 * at 0 and A, B ~ N(0, 0.02²), so the model equals the base at init (`initLoraWeights: false`:
 * all three ~ N(0, 1), as PEFT).
 *
 * Training (PEFT's `RankAllocator`): after every optimizer step call
 * {@link AdaloraAllocator.updateAndAllocate}`(globalStep)` (or pass the allocator's `afterStep` to
 * `train()`), which
 * 1. smooths each entry's sensitivity I = |θ·∇θ| by an EMA (`beta1`) and its uncertainty
 *    U = |I − Ī| by another (`beta2`), while globalStep < totalStep − tfinal;
 * 2. scores triplet i of a layer as S(E_i) + mean_j S(A_ij) + mean_k S(B_ki), S = Ī·Ū;
 * 3. follows the cubic budget b(t) = initR·n for t ≤ tinit, targetR·n for t > totalStep − tfinal,
 *    and ⌊(initR·n − targetR·n)·(1 − (t − tinit)/(totalStep − tfinal − tinit))³ + targetR·n⌋ between
 *    (n the number of adapted layers; {@link adaloraBudget});
 * 4. every `deltaT` steps in between (and once, forced, at totalStep − tfinal) zeroes E at the
 *    triplets scoring at or below the (initR·n − b)-th smallest score over all layers; after that
 *    the final mask is re-applied every step.
 * The orthogonality regulariser {@link adaloraPenalty} — PEFT's
 * orthRegWeight · mean over the A and B matrices of ‖AAᵀ − I‖_F and ‖BᵀB − I‖_F (the paper writes the
 * squared norms; PEFT, followed here, averages the plain ones) — is the allocator's `penalty`.
 * The EMAs, triplet scores and regulariser are `rank-importance.ts`, shared with IncreLoRA.
 *
 * Merging adds ΔW to W; it is refused while an allocator is still pruning (before the ranks are
 * final at totalStep − tfinal). Saved layout (PEFT's): `base_model.model.<path>.lora_A`,
 * `….lora_E`, `….lora_B` (no `.weight`). A PEFT adapter saved after pruning carries `rank_pattern`
 * (`{'0.lora_E': [true, false, …]}`) and tensors cut to the kept triplets; loading one here creates
 * layers of those ranks (ranknum still initR). HyperLab saves its tensors uncut (pruned triplets have
 * E = 0) with the config's `rankPattern`, which is the same forward in PEFT.
 * On conv2d (PEFT's `SVDConv2d`): `lora_A` is `[r, in·kh·kw]` and ΔW, reshaped to the base's
 * `[out, in, kh, kw]`, runs as a convolution with the base's geometry.
 * Trainable count per layer: r·(in·kh·kw + out + 1).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../nn/module.js';
import { findModules } from '../nn/module.js';
import type { Params } from '../params/params.js';
import { variable } from '../params/params.js';
import { linearForward } from '../nn/linear.js';
import { conv2d, type Conv2dModule } from '../nn/conv2d.js';
import { initializers } from '../nn/init.js';
import { dropout } from '../nn/activations.js';
import type { PenaltyContext, GradientContext } from '../train/loop.js';
import { baseFields, configFromPeft, fields, validateConfig, type BaseAdapterConfig, type ConfigSchema, type FieldSpec, type TargetModules } from './config.js';
import { describeTargets } from './targets.js';
import type { AdapterInstance, AdapterMethod, LayerInfo } from './method.js';
import { isAdapterLayer } from './layer.js';
import { getAdapter } from './framework.js';
import { assignTo, subtree, tensorAt } from './param-paths.js';
import { gradientsByVariable, orthogonalPenalty, sensitivityEma, tripletScores } from './rank-importance.js';

/** Which triplets of each layer are kept, by `<layer path>.lora_E` (PEFT's `rank_pattern`). */
export type AdaloraRankPattern = Record<string, boolean[]>;

/** AdaLoRA's configuration (PEFT's `AdaLoraConfig`, camelCase). */
export interface AdaloraConfig extends BaseAdapterConfig {
  method: 'adalora';
  /** Initial rank of every layer. Default 12. */
  initR: number;
  /** Average rank per layer once the budget schedule ends. Default 8. */
  targetR: number;
  /** Warm-up steps before any pruning. Default 0. */
  tinit: number;
  /** Final steps at fixed ranks. Default 0. */
  tfinal: number;
  /** Steps between two allocations. Default 1. */
  deltaT: number;
  /** EMA coefficient of the sensitivity. Default 0.85. */
  beta1: number;
  /** EMA coefficient of the uncertainty. Default 0.85. */
  beta2: number;
  /** Weight of the orthogonality regulariser. Default 0.5. */
  orthRegWeight: number;
  /** Total training steps (required: the schedule ends at totalStep − tfinal). */
  totalStep: number;
  /** Kept triplets per layer of an adapter saved after pruning (its layers have those ranks). Optional. */
  rankPattern?: AdaloraRankPattern;
  /** s in ΔW·s/ranknum. Default 8 (PEFT's). */
  loraAlpha: number;
  /** Dropout on the adapter's input (training only). Default 0. */
  loraDropout: number;
  /** true: E = 0, A, B ~ N(0, 0.02²) (the base at init); false: all ~ N(0, 1). Default true. */
  initLoraWeights: boolean;
  /** Which biases train. Default `'none'`. */
  bias: 'none' | 'all' | 'lora_only';
  /** Always false (weights are `[out, in]`). */
  fanInFanOut: false;
}

/** What {@link adaloraConfig} accepts. */
export type AdaloraConfigInput = Partial<Omit<AdaloraConfig, 'method' | 'targetModules' | 'totalStep'>> & { targetModules: TargetModules; totalStep: number };

const rankPatternField: FieldSpec = {
  expected: 'a mapping of layer keys (`0.lora_E`) to arrays of booleans',
  check: (v) => v !== null && typeof v === 'object' && !Array.isArray(v) && Object.values(v as object).every((m) => Array.isArray(m) && m.every((b) => typeof b === 'boolean')),
  optional: true,
  json: { type: 'object', additionalProperties: { type: 'array', items: { type: 'boolean' } } },
};

const beta: FieldSpec = { expected: 'a number in (0, 1)', check: (v) => typeof v === 'number' && v > 0 && v < 1, json: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 } };

const schema: ConfigSchema = {
  ...baseFields('adalora'),
  initR: fields.positiveInt(12),
  targetR: fields.positiveInt(8),
  tinit: { ...fields.integer(0), expected: 'an integer ≥ 0', check: (v) => Number.isInteger(v) && (v as number) >= 0, json: { type: 'integer', minimum: 0 } },
  tfinal: { ...fields.integer(0), expected: 'an integer ≥ 0', check: (v) => Number.isInteger(v) && (v as number) >= 0, json: { type: 'integer', minimum: 0 } },
  deltaT: fields.positiveInt(1),
  beta1: { ...beta, default: 0.85 },
  beta2: { ...beta, default: 0.85 },
  orthRegWeight: { ...fields.number(0.5), expected: 'a number ≥ 0', check: (v) => typeof v === 'number' && Number.isFinite(v) && v >= 0, json: { type: 'number', minimum: 0 } },
  totalStep: fields.positiveInt(),
  rankPattern: rankPatternField,
  loraAlpha: fields.number(8),
  loraDropout: fields.probability(0),
  initLoraWeights: fields.boolean(true),
  bias: fields.oneOf(['none', 'all', 'lora_only'], 'none'),
  fanInFanOut: fields.fixed(false, "HyperLab's layers store weights [out, in]"),
};

function checkAdaloraConfig(config: AdaloraConfig): void {
  if (config.tinit >= config.totalStep - config.tfinal) {
    throw new Error(`AdaLoraConfig: tinit (${config.tinit}) must be below totalStep − tfinal (${config.totalStep} − ${config.tfinal}): the schedule leaves no budgeting phase`);
  }
  if (config.targetR > config.initR) throw new Error(`AdaLoraConfig.targetR (${config.targetR}) must not exceed initR (${config.initR})`);
}

/** A validated AdaLoRA config. */
export function adaloraConfig(input: AdaloraConfigInput): AdaloraConfig {
  const config = validateConfig<AdaloraConfig>('AdaLoraConfig', schema, { method: 'adalora', ...input });
  checkAdaloraConfig(config);
  return config;
}

interface AdaloraState {
  [key: string]: unknown;
  /** This layer's rank (initR, or the kept count of a loaded rank pattern). */
  rank: number;
  /** s / (ranknum + 1e-5), rounded to float32 as PyTorch does. */
  scale: number;
  /** The allocator training this adapter, while there is one. */
  allocator?: AdaloraAllocator;
  /** For conv2d: a bias-free convolution with the base's geometry, run with ΔW. */
  conv?: Conv2dModule;
}

function layerRank(config: AdaloraConfig, layer: LayerInfo): number {
  const mask = config.rankPattern?.[`${layer.path}.lora_E`];
  if (!mask) return config.initR;
  if (mask.length !== config.initR) throw new Error(`AdaLoraConfig.rankPattern['${layer.path}.lora_E'] has ${mask.length} entries; initR is ${config.initR}`);
  return mask.filter(Boolean).length;
}

function factors(inst: AdapterInstance<AdaloraConfig>, params: Params): { a: tf.Tensor; e: tf.Tensor; b: tf.Tensor } {
  return {
    a: tensorAt(params, `lora_A.${inst.name}`, 'adalora'),
    e: tensorAt(params, `lora_E.${inst.name}`, 'adalora'),
    b: tensorAt(params, `lora_B.${inst.name}`, 'adalora'),
  };
}

/** ΔW = B·(A ⊙ E)·s/(ranknum + 1e-5) in the base weight's layout (`[out, in]` or `[out, in, kh, kw]`). */
function adaloraDelta(inst: AdapterInstance<AdaloraConfig>, params: Params): tf.Tensor {
  return tf.tidy(() => {
    const { a, e, b } = factors(inst, params);
    const delta = tf.mul(tf.matMul(b, tf.mul(a, e)), (inst.state as AdaloraState).scale);
    const { kind, outFeatures, inFeatures, kernelSize } = inst.layer;
    return kind === 'linear' ? delta : tf.reshape(delta, [outFeatures, inFeatures, ...kernelSize]);
  });
}

function checkNotPruning(inst: AdapterInstance<AdaloraConfig>, caller: string): void {
  const allocator = (inst.state as AdaloraState).allocator;
  if (allocator?.pruning) {
    const end = inst.config.totalStep - inst.config.tfinal;
    throw new Error(
      `${caller}: AdaLoRA adapter '${inst.name}' cannot be merged while its budget schedule is still pruning ` +
        `(last step ${allocator.lastStep ?? 'none'}; the ranks are final at step totalStep − tfinal = ${end}); ` +
        'train to the end of the schedule or dispose() the allocator first',
    );
  }
}

/** The AdaLoRA method. */
export const adalora: AdapterMethod<AdaloraConfig> = {
  name: 'adalora',
  configName: 'AdaLoraConfig',
  description: 'AdaLoRA: SVD-form LoRA whose ranks are pruned by importance while training (Zhang et al. 2023)',
  peftType: 'ADALORA',
  supportedKinds: ['linear', 'conv2d'],
  mergeable: true,
  paramKeys: ['lora_A', 'lora_E', 'lora_B'],
  schema,
  checkConfig: checkAdaloraConfig,
  checkLayer: (config, layer) => void layerRank(config, layer),
  init({ layer, config, name, rng }) {
    const r = layerRank(config, layer);
    const std = config.initLoraWeights ? 0.02 : 1;
    const fanIn = layer.inFeatures * layer.kernelSize[0] * layer.kernelSize[1];
    const a = initializers.normal(std)(rng.fork('lora_A'), [r, fanIn]);
    const b = initializers.normal(std)(rng.fork('lora_B'), [layer.outFeatures, r]);
    const e = config.initLoraWeights ? tf.zeros([r, 1]) : initializers.normal(1)(rng.fork('lora_E'), [r, 1]);
    const s = config.loraAlpha > 0 ? config.loraAlpha : config.initR;
    const state: AdaloraState = { rank: r, scale: Math.fround(s / Math.fround(config.initR + 1e-5)) };
    if (layer.kind === 'conv2d') {
      const base = layer.module as Conv2dModule;
      state.conv = conv2d({ inChannels: base.inChannels, outChannels: base.outChannels, kernelSize: base.kernelSize, stride: base.stride, padding: base.padding, dilation: base.dilation, bias: false });
    }
    return {
      leaves: {
        [`lora_A.${name}`]: variable(a, `${layer.path}.lora_A.${name}`),
        [`lora_E.${name}`]: variable(e, `${layer.path}.lora_E.${name}`),
        [`lora_B.${name}`]: variable(b, `${layer.path}.lora_B.${name}`),
      },
      state,
    };
  },
  transformOutput(inst, params, x, y, _yBase, ctx) {
    if ((inst.state as AdaloraState).rank === 0) return y;
    return tf.tidy(() => {
      const xd = dropout(x, inst.config.loraDropout, ctx);
      const { conv } = inst.state as AdaloraState;
      if (conv) return tf.add(y, conv.apply({ weight: adaloraDelta(inst, params) } as unknown as Params, xd));
      const { a, e, b } = factors(inst, params);
      return tf.add(y, tf.mul(linearForward(linearForward(xd, tf.mul(a, e)), b), (inst.state as AdaloraState).scale));
    });
  },
  merge(inst, params) {
    checkNotPruning(inst, 'merge');
    const weight = tensorAt(params, 'weight', 'adalora') as tf.Variable;
    assignTo(weight, () => tf.add(weight, adaloraDelta(inst, params)));
  },
  unmerge(inst, params) {
    const weight = tensorAt(params, 'weight', 'adalora') as tf.Variable;
    assignTo(weight, () => tf.sub(weight, adaloraDelta(inst, params)));
  },
  toPeft: (config) => ({
    init_r: config.initR,
    target_r: config.targetR,
    tinit: config.tinit,
    tfinal: config.tfinal,
    deltaT: config.deltaT,
    beta1: config.beta1,
    beta2: config.beta2,
    orth_reg_weight: config.orthRegWeight,
    total_step: config.totalStep,
    rank_pattern: config.rankPattern ?? null,
    lora_alpha: config.loraAlpha,
    lora_dropout: config.loraDropout,
    init_lora_weights: config.initLoraWeights,
    bias: config.bias,
    fan_in_fan_out: config.fanInFanOut,
    use_dora: false,
    target_modules: describeTargets(config.targetModules),
    modules_to_save: config.modulesToSave.length ? config.modulesToSave : null,
    layers_to_transform: null,
    layers_pattern: null,
  }),
  fromPeft: (json) =>
    configFromPeft('adalora', json, {
      init_r: 'initR',
      target_r: 'targetR',
      tinit: 'tinit',
      tfinal: 'tfinal',
      deltaT: 'deltaT',
      beta1: 'beta1',
      beta2: 'beta2',
      orth_reg_weight: 'orthRegWeight',
      total_step: 'totalStep',
      rank_pattern: 'rankPattern',
      lora_alpha: 'loraAlpha',
      lora_dropout: 'loraDropout',
      init_lora_weights: 'initLoraWeights',
      bias: 'bias',
      fan_in_fan_out: 'fanInFanOut',
    }),
  // PEFT's update_and_allocate after every step and the orthogonal regulariser in the loss.
  trainingHooks({ model, adapterName }) {
    const allocator = adaloraAllocator(model, adapterName);
    return {
      afterStep: (ctx) => allocator.afterStep(ctx),
      penalty: (ctx) => allocator.penalty(ctx),
      summary: () => {
        const pattern = allocator.rankPattern;
        if (!pattern) return [];
        const kept = Object.entries(pattern).map(([layer, mask]) => `${layer}: ${mask.filter(Boolean).length}`).join(', ');
        return [`AdaLoRA ranks after pruning (budget ${allocator.targetBudget} of ${allocator.initBudget}): ${kept}`];
      },
      metrics: (): Record<string, number> => (allocator.rankPattern ? { keptRank: Object.values(allocator.rankPattern).reduce((n, mask) => n + mask.filter(Boolean).length, 0) } : {}),
      dispose: () => allocator.dispose(),
    };
  },
};

/**
 * The budget (total kept triplets) at `step` and whether to mask then (PEFT's `budget_schedule`):
 * `initBudget` up to tinit, `targetBudget` after totalStep − tfinal, the cubic decrease between
 * (masking every deltaT steps).
 */
export function adaloraBudget(config: Pick<AdaloraConfig, 'tinit' | 'tfinal' | 'totalStep' | 'deltaT'>, initBudget: number, targetBudget: number, step: number): { budget: number; mask: boolean } {
  const { tinit, tfinal, totalStep, deltaT } = config;
  if (step <= tinit) return { budget: initBudget, mask: false };
  if (step > totalStep - tfinal) return { budget: targetBudget, mask: true };
  const remaining = 1 - (step - tinit) / (totalStep - tfinal - tinit);
  return { budget: Math.trunc((initBudget - targetBudget) * remaining ** 3 + targetBudget), mask: step % deltaT === 0 };
}

interface AllocatedLayer {
  path: string;
  inst: AdapterInstance<AdaloraConfig>;
  a: tf.Variable;
  e: tf.Variable;
  b: tf.Variable;
}

/** Rank allocation for one AdaLoRA adapter (PEFT's `RankAllocator` and `update_and_allocate`). */
export interface AdaloraAllocator {
  /** Σ of the layers' initial ranks (initR·n without a loaded rank pattern). */
  readonly initBudget: number;
  /** targetR·n. */
  readonly targetBudget: number;
  /** True from the first update until the ranks are final (step totalStep − tfinal). */
  readonly pruning: boolean;
  /** The last step given to {@link updateAndAllocate}. */
  readonly lastStep: number | undefined;
  /** The kept triplets after the latest allocation (undefined before any). */
  readonly rankPattern: AdaloraRankPattern | undefined;
  /**
   * PEFT's `update_and_allocate(global_step)`: call after each optimizer step with the gradients
   * that step used (by variable). Returns the budget and, when it masked, the rank pattern.
   */
  updateAndAllocate(globalStep: number, grads: ReadonlyMap<tf.Variable, tf.Tensor | null | undefined>): { budget: number; rankPattern?: AdaloraRankPattern };
  /** A `train()` `afterStep` hook: `updateAndAllocate(ctx.step, ctx's gradients)`. */
  afterStep(ctx: GradientContext): void;
  /** A `train()` `penalty` hook: {@link adaloraPenalty} on the context's params. */
  penalty(ctx: PenaltyContext): tf.Scalar;
  /** Frees the EMAs and lets the adapter merge again. */
  dispose(): void;
}

function allocatedLayers(model: Module, name: string): AllocatedLayer[] {
  const record = getAdapter(model, name);
  if (record.method.name !== 'adalora') throw new Error(`adaloraAllocator: adapter '${name}' is ${record.method.configName}, not AdaLoraConfig`);
  const leaf = (path: string): tf.Variable => record.leaves.find((l) => l.path === path)!.variable;
  const out: AllocatedLayer[] = [];
  for (const { module, path } of findModules(model)) {
    if (!isAdapterLayer(module)) continue;
    const inst = module.adapters.get(name) as AdapterInstance<AdaloraConfig> | undefined;
    if (!inst) continue;
    out.push({ path, inst, a: leaf(`${path}.lora_A.${name}`), e: leaf(`${path}.lora_E.${name}`), b: leaf(`${path}.lora_B.${name}`) });
  }
  return out;
}

/**
 * The orthogonality regulariser of adapter `name` on `params` (differentiable):
 * orthRegWeight · mean over every layer's A and B of ‖AAᵀ − I‖_F and ‖BᵀB − I‖_F (PEFT's form).
 */
export function adaloraPenalty(model: Module, params: Params, name = 'default'): tf.Scalar {
  const record = getAdapter(model, name);
  const weight = (record.config as unknown as AdaloraConfig).orthRegWeight;
  const layers = record.layers.map((path) => {
    const layer = subtree(params, path);
    return { a: tensorAt(layer, `lora_A.${name}`, 'adalora'), b: tensorAt(layer, `lora_B.${name}`, 'adalora') };
  });
  return orthogonalPenalty(layers, weight);
}

/**
 * A rank allocator for AdaLoRA adapter `name` of `model` (one per adapter being trained). With
 * `train()`: `train({ …, afterStep: allocator.afterStep, penalty: allocator.penalty })`.
 */
export function adaloraAllocator(model: Module, name = 'default'): AdaloraAllocator {
  const layers = allocatedLayers(model, name);
  const config = layers[0].inst.config;
  const initBudget = layers.reduce((sum, l) => sum + l.a.shape[0], 0);
  const targetBudget = config.targetR * layers.length;
  const end = config.totalStep - config.tfinal;
  const importance = sensitivityEma(config.beta1, config.beta2);
  let lastStep: number | undefined;
  let rankPattern: AdaloraRankPattern | undefined;
  let done = false;

  const updateImportance = (grads: ReadonlyMap<tf.Variable, tf.Tensor | null | undefined>): void => importance.update(layers.flatMap((l) => [l.a, l.e, l.b]), grads);

  const maskToBudget = (budget: number): AdaloraRankPattern => {
    const scores = layers.map((l) => tripletScores(importance, l.a, l.e, l.b));
    const k = initBudget - budget;
    const threshold = k > 0 ? Float32Array.from(scores.flatMap((s) => Array.from(s))).sort()[k - 1] : -Infinity;
    const pattern: AdaloraRankPattern = {};
    layers.forEach((l, i) => {
      const keep = Array.from(scores[i], (s) => !(s <= threshold));
      pattern[`${l.path}.lora_E`] = keep;
      applyMask(l, keep);
    });
    return pattern;
  };

  const applyMask = (l: AllocatedLayer, keep: boolean[]): void => {
    if (keep.length === 0) return;
    assignTo(l.e, () => tf.mul(l.e, tf.tensor2d(keep.map(Number), [keep.length, 1])));
  };

  const allocator: AdaloraAllocator = {
    initBudget,
    targetBudget,
    get pruning() {
      return lastStep !== undefined && !done;
    },
    get lastStep() {
      return lastStep;
    },
    get rankPattern() {
      return rankPattern;
    },
    updateAndAllocate(globalStep, grads) {
      lastStep = globalStep;
      if (globalStep < end) {
        updateImportance(grads);
        const { budget, mask } = adaloraBudget(config, initBudget, targetBudget, globalStep);
        if (mask) rankPattern = maskToBudget(budget);
        return { budget, ...(mask ? { rankPattern } : {}) };
      }
      if (!done) {
        rankPattern = maskToBudget(targetBudget);
        done = true;
        importance.dispose();
        return { budget: targetBudget, rankPattern };
      }
      if (rankPattern) layers.forEach((l) => applyMask(l, rankPattern![`${l.path}.lora_E`]));
      return { budget: targetBudget };
    },
    afterStep(ctx) {
      allocator.updateAndAllocate(ctx.step, gradientsByVariable(ctx));
    },
    penalty: (ctx) => adaloraPenalty(model, ctx.params, name),
    dispose() {
      importance.dispose();
      for (const l of layers) if ((l.inst.state as AdaloraState).allocator === allocator) delete (l.inst.state as AdaloraState).allocator;
    },
  };
  for (const l of layers) (l.inst.state as AdaloraState).allocator = allocator;
  return allocator;
}
