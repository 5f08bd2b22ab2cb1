/**
 * SpIEL: dynamic sparse fine-tuning that drops and regrows the indices it updates (SpIEL-AG, growth
 * by accumulated gradients).
 *
 * Paper: Alan Ansell, Ivan Vulić, Hannah Sterz, Anna Korhonen, Edoardo M. Ponti (2024), "Scaling
 * Sparse Fine-Tuning to Large Language Models", arXiv:2401.16405; the rules below follow the
 * authors' code (github.com/AlanAnsell/peft, `tuners/sft/trainer.py`, `SftSelector` with
 * `selection_algorithm="rigl"`), named in camelCase after its `SftConfig`.
 *
 * Each targeted weight keeps k = ⌊density·size⌋ active indices (the first ones a uniform random
 * k-subset); only they change, the rest stay at θ₀ bit for bit (the masking of `sparse-ft.ts`).
 * Every `updateEvery` steps (SpIEL's `reselection_steps`) the indices are revised:
 *
 * 1. Accumulate. For `accumulationSteps` steps (`selection_accumulation_steps`) the dense gradient
 *    of each target is watched: on the first of them its k entries of largest |g| become the
 *    growth candidates, and on every one the candidates' g and g² are summed. Phases start at
 *    step 0 and then one step before each multiple of `updateEvery` (the code begins a phase when
 *    `(completed + 1) % updateEvery == 0`) and end when `completed % updateEvery ==
 *    accumulationSteps`, `completed` counting finished steps.
 * 2. Drop. At a phase's end the n = ⌊k·p⌋ active indices whose delta |θ − θ₀| is smallest are
 *    dropped (back to θ₀), with p = 1 at the first phase (the random start is replaced wholesale),
 *    later p = dropFraction·(1 − completed/T) (`ratePolicy: linear`) or
 *    dropFraction·(1 + cos(π·completed/T))/2 (`cosine`), T the run's steps; after T, no more.
 * 3. Grow. Among the candidates that are not still active, the min(n, available) with the largest
 *    |Σ g| join. An index both dropped and regrown stays where it is (with its value); slots are
 *    freed smallest-delta first only as many as there are newcomers.
 * 4. Optimizer. When given the Adam(W) optimizer (`SpielOptions.optimizer`), the moments of a
 *    dropped index are zeroed and a grown one's are seeded with the accumulated mean g and mean g²,
 *    pre-multiplied by (1 − βᵗ) as SpIEL's "bias counter-correction" does.
 *
 * Departures: SpIEL stores the k deltas as their own parameter and keeps an Adam "age" per entry;
 * here the dense weight is the parameter (its unselected entries masked and restored) and Adam's
 * step count is per tensor, so the seeding uses the tensor's step t in (1 − βᵗ). Without an
 * optimizer (`%%adapter` does not pass one) moments are left as they are: a regrown entry starts
 * from whatever decayed momentum it has (zero if never active). SpIEL's gradient accumulation
 * across micro-batches (`grad_accumulation_steps`) is one step per batch here.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../nn/module.js';
import type { Params } from '../params/params.js';
import { Rng } from '../random.js';
import type { Optimizer } from '../train/optimizers.js';
import { fields, type ConfigSchema, type TargetModules } from './config.js';
import { largestMagnitudeIndices, randomIndices, sparseFields, sparseMaskHooks, sparseSetup, type SparseMaskHooks, type SparseTarget } from './sparse-ft.js';
import { registerWholeModelMethod, type WholeModelMethod } from './training-hooks.js';

/** SpIEL's configuration (`method: spiel`). */
export interface SpielConfig {
  method: 'spiel';
  /** Share of each targeted tensor's entries active at a time. Default 0.01. */
  density: number;
  /** Steps between index revisions (SpIEL's `reselection_steps`). Default 20. */
  updateEvery: number;
  /** Share of the active indices revised at the second revision, decaying after (`initial_reselection_rate`). Default 0.2. */
  dropFraction: number;
  /** Steps whose gradients pick and score the growth candidates (`selection_accumulation_steps`). Default 5. */
  accumulationSteps: number;
  /** How the revised share decays to 0 at the run's end (`reselection_rate_policy`). Default `'linear'`. */
  ratePolicy: 'linear' | 'cosine';
  /** Modules whose weights are tuned sparsely (default: every linear, conv2d and embedding). */
  targetModules?: TargetModules;
  /** Modules trained in full. Default none. */
  modulesToSave: string[];
  /** Seed of the initial random indices; default: the run's stream. */
  seed?: number;
}

/** SpIEL's fields. */
export const spielSchema: ConfigSchema = {
  ...sparseFields('spiel'),
  updateEvery: fields.positiveInt(20),
  dropFraction: { expected: 'a number in (0, 1]', check: (v) => typeof v === 'number' && v > 0 && v <= 1, default: 0.2, json: { type: 'number', exclusiveMinimum: 0, maximum: 1 } },
  accumulationSteps: fields.positiveInt(5),
  ratePolicy: fields.oneOf(['linear', 'cosine'], 'linear'),
};

/** Throws, naming the keys, when the accumulation phase does not fit between revisions. */
export function checkSpielConfig(config: Pick<SpielConfig, 'updateEvery' | 'accumulationSteps'>): void {
  if (config.accumulationSteps >= config.updateEvery) {
    throw new Error(`SpielConfig.accumulationSteps (${config.accumulationSteps}) must be smaller than SpielConfig.updateEvery (${config.updateEvery})`);
  }
}

/** What one revision of one tensor's indices did. */
export interface SpielRevision {
  /** The new active indices, slot for slot (a slot keeps its position when its index stays). */
  active: Int32Array;
  /** Indices that left. */
  dropped: number[];
  /** Indices that joined (same order as the slots they took). */
  grown: number[];
  /** The slots that changed hands, aligned with `grown`. */
  slots: number[];
}

const byAscending = (values: ArrayLike<number>, keys: ArrayLike<number>) => (a: number, b: number) => values[a] - values[b] || keys[a] - keys[b];

/**
 * One SpIEL-AG revision (the drop and grow rules above), as a pure function: `active` the slots'
 * indices, `deltas` their |θ − θ₀|, `candidates` the growth candidates and `scores` their |Σ g|,
 * `n` how many slots to revise.
 */
export function spielRevise(active: Int32Array, deltas: ArrayLike<number>, candidates: Int32Array, scores: ArrayLike<number>, n: number): SpielRevision {
  const slotOrder = Array.from({ length: active.length }, (_, s) => s).sort(byAscending(deltas, active));
  const outgoingSlots = slotOrder.slice(0, Math.min(n, active.length));
  const outgoing = new Set(outgoingSlots.map((s) => active[s]));
  const remaining = new Set([...active].filter((i) => !outgoing.has(i)));
  const valid = Array.from({ length: candidates.length }, (_, c) => c).filter((c) => !remaining.has(candidates[c]));
  const negScores = Array.from(scores, (v) => -v);
  const incoming = valid.sort(byAscending(negScores, candidates)).slice(0, Math.min(n, valid.length)).map((c) => candidates[c]);
  const incomingSet = new Set(incoming);
  const newcomers = incoming.filter((i) => !outgoing.has(i));
  const freed = outgoingSlots.filter((s) => !incomingSet.has(active[s])).slice(0, newcomers.length);
  const next = Int32Array.from(active);
  freed.forEach((slot, j) => (next[slot] = newcomers[j]));
  return { active: next, dropped: freed.map((s) => active[s]), grown: newcomers, slots: freed };
}

/** The share of the active indices revised after `completed` steps of `totalSteps`. */
export function spielRate(config: Pick<SpielConfig, 'dropFraction' | 'ratePolicy' | 'accumulationSteps'>, completed: number, totalSteps: number): number {
  if (completed === config.accumulationSteps) return 1;
  if (config.ratePolicy === 'cosine') return (config.dropFraction * (1 + Math.cos((Math.PI * completed) / totalSteps))) / 2;
  return config.dropFraction * (1 - completed / totalSteps);
}

/** Options of {@link spielHooks}. */
export interface SpielOptions {
  /** Steps the run takes (T: the revision rate decays to 0 there). */
  totalSteps: number;
  /** The initial random indices draw from `rng.fork(<path>)`. */
  rng: Rng;
  /** The run's optimizer (Adam or AdamW): lets revisions zero and seed the moments as SpIEL does. */
  optimizer?: Optimizer;
}

/** SpIEL's hooks, with the targets and what each revision did. */
export interface SpielHooks extends SparseMaskHooks {
  readonly targets: SparseTarget[];
  /** Every revision so far: the finished-step count, the rate and, per target path, what changed. */
  readonly revisions: ReadonlyArray<{ completed: number; rate: number; changes: Record<string, SpielRevision & { meanGrad: number[]; meanGradSq: number[] }> }>;
}

interface Accumulated {
  candidates: Int32Array;
  sum: Float64Array;
  sumSq: Float64Array;
  samples: number;
}

/** SpIEL-AG on `params` (see the file comment). */
export function spielHooks(model: Module, params: Params, config: Omit<SpielConfig, 'method'>, options: SpielOptions): SpielHooks {
  checkSpielConfig(config);
  const { targets } = sparseSetup(model, params, config, 'SpielConfig');
  for (const t of targets) t.active = randomIndices(t.variable.size, t.k, options.rng.fork(t.path));
  const R = config.updateEvery;
  const A = config.accumulationSteps;
  const T = options.totalSteps;
  // Step s (0-based) is watched when it runs inside a phase: the first phase covers steps 0..A−1,
  // phase j ≥ 1 begins after jR − 1 finished steps and ends after jR + A.
  const watched = (s: number): boolean => s < A || (s + 1) % R === 0 || (s % R < A && s >= R);
  const accumulated = new Map<SparseTarget, Accumulated>();
  const revisions: Array<SpielHooks['revisions'][number]> = [];

  const accumulate = (target: SparseTarget, grad: tf.Tensor): void => {
    const g = grad.dataSync();
    let acc = accumulated.get(target);
    if (!acc) {
      // The k entries of largest |g| (ties: lower index first, so every backend picks the same).
      acc = { candidates: largestMagnitudeIndices(g, target.k), sum: new Float64Array(target.k), sumSq: new Float64Array(target.k), samples: 0 };
      accumulated.set(target, acc);
    }
    acc.candidates.forEach((index, c) => {
      acc!.sum[c] += g[index];
      acc!.sumSq[c] += g[index] * g[index];
    });
    acc.samples++;
  };

  const seedMoments = (target: SparseTarget, revision: SpielRevision, meanGrad: number[], meanGradSq: number[]): void => {
    const optimizer = options.optimizer;
    if (!optimizer || revision.slots.length === 0) return;
    const state = optimizer.state();
    const slot = state.slots.find((s) => s.variable === target.variable);
    if (!slot) return;
    const beta1 = Number(state.hyper.beta1 ?? 0);
    const beta2 = Number(state.hyper.beta2 ?? 0);
    const seeds: Record<string, (j: number) => number> = {
      exp_avg: (j) => meanGrad[j] * (1 - Math.pow(beta1, slot.step)),
      exp_avg_sq: (j) => meanGradSq[j] * (1 - Math.pow(beta2, slot.step)),
      momentum_buffer: () => 0,
    };
    for (const [name, tensor] of Object.entries(slot.tensors)) {
      const values = tensor.dataSync().slice() as Float32Array;
      for (const index of revision.dropped) values[index] = 0;
      revision.grown.forEach((index, j) => (values[index] = (seeds[name] ?? (() => 0))(j)));
      const next = tf.tensor(values, tensor.shape);
      tensor.assign(next);
      next.dispose();
    }
  };

  let hooks: SparseMaskHooks;
  const revise = (completed: number): void => {
    const rate = spielRate(config, completed, T);
    const changes: SpielHooks['revisions'][number]['changes'] = {};
    for (const target of targets) {
      const acc = accumulated.get(target);
      if (!acc) continue;
      const now = target.variable.dataSync();
      const deltas = Array.from(target.active, (i) => Math.abs(now[i] - target.initial[i]));
      const n = Math.floor(target.k * rate + 1e-9);
      const revision = spielRevise(target.active, deltas, acc.candidates, Array.from(acc.sum, Math.abs), n);
      const position = new Map(Array.from(acc.candidates, (index, c) => [index, c]));
      const meanGrad = revision.grown.map((i) => acc.sum[position.get(i)!] / acc.samples);
      const meanGradSq = revision.grown.map((i) => acc.sumSq[position.get(i)!] / acc.samples);
      hooks.setActive(target, revision.active);
      seedMoments(target, revision, meanGrad, meanGradSq);
      changes[target.path] = { ...revision, meanGrad, meanGradSq };
    }
    accumulated.clear();
    revisions.push({ completed, rate, changes });
  };

  hooks = sparseMaskHooks(targets, {
    onGradient(target, grad, ctx) {
      if (watched(ctx.step) && ctx.step + 1 <= T) accumulate(target, grad);
    },
    afterRestore(ctx) {
      const completed = ctx.step + 1;
      if (completed % R === A && completed <= T) revise(completed);
    },
  });
  return {
    ...hooks,
    targets,
    revisions,
    summary: () => {
      const moved = revisions.reduce((n, r) => n + Object.values(r.changes).reduce((m, c) => m + c.grown.length, 0), 0);
      return [`SpIEL: ${hooks.summary!()[0]}; ${revisions.length} revision${revisions.length === 1 ? '' : 's'} moved ${moved.toLocaleString('en-US')} indices`];
    },
    metrics: () => ({ ...hooks.metrics!(), spielRevisions: revisions.length }),
  };
}

/** The SpIEL whole-model method (`method: spiel`). */
export const spiel: WholeModelMethod<SpielConfig> = {
  name: 'spiel',
  configName: 'SpielConfig',
  description: 'SpIEL-AG (Ansell et al. 2024): sparse fine-tuning that drops the smallest deltas and regrows by accumulated gradients',
  schema: spielSchema,
  checkConfig: checkSpielConfig,
  apply(ctx) {
    if (ctx.totalSteps === undefined) throw new Error('SpielConfig: SpIEL needs the run\'s total steps (its revision rate decays to 0 at the end); the caller did not give them');
    const rng = ctx.config.seed !== undefined ? new Rng(`spiel:${ctx.config.seed}`) : ctx.rng.fork('spiel');
    return { hooks: spielHooks(ctx.model, ctx.params, ctx.config, { totalSteps: ctx.totalSteps, rng }) };
  },
};

registerWholeModelMethod(spiel);
