/**
 * IncreLoRA: incremental parameter allocation — ranks grow, by importance, during training.
 *
 * Paper: Feiyu Zhang, Liangzhi Li, Junhao Chen, Zhouqiang Jiang, Bowen Wang, Yiming Qian (2023),
 * "IncreLoRA: Incremental Parameter Allocation Method for Parameter-Efficient Fine-tuning",
 * arXiv:2308.12043. Reference code: github.com/FeiyuZhang98/IncreLoRA (`loralib/increlora.py`).
 * IncreLoRA is not in PEFT; its config uses AdaLoRA's PEFT names where they mean the same.
 *
 * Form (AdaLoRA's SVD-like one, as the paper's): ΔW = Σ_i p_i·λ_i·q_iᵀ, stored as `lora_A` = Q
 * `[slots, in]`, `lora_E` = Λ `[slots, 1]`, `lora_B` = P `[out, slots]`, and the layer's rank r in
 * the non-trainable `ranknum` `[1]`:
 *
 *   y = base(x) + dropout(x)·(A ⊙ E)ᵀ·Bᵀ · s / (r + 1e-5),   s = loraAlpha (initR when loraAlpha ≤ 0)
 *
 * As in the reference, the divisor is the current rank, so a layer that grows from r to r + k has
 * its existing update rescaled by r/(r + k). Init (the reference's): A, B ~ N(0, 0.02²), E = 0, so
 * the model equals the base. The slots are pre-allocated and grown by unmasking (`rank-growth.ts`
 * says why); each slot i of a layer is
 * - active (i < r): its triplet trains;
 * - reserve (the next `increRankNum` slots, with `advanceLearn`): E_i = 1e-5 and frozen while A_i
 *   and B_i already train — the paper's "advance learning", so a component starts from learned
 *   directions when it is added;
 * - unused: E_i = 0 (frozen), which leaves A_i and B_i without gradient.
 * E's gradient is masked to the active slots inside the forward (a stop-gradient elsewhere), so this
 * holds under any optimizer and without the hooks; the saved tensors alone give the forward.
 *
 * Growth (the reference's `RankAllocator.update_and_increase`), the `afterStep` hook of
 * {@link increloraGrowth} (what `trainingHooks` returns):
 * 1. at the first step every layer's reserve slots are set up;
 * 2. while ranks can grow, AdaLoRA's sensitivity smoothing (`rank-importance.ts`: Ī, Ū EMAs of
 *    |θ·∇θ| with `beta1`, `beta2`) runs on A, E, B, and a layer's score is the mean of its active
 *    triplets' AdaLoRA scores;
 * 3. at each growth step (tinit < t < totalStep − tfinal, t % deltaT = 0) the `topH` layers with the
 *    highest scores that have a free slot each gain `increRankNum` ranks: their reserve slots become
 *    active (E trains on from 1e-5) and the next slots become their reserve. The total rank never
 *    exceeds the budget targetR·n, nor a layer its slots;
 * 4. once the budget is spent, or at totalStep − tfinal, the reserves' E are set to 0 and the ranks
 *    are final (the reference zeroes the reserves when the budget is reached).
 * The orthogonal regulariser (AdaLoRA's, over the active and reserve triplets, as the reference's
 * `compute_svd_orth_regu` covers every component it holds) is the hooks' `penalty`.
 * `restartWarmup` W > 0 is the paper's restart warmup: an update to a component added at step t₀
 * is scaled by min(1, (t − t₀)/W) (reserve A and B from when they become reserve, E from activation).
 *
 * Where this differs from the paper / reference code:
 * - Importance: the reference scores a layer by Σ|ΔW ⊙ ∂L/∂ΔW| / √(numel ΔW) and smooths that one
 *   number; here the per-entry sensitivities of the factors are smoothed (AdaLoRA's scoring, shared
 *   with `adalora.ts`), because `train()`'s hooks see the factors' gradients, not ∂L/∂ΔW (which
 *   needs a dense `[out, in]` gradient per layer).
 * - New components are unmasked slots, not new parameters in a new optimizer param group. Their A
 *   and B are the N(0, 0.02²) draws of init, untouched until then (zero gradient) except by
 *   decoupled weight decay; Adam's bias correction counts per variable, so a slot activated late
 *   takes larger first steps than a fresh parameter would (`restartWarmup` damps them).
 * - Restart warmup scales updates on top of the run's schedule; the reference gives each new group
 *   its own warmup-then-linear-decay schedule. Off by default (W = 0); the paper's runs use their
 *   global warmup length.
 * - `tfinal` ends growth early (the reference grows until the budget is spent), and the budget is
 *   exact (the reference selects by a top-k threshold, so ties can add more).
 * - Linear layers only.
 *
 * Saved layout (HyperLab's; PEFT has no IncreLoRA): `base_model.model.<path>.lora_A`, `….lora_E`,
 * `….lora_B`, `….ranknum`, all slots; `adapter_config.json` with `peft_type: "INCRELORA"`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../nn/module.js';
import type { Params } from '../params/params.js';
import { variable } from '../params/params.js';
import { linearForward } from '../nn/linear.js';
import { initializers } from '../nn/init.js';
import { dropout } from '../nn/activations.js';
import type { GradientContext, PenaltyContext } from '../train/loop.js';
import type { GradientList } from '../train/clip.js';
import { baseFields, fields, validateConfig, type ConfigSchema, type TargetModules } from './config.js';
import type { AdapterInstance, AdapterMethod } from './method.js';
import { assignTo, stopGradient, tensorAt } from './param-paths.js';
import { gradientsByVariable, orthogonalPenalty, sensitivityEma, tripletScores, type SensitivityEma } from './rank-importance.js';
import { activeSlots, growthFields, growthMethodParts, GrowthRun, isGrowthStep, layerSlots, ranknumLeaf, setRank, type GrowingLayer, type GrowthConfig, type GrowthState } from './rank-growth.js';

/** IncreLoRA's configuration (AdaLoRA's PEFT names where they mean the same, camelCase). */
export interface IncreloraConfig extends GrowthConfig {
  method: 'increlora';
  /** EMA coefficient of the sensitivity. Default 0.85. */
  beta1: number;
  /** EMA coefficient of the uncertainty. Default 0.85. */
  beta2: number;
  /** Weight of the orthogonality regulariser. Default 0.1 (the reference's scripts). */
  orthRegWeight: number;
  /** Layers that grow per growth round (the paper's h). Default 1. */
  topH: number;
  /** Ranks a chosen layer gains per round (the reference's `incre_rank_num`). Default 1. */
  increRankNum: number;
  /** Reserve components whose A and B train before they are added (the paper's advance learning). Default true. */
  advanceLearn: boolean;
  /** Steps of the restart warmup of new components (0: none). Default 0. */
  restartWarmup: number;
}

/** What {@link increloraConfig} accepts. */
export type IncreloraConfigInput = Partial<Omit<IncreloraConfig, 'method' | 'targetModules' | 'totalStep'>> & { targetModules: TargetModules; totalStep: number };

const beta = { expected: 'a number in (0, 1)', check: (v: unknown) => typeof v === 'number' && v > 0 && v < 1, json: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 } };

const schema: ConfigSchema = {
  ...baseFields('increlora'),
  ...growthFields({ initR: 2, targetR: 4, deltaT: 10, loraAlpha: 8 }),
  beta1: { ...beta, default: 0.85 },
  beta2: { ...beta, default: 0.85 },
  orthRegWeight: { ...fields.number(0.1), expected: 'a number ≥ 0', check: (v) => typeof v === 'number' && Number.isFinite(v) && v >= 0, json: { type: 'number', minimum: 0 } },
  topH: fields.positiveInt(1),
  increRankNum: fields.positiveInt(1),
  advanceLearn: fields.boolean(true),
  restartWarmup: { ...fields.integer(0), expected: 'an integer ≥ 0', check: (v) => Number.isInteger(v) && (v as number) >= 0, json: { type: 'integer', minimum: 0 } },
};


/** A validated IncreLoRA config. */
export function increloraConfig(input: IncreloraConfigInput): IncreloraConfig {
  const config = validateConfig<IncreloraConfig>('IncreLoraConfig', schema, { method: 'increlora', ...input });
  parts.checkConfig(config);
  return config;
}

/** Saved names of IncreLoRA's own fields (the shared ones are `rank-growth.ts`'s). */
const peftNames = {
  beta1: 'beta1',
  beta2: 'beta2',
  orthRegWeight: 'orth_reg_weight',
  topH: 'top_h',
  increRankNum: 'incre_rank_num',
  advanceLearn: 'advance_learn',
  restartWarmup: 'restart_warmup',
};

/** E of a reserve slot (the reference's advance-learning value). */
const RESERVE_E = 1e-5;

function factors(inst: AdapterInstance<IncreloraConfig>, params: Params): { a: tf.Tensor; e: tf.Tensor; b: tf.Tensor; scale: tf.Tensor } {
  const ranknum = tensorAt(params, `ranknum.${inst.name}`, 'increlora');
  const s = inst.config.loraAlpha > 0 ? inst.config.loraAlpha : inst.config.initR;
  return {
    a: tensorAt(params, `lora_A.${inst.name}`, 'increlora'),
    e: tensorAt(params, `lora_E.${inst.name}`, 'increlora'),
    b: tensorAt(params, `lora_B.${inst.name}`, 'increlora'),
    scale: tf.div(s, tf.add(ranknum, 1e-5)),
  };
}

/** ΔW = B·(A ⊙ E)·s/(r + 1e-5), `[out, in]`. */
function increloraDelta(inst: AdapterInstance<IncreloraConfig>, params: Params): tf.Tensor {
  return tf.tidy(() => {
    const { a, e, b, scale } = factors(inst, params);
    return tf.mul(tf.matMul(b, tf.mul(a, e)), scale);
  });
}

const parts = growthMethodParts<IncreloraConfig>({ method: 'increlora', configName: 'IncreLoraConfig', peftType: 'INCRELORA', schema, label: 'IncreLoRA', peftNames, delta: (inst, params) => increloraDelta(inst, params) });

/** The IncreLoRA method. */
export const increlora: AdapterMethod<IncreloraConfig> = {
  ...parts,
  description: 'IncreLoRA: SVD-form LoRA whose ranks grow in the most important layers while training (Zhang et al. 2023)',
  paramKeys: ['lora_A', 'lora_E', 'lora_B', 'ranknum'],
  init({ layer, config, name, rng }) {
    const slots = layerSlots(config, layer);
    const a = initializers.normal(0.02)(rng.fork('lora_A'), [slots, layer.inFeatures]);
    const b = initializers.normal(0.02)(rng.fork('lora_B'), [layer.outFeatures, slots]);
    return {
      leaves: {
        [`lora_A.${name}`]: variable(a, `${layer.path}.lora_A.${name}`),
        [`lora_E.${name}`]: variable(tf.zeros([slots, 1]), `${layer.path}.lora_E.${name}`),
        [`lora_B.${name}`]: variable(b, `${layer.path}.lora_B.${name}`),
        [`ranknum.${name}`]: ranknumLeaf(layer, name, config.initR),
      },
      state: {} satisfies GrowthState,
    };
  },
  transformOutput(inst, params, x, y, _yBase, ctx) {
    return tf.tidy(() => {
      const xd = dropout(x, inst.config.loraDropout, ctx);
      const { a, e, b, scale } = factors(inst, params);
      // E trains at the active slots only; elsewhere its value (1e-5 reserve, 0 unused) is a constant.
      const active = activeSlots(tensorAt(params, `ranknum.${inst.name}`, 'increlora'), a.shape[0]);
      const gated = tf.add(tf.mul(e, active), tf.mul(stopGradient(e), tf.sub(1, active)));
      return tf.add(y, tf.mul(linearForward(linearForward(xd, tf.mul(a, gated)), b), scale));
    });
  },
  trainingHooks({ model, adapterName }) {
    const growth = increloraGrowth(model, adapterName);
    return {
      afterStep: growth.afterStep,
      ...(growth.config.orthRegWeight > 0 ? { penalty: growth.penalty } : {}),
      ...(growth.config.restartWarmup > 0 ? { transformGradients: growth.transformGradients } : {}),
      summary: () => growth.summary(),
      metrics: () => growth.metrics(),
      dispose: () => growth.dispose(),
    };
  },
};

/** 0/1 column `[slots, 1]`: 1 at slots in [from, to). */
function slotRange(slots: number, from: number, to: number): tf.Tensor {
  return tf.tensor2d(Array.from({ length: slots }, (_, i) => (i >= from && i < to ? 1 : 0)), [slots, 1]);
}

/** E ← value at slots [from, to). */
function setE(layer: GrowingLayer, from: number, to: number, value: number): void {
  if (to <= from) return;
  const e = layer.leaves.lora_E;
  assignTo(e, () => {
    const mask = slotRange(layer.slots, from, to);
    return tf.add(tf.mul(e, tf.sub(1, mask)), tf.mul(mask, value));
  });
}

/**
 * The growth of one IncreLoRA adapter during training (the reference's `RankAllocator`): pass its
 * `afterStep`, `penalty` and (with restartWarmup) `transformGradients` to `train()`, or let
 * `adapterTrainingHooks` do it.
 */
export class IncreloraGrowth extends GrowthRun<IncreloraConfig> {
  private readonly ema: SensitivityEma;
  private readonly variables: tf.Variable[];
  /** Reserve slots per layer: [rank, rank + reserve). */
  private readonly reserve: number[];
  /** Step from which each slot's A/B and E train after the start (restart warmup); −∞: from the start. */
  private readonly startAB: number[][];
  private readonly startE: number[][];
  private snapshot: Array<{ i: number; a: tf.Tensor; e: tf.Tensor; b: tf.Tensor; wAB: number[]; wE: number[] }> = [];
  private started = false;

  constructor(model: Module, name = 'default') {
    super(model, name, 'increlora', ['lora_A', 'lora_E', 'lora_B', 'ranknum'], 'IncreLoRA');
    this.ema = sensitivityEma(this.config.beta1, this.config.beta2);
    this.variables = this.layers.flatMap((l) => [l.leaves.lora_A, l.leaves.lora_E, l.leaves.lora_B]);
    this.reserve = this.layers.map(() => 0);
    this.startAB = this.layers.map((l) => new Array<number>(l.slots).fill(-Infinity));
    this.startE = this.layers.map((l) => new Array<number>(l.slots).fill(-Infinity));
  }

  /** Each layer's reserve slots (advance learning), by path. */
  reserves(): Record<string, number> {
    return Object.fromEntries(this.layers.map((l, i) => [l.path, this.reserve[i]]));
  }

  /**
   * After the update of step `step`, with the gradients it used: reserves at the first step, the
   * importance EMAs, and growth on schedule. Returns the layers that grew.
   */
  update(step: number, grads: ReadonlyMap<tf.Variable, tf.Tensor | null | undefined>): string[] {
    this.seen = step;
    if (this.done) return [];
    if (!this.started) {
      this.started = true;
      if (this.total() >= this.budget) return this.finish();
      this.layers.forEach((_, i) => this.refillReserve(i, step));
    }
    if (step >= this.end) return this.finish();
    this.ema.update(this.variables, grads);
    const grown = isGrowthStep(this.config, step) ? this.grow(step) : [];
    if (this.total() >= this.budget) this.finish();
    return grown;
  }

  /** A `train()` `transformGradients` hook for the restart warmup: keeps the values before the update (the gradients pass unchanged). */
  readonly transformGradients = (ctx: GradientContext): GradientList => {
    if (this.config.restartWarmup > 0) {
      for (const [i, l] of this.layers.entries()) {
        const wAB = this.warmupFactors(this.startAB[i], ctx.step);
        const wE = this.warmupFactors(this.startE[i], ctx.step);
        if ([...wAB, ...wE].every((w) => w === 1)) continue;
        const keep = (v: tf.Variable): tf.Tensor => tf.keep(tf.clone(v));
        this.snapshot.push({ i, a: keep(l.leaves.lora_A), e: keep(l.leaves.lora_E), b: keep(l.leaves.lora_B), wAB, wE });
      }
    }
    return ctx.grads;
  };

  /** A `train()` `afterStep` hook: the restart warmup's scaling θ ← θ_before + w·(θ_after − θ_before) per slot, then {@link update}. */
  readonly afterStep = (ctx: GradientContext): void => {
    for (const { i, a, e, b, wAB, wE } of this.snapshot) {
      const { lora_A: va, lora_E: ve, lora_B: vb } = this.layers[i].leaves;
      const column = (w: number[]): tf.Tensor => tf.tensor2d(w, [w.length, 1]);
      assignTo(va, () => tf.add(a, tf.mul(column(wAB), tf.sub(va, a))));
      assignTo(vb, () => tf.add(b, tf.mul(tf.reshape(column(wAB), [1, -1]), tf.sub(vb, b))));
      assignTo(ve, () => tf.add(e, tf.mul(column(wE), tf.sub(ve, e))));
      tf.dispose([a, e, b]);
    }
    this.snapshot = [];
    this.update(ctx.step, gradientsByVariable(ctx));
  };

  /** A `train()` `penalty` hook: the orthogonal regulariser over the active and reserve triplets. */
  readonly penalty = (_ctx?: PenaltyContext): tf.Scalar =>
    tf.tidy(() => orthogonalPenalty(this.layers.map((l, i) => ({ a: l.leaves.lora_A, b: l.leaves.lora_B, rows: slotRange(l.slots, 0, l.rank + this.reserve[i]) })), this.config.orthRegWeight));

  protected activeParams(l: GrowingLayer<IncreloraConfig>): number {
    return l.rank * (l.inst.layer.inFeatures + l.inst.layer.outFeatures + 1);
  }

  /** Frees the EMAs and lets the adapter merge again. */
  override dispose(): void {
    this.ema.dispose();
    for (const { a, e, b } of this.snapshot) tf.dispose([a, e, b]);
    this.snapshot = [];
    super.dispose();
  }

  /** Makes the `increRankNum` slots after the rank reserve (E = 1e-5), keeping those that already are. */
  private refillReserve(i: number, step: number): void {
    if (!this.config.advanceLearn) return;
    const l = this.layers[i];
    const to = Math.min(l.rank + this.config.increRankNum, l.slots);
    const from = l.rank + this.reserve[i];
    setE(l, from, to, RESERVE_E);
    for (let s = from; s < to; s++) this.startAB[i][s] = step;
    this.reserve[i] = Math.max(0, to - l.rank);
  }

  /** Ranks final: the reserves' E back to 0; the EMAs freed. */
  private finish(): string[] {
    this.layers.forEach((l, i) => {
      setE(l, l.rank, l.rank + this.reserve[i], 0);
      for (let s = l.rank; s < l.rank + this.reserve[i]; s++) this.startAB[i][s] = -Infinity;
      this.reserve[i] = 0;
    });
    this.ema.dispose();
    this.done = true;
    return [];
  }

  /** Mean AdaLoRA score of the layer's active triplets. */
  private layerScore(l: GrowingLayer): number {
    if (l.rank === 0) return 0;
    const scores = tripletScores(this.ema, l.leaves.lora_A, l.leaves.lora_E, l.leaves.lora_B);
    let sum = 0;
    for (let s = 0; s < l.rank; s++) sum += scores[s];
    return sum / l.rank;
  }

  /** One growth round: the topH best-scoring layers with a free slot gain increRankNum ranks each, within the budget. */
  private grow(step: number): string[] {
    const scored = this.layers.map((l, i) => ({ i, score: l.rank < l.slots ? this.layerScore(l) : -Infinity })).filter((c) => c.score > -Infinity);
    scored.sort((p, q) => q.score - p.score || p.i - q.i);
    const grown: string[] = [];
    let left = this.budget - this.total();
    for (const { i } of scored.slice(0, this.config.topH)) {
      const l = this.layers[i];
      const add = Math.min(this.config.increRankNum, l.slots - l.rank, left);
      if (add <= 0) break;
      for (let s = l.rank; s < l.rank + add; s++) {
        this.startE[i][s] = step;
        if (s >= l.rank + this.reserve[i]) this.startAB[i][s] = step; // not trained in advance: starts now
      }
      this.reserve[i] = Math.max(0, this.reserve[i] - add);
      setRank(l, l.rank + add);
      this.refillReserve(i, step);
      left -= add;
      grown.push(l.path);
    }
    return grown;
  }

  private warmupFactors(starts: number[], step: number): number[] {
    return starts.map((t0) => (t0 === -Infinity ? 1 : Math.min(1, (step - t0) / this.config.restartWarmup)));
  }
}

/** The growth of IncreLoRA adapter `name` of `model` ({@link IncreloraGrowth}). */
export function increloraGrowth(model: Module, name = 'default'): IncreloraGrowth {
  return new IncreloraGrowth(model, name);
}
