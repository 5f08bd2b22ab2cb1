/**
 * Sparse fine-tuning with a fixed index set: only a chosen `density` share of each targeted weight
 * tensor's entries may change; every other entry keeps its pre-trained value bit for bit.
 *
 * Papers: fixed sparse masks for fine-tuning as in Yi-Lin Sung, Varun Nair, Colin Raffel (2021),
 * "Training Neural Networks with Fixed Sparse Masks", NeurIPS 2021, arXiv:2111.09839 (who choose
 * the entries by Fisher information; here the choice is `random` or `magnitude`); the random
 * choice is the initial one of Alan Ansell, Ivan Vulić, Hannah Sterz, Anna Korhonen, Edoardo M.
 * Ponti (2024), "Scaling Sparse Fine-Tuning to Large Language Models", arXiv:2401.16405, whose
 * dynamic method SpIEL (`spiel.ts`) reuses the masking here. `random` is a uniform k-subset;
 * `magnitude` keeps the k entries of largest |θ₀| (ties: lower flat index first; HyperLab's
 * choice of static criterion). Per tensor, k = ⌊density·size⌋ (SpIEL spreads one budget over the
 * targeted tensors in proportion to their sizes, which is the same up to rounding).
 *
 * Targets: the `weight` of every linear, conv2d and embedding module (`targetModules` narrows
 * them); their biases and every other leaf are frozen, except `modulesToSave` modules, which train
 * in full. PEFT has no sparse fine-tuning, so there is no PEFT file: the result is the model's own
 * params (save them with `saveParams`).
 *
 * How "only the selected entries change" is enforced, whatever the optimizer:
 * - `transformGradients` multiplies each target's gradient by its 0/1 mask, so unselected entries
 *   get a zero gradient;
 * - a zero gradient alone does not pin an entry: weight decay (Adam's L2 term, AdamW's decoupled
 *   decay) moves every entry, and an entry that was selected earlier (SpIEL drops indices) carries
 *   Adam momentum. So `afterStep` writes θ ← where(mask, θ, θ₀) after every update, with θ₀ kept
 *   as a frozen copy — an exact select, not arithmetic, so unselected entries are bit-identical.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../nn/module.js';
import type { Params } from '../params/params.js';
import { Rng } from '../random.js';
import type { GradientList } from '../train/clip.js';
import type { GradientContext } from '../train/loop.js';
import { fields, type ConfigSchema, type TargetModules } from './config.js';
import { describeOptionalTargets, leavesByModule, modulesToSaveMatcher, optionalTargets } from './module-leaves.js';
import { registerWholeModelMethod, type AdapterTrainingHooks, type WholeModelMethod } from './training-hooks.js';

/** Fixed sparse fine-tuning's configuration (`method: sparse-ft`). */
export interface SparseFtConfig {
  method: 'sparse-ft';
  /** How the entries are chosen: uniformly at random, or largest pre-trained |θ|. Default `'random'`. */
  selection: 'random' | 'magnitude';
  /** Share of each targeted tensor's entries that may change. Default 0.01. */
  density: number;
  /** Modules whose weights are tuned sparsely (default: every linear, conv2d and embedding). */
  targetModules?: TargetModules;
  /** Modules trained in full (a new head). Default none. */
  modulesToSave: string[];
  /** Seed of the random choice; default: the run's stream. */
  seed?: number;
}

/** The fields every sparse method shares (`density`, `targetModules`, `modulesToSave`, `seed`). */
export function sparseFields(method: string): ConfigSchema {
  return {
    method: fields.fixed(method, 'the method'),
    density: { expected: 'a number in (0, 1]', check: (v) => typeof v === 'number' && v > 0 && v <= 1, default: 0.01, json: { type: 'number', exclusiveMinimum: 0, maximum: 1 } },
    targetModules: { ...fields.targets(), optional: true },
    modulesToSave: fields.stringList([]),
    seed: { ...fields.integer(), optional: true },
  };
}

/** Fixed sparse fine-tuning's fields. */
export const sparseFtSchema: ConfigSchema = { ...sparseFields('sparse-ft'), selection: fields.oneOf(['random', 'magnitude'], 'random') };

const SPARSE_KINDS = new Set(['linear', 'conv2d', 'embedding']);

/** One weight tensor tuned sparsely. */
export interface SparseTarget {
  /** Its path (`0.weight`). */
  path: string;
  variable: tf.Variable;
  /** θ₀, the values it started from (host copy, row-major). */
  readonly initial: Float32Array;
  /** Entries that may change: ⌊density·size⌋. */
  readonly k: number;
  /** The flat indices currently selected (k of them). */
  active: Int32Array;
}

/** A target with its device-side state. */
interface TargetState extends SparseTarget {
  initialTensor: tf.Tensor;
  keep: tf.Tensor;
  scale: tf.Tensor;
}

/** The share of the model the sparse methods touch, and what they freeze. */
export interface SparseSetup {
  targets: SparseTarget[];
  /** Leaves trained in full (modulesToSave). */
  saved: string[];
}

/**
 * Finds the targeted weights (k = ⌊density·size⌋ each; tensors where that is 0 are left frozen),
 * freezes every other leaf except the `modulesToSave` ones, and returns the targets with `active`
 * empty (the caller chooses). Throws, naming the config key, when nothing is targeted.
 */
export function sparseSetup(model: Module, params: Params, config: { density: number; targetModules?: TargetModules; modulesToSave: readonly string[] }, configName: string): SparseSetup {
  const saved = modulesToSaveMatcher(model, config.modulesToSave, configName);
  const matches = optionalTargets(config.targetModules);
  const targets: SparseTarget[] = [];
  const savedLeaves: string[] = [];
  let candidates = 0;
  let largest = 0;
  for (const owner of leavesByModule(model, params, configName.replace(/Config$/, ''))) {
    const isTarget = SPARSE_KINDS.has(owner.kind) && matches(owner.path) && !saved(owner.path);
    for (const leaf of owner.leaves) {
      leaf.variable.trainable = false;
      if (saved(owner.path)) {
        leaf.variable.trainable = true;
        savedLeaves.push(leaf.path);
      } else if (isTarget && leaf.path.endsWith('.weight')) {
        candidates++;
        largest = Math.max(largest, leaf.variable.size);
        const k = Math.floor(config.density * leaf.variable.size + 1e-9);
        if (k === 0) continue;
        leaf.variable.trainable = true;
        targets.push({ path: leaf.path, variable: leaf.variable, initial: leaf.variable.dataSync().slice() as Float32Array, k, active: new Int32Array(0) });
      }
    }
  }
  if (candidates === 0) throw new Error(`${configName}: ${describeOptionalTargets(config.targetModules)} has no linear, conv2d or embedding weight to tune`);
  if (targets.length === 0) throw new Error(`${configName}.density = ${config.density} selects no entry of any targeted weight (the largest has ${largest} entries)`);
  return { targets, saved: savedLeaves };
}

/** k distinct flat indices of 0..size-1, uniformly at random (sorted). */
export function randomIndices(size: number, k: number, rng: Rng): Int32Array {
  const order = rng.permutation(size);
  return Int32Array.from(order.subarray(0, k)).sort();
}

/** The k flat indices of largest |values| (ties: lower index first), sorted. */
export function largestMagnitudeIndices(values: ArrayLike<number>, k: number): Int32Array {
  const order = Array.from({ length: values.length }, (_, i) => i).sort((a, b) => Math.abs(values[b]) - Math.abs(values[a]) || a - b);
  return Int32Array.from(order.slice(0, k)).sort();
}

/** Callbacks of {@link sparseMaskHooks} for methods that move the selection (SpIEL). */
export interface SparseMaskCallbacks {
  /** Sees each target's raw gradient (before masking), inside the step's tidy. */
  onGradient?(target: SparseTarget, grad: tf.Tensor, ctx: GradientContext): void;
  /** After the update and the restore of unselected entries. */
  afterRestore?(ctx: GradientContext): void;
}

/** Hooks that keep every target's unselected entries at θ₀, and {@link setActive} to move the selection. */
export interface SparseMaskHooks extends AdapterTrainingHooks {
  /** Replaces a target's selection and puts its newly unselected entries back to θ₀ at once. */
  setActive(target: SparseTarget, indices: Int32Array): void;
}

/**
 * The gradient mask and the restore (see the file comment) for `targets`; each target's current
 * `active` set is the selection. `dispose()` frees θ₀ and the masks.
 */
export function sparseMaskHooks(targets: SparseTarget[], callbacks: SparseMaskCallbacks = {}): SparseMaskHooks {
  const states: TargetState[] = targets.map((t) => Object.assign(t, { initialTensor: tf.tensor(t.initial, t.variable.shape), keep: tf.scalar(false, 'bool'), scale: tf.scalar(0) }) as TargetState);
  const byVariable = new Map<tf.Variable, TargetState>(states.map((s) => [s.variable, s]));
  const buildMask = (state: TargetState): void => {
    const mask = new Uint8Array(state.variable.size);
    for (const i of state.active) mask[i] = 1;
    state.keep.dispose();
    state.scale.dispose();
    state.keep = tf.keep(tf.tensor(mask, state.variable.shape, 'bool'));
    state.scale = tf.keep(tf.tensor(Float32Array.from(mask), state.variable.shape));
  };
  const restore = (state: TargetState): void => {
    const value = tf.tidy(() => tf.where(state.keep, state.variable, state.initialTensor));
    state.variable.assign(value);
    value.dispose();
  };
  states.forEach(buildMask);
  return {
    setActive(target, indices) {
      const state = byVariable.get(target.variable);
      if (!state) throw new Error(`sparse fine-tuning: ${target.path} is not a target`);
      if (indices.length > state.k) throw new Error(`sparse fine-tuning: ${indices.length} indices for ${target.path}, which may change ${state.k}`);
      state.active = indices;
      buildMask(state);
      restore(state);
    },
    transformGradients(ctx): GradientList {
      return ctx.grads.map((g, i) => {
        const state = byVariable.get(ctx.variables[i]);
        if (!state || !g) return g;
        callbacks.onGradient?.(state, g, ctx);
        return tf.mul(g, state.scale);
      });
    },
    afterStep(ctx) {
      states.forEach(restore);
      callbacks.afterRestore?.(ctx);
    },
    metrics: () => ({ sparseEntries: states.reduce((n, s) => n + s.active.length, 0) }),
    summary: () => {
      const size = states.reduce((n, s) => n + s.variable.size, 0);
      const active = states.reduce((n, s) => n + s.active.length, 0);
      return [`${active.toLocaleString('en-US')} of ${size.toLocaleString('en-US')} entries of ${states.length} weight tensor${states.length === 1 ? '' : 's'} may change (${((100 * active) / size).toFixed(2)} %)`];
    },
    dispose() {
      for (const s of states) tf.dispose([s.initialTensor, s.keep, s.scale]);
    },
  };
}

/** The number of entries of each target that differ from θ₀ now (for checks and reports). */
export function changedEntries(target: SparseTarget): number {
  const now = target.variable.dataSync();
  let n = 0;
  for (let i = 0; i < now.length; i++) if (!Object.is(now[i], target.initial[i])) n++;
  return n;
}

/** Fixed sparse fine-tuning on `params`: chooses the entries and returns the hooks that keep the rest. */
export function sparseFtHooks(model: Module, params: Params, config: Omit<SparseFtConfig, 'method'>, rng: Rng): SparseMaskHooks & { targets: SparseTarget[] } {
  const { targets } = sparseSetup(model, params, config, 'SparseFtConfig');
  for (const t of targets) t.active = config.selection === 'magnitude' ? largestMagnitudeIndices(t.initial, t.k) : randomIndices(t.variable.size, t.k, rng.fork(t.path));
  const hooks = sparseMaskHooks(targets);
  return { ...hooks, targets, summary: () => hooks.summary!().map((line) => `sparse-ft (${config.selection}): ${line}`) };
}

/** The fixed sparse fine-tuning whole-model method (`method: sparse-ft`). */
export const sparseFt: WholeModelMethod<SparseFtConfig> = {
  name: 'sparse-ft',
  configName: 'SparseFtConfig',
  description: 'sparse fine-tuning: a fixed random or largest-magnitude density share of each weight changes, the rest stays bit-identical',
  schema: sparseFtSchema,
  apply(ctx) {
    const rng = ctx.config.seed !== undefined ? new Rng(`sparse-ft:${ctx.config.seed}`) : ctx.rng.fork('sparse-ft');
    return { hooks: sparseFtHooks(ctx.model, ctx.params, ctx.config, rng) };
  },
};

registerWholeModelMethod(sparseFt);
