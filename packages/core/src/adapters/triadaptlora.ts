/**
 * TriAdaptLoRA: triangular low-rank updates whose ranks grow where the update is largest.
 *
 * Paper: Yao Liang, Yuwei Wang, Yi Zeng (2025), "TriAdaptLoRA: Brain-Inspired Triangular Adaptive
 * Low-Rank Adaptation for Parameter-Efficient Fine-Tuning", arXiv:2501.08008. Not in PEFT; no
 * reference code was found. The paper names three parts: (1) a triangular split of the
 * transformation matrices into lower- and upper-triangular components, to use the parameters
 * fully; (2) an importance metric from normalised Frobenius norms; (3) rank growth governed by a
 * dynamic threshold (linear, among the schedules compared, working best). Only the paper's abstract
 * could be read from this machine (its method section was not in the stored copies), so the
 * equations below are HyperLab's reading of those three parts, stated exactly:
 *
 * 1. **Triangular split.** ΔW = s·L·U with L = `lora_B` `[out, r]` lower trapezoidal (L_ij = 0 for
 *    j > i) and U = `lora_A` `[r, in]` upper trapezoidal (U_ij = 0 for j < i) — the LU form of a
 *    rank-r matrix. Every rank-r matrix whose leading principal minors up to order r are non-zero
 *    has this form, so nothing is lost against LoRA's B·A (generic matrices qualify), while the
 *    r(r − 1) entries of B·A's gauge freedom (B·G, G⁻¹·A) are not parameters:
 *    r·(in + out) − r·(r − 1) entries per layer. Growing r → r + 1 adds row r of U and column r of L.
 * 2. **Importance.** A layer's importance is the normalised Frobenius norm of its update,
 *    I = ‖L·U‖_F / √(out·in) (the update's RMS entry, so layers of different shapes compare),
 *    computed as √Σ((LᵀL) ⊙ (UUᵀ)) without forming ΔW; Î = I / max over the layers ∈ [0, 1].
 * 3. **Threshold growth.** At each growth step t (tinit < t < totalStep − tfinal, t % deltaT = 0)
 *    every layer with Î ≥ τ(t) and a free slot gains one rank, the largest Î first, while the total
 *    stays within the budget targetR·n. τ moves from `thresholdInit` to `thresholdFinal` across
 *    [tinit, totalStep − tfinal]: `linear` (default), `exponential` (geometric), `cosine`, or
 *    `constant` (τ = thresholdInit). The layer with the largest update always qualifies.
 *
 * Init: U ~ kaiming-uniform (LoRA's A: U(±1/√in)) on its triangle, L = 0, so the model equals the
 * base; a new rank's column of L is 0, so growing never changes the function, and its row of U is
 * the init draw. The scale is fixed, s = loraAlpha / initR (LoRA's α/r at the initial rank), for
 * the same reason. Ranks grow by unmasking pre-allocated slots (`rank-growth.ts`); the forward masks
 * the entries outside the triangles and beyond the rank, so they get no gradient.
 *
 * Simplifications: the importance has no smoothing over steps (a norm of the accumulated update is
 * already smooth, and the abstract stresses low overhead); one rank per layer and round; linear
 * layers only. Saved layout (HyperLab's): `base_model.model.<path>.lora_A`, `….lora_B`,
 * `….ranknum`, all slots; `adapter_config.json` with `peft_type: "TRIADAPTLORA"`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../nn/module.js';
import type { Params } from '../params/params.js';
import { variable } from '../params/params.js';
import { linearForward } from '../nn/linear.js';
import { initializers } from '../nn/init.js';
import { dropout } from '../nn/activations.js';
import type { GradientContext } from '../train/loop.js';
import { baseFields, fields, validateConfig, type ConfigSchema, type TargetModules } from './config.js';
import type { AdapterInstance, AdapterMethod } from './method.js';
import { tensorAt } from './param-paths.js';
import { growthFields, growthMethodParts, GrowthRun, isGrowthStep, layerSlots, ranknumLeaf, setRank, type GrowingLayer, type GrowthConfig, type GrowthState } from './rank-growth.js';

/** How the growth threshold moves from `thresholdInit` to `thresholdFinal`. */
export type ThresholdSchedule = 'linear' | 'exponential' | 'cosine' | 'constant';

/** TriAdaptLoRA's configuration (the growth fields share AdaLoRA's PEFT names). */
export interface TriadaptloraConfig extends GrowthConfig {
  method: 'triadaptlora';
  /** τ at the start of the growth window, in (0, 1]. Default 0.9. */
  thresholdInit: number;
  /** τ at its end, in (0, 1]. Default 0.5. */
  thresholdFinal: number;
  /** Default `'linear'`. */
  thresholdSchedule: ThresholdSchedule;
}

/** What {@link triadaptloraConfig} accepts. */
export type TriadaptloraConfigInput = Partial<Omit<TriadaptloraConfig, 'method' | 'targetModules' | 'totalStep'>> & { targetModules: TargetModules; totalStep: number };

const unitInterval = (def: number) => ({ expected: 'a number in (0, 1]', check: (v: unknown) => typeof v === 'number' && v > 0 && v <= 1, default: def, json: { type: 'number', exclusiveMinimum: 0, maximum: 1 } });

const schema: ConfigSchema = {
  ...baseFields('triadaptlora'),
  ...growthFields({ initR: 2, targetR: 4, deltaT: 10, loraAlpha: 8 }),
  thresholdInit: unitInterval(0.9),
  thresholdFinal: unitInterval(0.5),
  thresholdSchedule: fields.oneOf(['linear', 'exponential', 'cosine', 'constant'], 'linear'),
};

/** Saved names of TriAdaptLoRA's own fields. */
const peftNames = { thresholdInit: 'threshold_init', thresholdFinal: 'threshold_final', thresholdSchedule: 'threshold_schedule' };


/** A validated TriAdaptLoRA config. */
export function triadaptloraConfig(input: TriadaptloraConfigInput): TriadaptloraConfig {
  const config = validateConfig<TriadaptloraConfig>('TriAdaptLoraConfig', schema, { method: 'triadaptlora', ...input });
  parts.checkConfig(config);
  return config;
}

/** τ(step): the growth threshold of the schedule (thresholdInit up to tinit, thresholdFinal from totalStep − tfinal). */
export function triadaptThreshold(config: Pick<TriadaptloraConfig, 'tinit' | 'tfinal' | 'totalStep' | 'thresholdInit' | 'thresholdFinal' | 'thresholdSchedule'>, step: number): number {
  const { tinit, tfinal, totalStep, thresholdInit: t0, thresholdFinal: t1 } = config;
  const p = Math.min(1, Math.max(0, (step - tinit) / (totalStep - tfinal - tinit)));
  switch (config.thresholdSchedule) {
    case 'constant':
      return t0;
    case 'linear':
      return t0 + (t1 - t0) * p;
    case 'exponential':
      return t0 * (t1 / t0) ** p;
    case 'cosine':
      return t1 + ((t0 - t1) * (1 + Math.cos(Math.PI * p))) / 2;
  }
}

/**
 * The 0/1 mask of a factor in use at rank `ranknum` (in the graph): for U `[slots, in]` the upper
 * triangle of the first r rows, for L `[out, slots]` the lower triangle of the first r columns.
 */
function factorMask(shape: readonly number[], ranknum: tf.Tensor, factor: 'U' | 'L'): tf.Tensor {
  return tf.tidy(() => {
    const [rows, cols] = shape;
    const i = tf.reshape(tf.range(0, rows), [rows, 1]);
    const j = tf.reshape(tf.range(0, cols), [1, cols]);
    const r = tf.reshape(ranknum, [1, 1]);
    const inUse = factor === 'U' ? tf.logicalAnd(tf.greaterEqual(j, i), tf.less(i, r)) : tf.logicalAnd(tf.greaterEqual(i, j), tf.less(j, r));
    return tf.cast(inUse, 'float32');
  });
}

/** The masked factors L `[out, slots]` and U `[slots, in]` of a layer (from its params or leaves). */
function triangularFactors(a: tf.Tensor, b: tf.Tensor, ranknum: tf.Tensor): { l: tf.Tensor; u: tf.Tensor } {
  return { l: tf.mul(b, factorMask(b.shape, ranknum, 'L')), u: tf.mul(a, factorMask(a.shape, ranknum, 'U')) };
}

function layerFactors(inst: AdapterInstance<TriadaptloraConfig>, params: Params): { l: tf.Tensor; u: tf.Tensor } {
  const at = (key: string): tf.Tensor => tensorAt(params, `${key}.${inst.name}`, 'triadaptlora');
  return triangularFactors(at('lora_A'), at('lora_B'), at('ranknum'));
}

const scaleOf = (config: TriadaptloraConfig): number => config.loraAlpha / config.initR;

/** ΔW = s·L·U, `[out, in]`. */
function triadaptDelta(inst: AdapterInstance<TriadaptloraConfig>, params: Params): tf.Tensor {
  return tf.tidy(() => {
    const { l, u } = layerFactors(inst, params);
    return tf.mul(tf.matMul(l, u), scaleOf(inst.config));
  });
}

const parts = growthMethodParts<TriadaptloraConfig>({ method: 'triadaptlora', configName: 'TriAdaptLoraConfig', peftType: 'TRIADAPTLORA', schema, label: 'TriAdaptLoRA', peftNames, delta: (inst, params) => triadaptDelta(inst, params) });

/** The TriAdaptLoRA method. */
export const triadaptlora: AdapterMethod<TriadaptloraConfig> = {
  ...parts,
  description: 'TriAdaptLoRA: triangular (LU-form) LoRA whose ranks grow where the normalised update norm passes a threshold (Liang et al. 2025)',
  paramKeys: ['lora_A', 'lora_B', 'ranknum'],
  init({ layer, config, name, rng }) {
    const slots = layerSlots(config, layer);
    const a = tf.tidy(() => {
      const drawn = initializers.torchDefault()(rng.fork('lora_A'), [slots, layer.inFeatures]);
      return tf.mul(drawn, factorMask(drawn.shape, tf.scalar(slots), 'U'));
    });
    return {
      leaves: {
        [`lora_A.${name}`]: variable(a, `${layer.path}.lora_A.${name}`),
        [`lora_B.${name}`]: variable(tf.zeros([layer.outFeatures, slots]), `${layer.path}.lora_B.${name}`),
        [`ranknum.${name}`]: ranknumLeaf(layer, name, config.initR),
      },
      state: {} satisfies GrowthState,
    };
  },
  transformOutput(inst, params, x, y, _yBase, ctx) {
    return tf.tidy(() => {
      const { l, u } = layerFactors(inst, params);
      const xd = dropout(x, inst.config.loraDropout, ctx);
      return tf.add(y, tf.mul(linearForward(linearForward(xd, u), l), scaleOf(inst.config)));
    });
  },
  trainingHooks({ model, adapterName }) {
    const growth = triadaptGrowth(model, adapterName);
    return {
      afterStep: growth.afterStep,
      summary: () => growth.summary(),
      metrics: () => growth.metrics(),
      dispose: () => growth.dispose(),
    };
  },
};

/** Entries in use of a layer at rank r: r·(in + out) − r·(r − 1). */
export function triadaptActiveParams(layer: { inFeatures: number; outFeatures: number }, r: number): number {
  return r * (layer.inFeatures + layer.outFeatures) - r * (r - 1);
}

/** The growth of one TriAdaptLoRA adapter during training: pass its `afterStep` to `train()`, or let `adapterTrainingHooks` do it. */
export class TriadaptGrowth extends GrowthRun<TriadaptloraConfig> {
  constructor(model: Module, name = 'default') {
    super(model, name, 'triadaptlora', ['lora_A', 'lora_B', 'ranknum'], 'TriAdaptLoRA');
  }

  /** Each layer's Î = I / max I now (I = ‖ΔW‖_F / √(out·in)), by path. */
  importance(): Record<string, number> {
    const scores = this.relative();
    return Object.fromEntries(this.layers.map((l, i) => [l.path, scores[i]]));
  }

  /** After the update of step `step`: growth on schedule. Returns the layers that grew. */
  update(step: number): string[] {
    this.seen = step;
    if (this.done) return [];
    const grown = step < this.end && isGrowthStep(this.config, step) ? this.grow(step) : [];
    if (step >= this.end || this.total() >= this.budget) this.done = true;
    return grown;
  }

  /** A `train()` `afterStep` hook: {@link update}. */
  readonly afterStep = (ctx: GradientContext): void => void this.update(ctx.step);

  protected activeParams(l: GrowingLayer<TriadaptloraConfig>): number {
    return triadaptActiveParams(l.inst.layer, l.rank);
  }

  /** Î per layer: ‖L·U‖_F / √(out·in) (from the r×r Grams: ‖LU‖²_F = Σ (LᵀL) ⊙ (UUᵀ)), over the largest. */
  private relative(): number[] {
    const raw = this.layers.map((layer) =>
      tf.tidy(() => {
        const { l, u } = triangularFactors(layer.leaves.lora_A, layer.leaves.lora_B, layer.leaves.ranknum);
        const squared = tf.sum(tf.mul(tf.matMul(l, l, true, false), tf.matMul(u, u, false, true))).dataSync()[0];
        return Math.sqrt(Math.max(0, squared)) / Math.sqrt(layer.inst.layer.inFeatures * layer.inst.layer.outFeatures);
      }),
    );
    const max = Math.max(...raw);
    return raw.map((v) => (max > 0 ? v / max : 0));
  }

  /** One growth round: every layer with Î ≥ τ(step) and a free slot gains a rank, the largest Î first, within the budget. */
  private grow(step: number): string[] {
    const tau = triadaptThreshold(this.config, step);
    const scores = this.relative();
    const candidates = this.layers.map((l, i) => ({ i, score: scores[i] })).filter(({ i, score }) => score > 0 && score >= tau && this.layers[i].rank < this.layers[i].slots);
    candidates.sort((p, q) => q.score - p.score || p.i - q.i);
    const grown: string[] = [];
    for (const { i } of candidates) {
      if (this.total() >= this.budget) break;
      setRank(this.layers[i], this.layers[i].rank + 1);
      grown.push(this.layers[i].path);
    }
    return grown;
  }
}

/** The growth of TriAdaptLoRA adapter `name` of `model` ({@link TriadaptGrowth}). */
export function triadaptGrowth(model: Module, name = 'default'): TriadaptGrowth {
  return new TriadaptGrowth(model, name);
}
