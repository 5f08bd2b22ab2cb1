/**
 * aTLAS: task vectors composed with learned anisotropic (per-block) scaling.
 *
 * Paper: Frederic Z. Zhang, Paul Albert, Cristian Rodriguez-Opazo, Anton van den Hengel, Ehsan
 * Abbasnejad (2024), "Knowledge Composition using Task Vectors with Learned Anisotropic Scaling",
 * NeurIPS 2024, arXiv:2407.02880. Names after the authors' code (github.com/fredzzhang/atlas,
 * `composition.py`): `blockwise`, coefficients initialised to 0.
 *
 * A task vector is what fine-tuning did to a base model, τᵢ = θᵢ − θ_base. aTLAS keeps the base and
 * the task vectors fixed and learns one coefficient per task vector and parameter block (a block
 * is one parameter tensor — each weight and each bias), so
 *
 *   θ_b = θ_base,b + Σᵢ λᵢ,b · τᵢ,b        for every block b,
 *
 * and only the T × B matrix λ trains (`blockwise: false` learns one λᵢ per task vector, the
 * isotropic scaling of task arithmetic). λ starts at `init` (0: the model starts as the base).
 *
 * Computed here as the same sum regrouped, θ_b = (1 − Σᵢ λᵢ,b)·θ_base,b + Σᵢ λᵢ,b·θᵢ,b (one
 * weighted sum of T + 1 rows per block), so the corners are exact in float32: λ = 0 gives the
 * base and λ = eᵢ the fine-tuned θᵢ bit for bit (θ_base + (θᵢ − θ_base) can be an ulp off θᵢ).
 * Gradients reach λ only: the base and fine-tuned values are constants of the product.
 *
 * In HyperLab it is a reparametrisation: {@link addTaskVectorComposition} returns a module to train
 * (the base model applied to the composed params) whose params are `{ atlas_lambda }`, and
 * `finish()` writes the composed θ into the base model's params. As the whole-model method `atlas`,
 * `taskVectors` names earlier runs (or variables) holding fine-tuned `{ model, params }` of the
 * same architecture; the caller resolves the names (`WholeModelContext.resolveParams`).
 * Departure: aTLAS also offers linearised task vectors and LoRA-style low-rank λ; only the plain
 * (non-linear) block-wise composition is here. Not in PEFT (no saved format: save the params).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ApplyContext, Module } from '../nn/module.js';
import { flatten, type Params } from '../params/params.js';
import { fields, type ConfigSchema } from './config.js';
import { registerWholeModelMethod, type WholeModelMethod } from './training-hooks.js';

/** aTLAS's configuration (`method: atlas`). */
export interface AtlasConfig {
  method: 'atlas';
  /** Earlier runs or notebook variables whose fine-tuned params are the task vectors (θᵢ − θ_base). */
  taskVectors: string[];
  /** One coefficient per task vector and parameter block (aTLAS), or one per task vector. Default true. */
  blockwise: boolean;
  /** Initial value of every coefficient. Default 0 (the authors'). */
  init: number;
}

/** aTLAS's fields. */
export const atlasSchema: ConfigSchema = {
  method: fields.fixed('atlas', 'the method'),
  taskVectors: {
    expected: 'a non-empty array of run or variable names',
    check: (v) => Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === 'string' && s.length > 0),
    json: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
  },
  blockwise: fields.boolean(true),
  init: fields.number(0),
};

/** Options of {@link addTaskVectorComposition}. */
export interface TaskVectorCompositionOptions {
  /** Per-block coefficients (default true) or one per task vector. */
  blockwise?: boolean;
  /** Initial coefficient value. Default 0. */
  init?: number;
  /** Names of the task vectors, for messages and summaries. Default `tv0`, `tv1`, …. */
  names?: string[];
}

/** A composition being trained. */
export interface TaskVectorComposition {
  /** The module to train: the base model applied to the composed params. */
  readonly model: Module;
  /** Its params: `{ atlas_lambda }`, `[T, B]` (or `[T, 1]` without `blockwise`). */
  readonly params: Params;
  /** The coefficients. */
  readonly lambda: tf.Variable;
  /** The parameter blocks (leaf paths of the base params), in column order of λ. */
  readonly blocks: string[];
  /** The task vectors' names, in row order of λ. */
  readonly names: string[];
  /** The composed params as tensors, by leaf path (the caller disposes them). */
  compose(): Map<string, tf.Tensor>;
  /** The coefficients as numbers, `[T][B]` (kept after {@link finish}). */
  coefficients(): number[][];
  /**
   * Writes the composed θ into the base params' leaves (their `trainable` flags restored) and frees
   * the composition's tensors. Idempotent.
   */
  finish(): void;
}

/**
 * Prepares aTLAS on `model`/`params` (the base) with the fine-tuned params `finetuned` (one tree
 * per task vector, same leaves and shapes as the base). The base's leaves are frozen; train
 * `composition.model` with `composition.params`, then call `finish()`.
 */
export function addTaskVectorComposition(model: Module, params: Params, finetuned: Params[], options: TaskVectorCompositionOptions = {}): TaskVectorComposition {
  const { blockwise = true, init = 0 } = options;
  const names = options.names ?? finetuned.map((_, i) => `tv${i}`);
  if (finetuned.length === 0) throw new Error('aTLAS: give at least one fine-tuned params tree (a task vector)');
  if (names.length !== finetuned.length) throw new Error(`aTLAS: ${names.length} names for ${finetuned.length} task vectors`);
  if (!Number.isFinite(init)) throw new Error(`aTLAS: init must be a finite number, got ${init}`);
  const base = flatten(params);
  if (base.size === 0) throw new Error('aTLAS: the base params have no leaves');
  const trees = finetuned.map((tree, i) => {
    const flat = flatten(tree);
    const missing = [...base.keys()].filter((p) => !flat.has(p));
    const extra = [...flat.keys()].filter((p) => !base.has(p));
    const shapes = [...base].filter(([p, v]) => flat.has(p) && !tf.util.arraysEqual(flat.get(p)!.shape, v.shape)).map(([p, v]) => `${p} ([${flat.get(p)!.shape}] vs the base's [${v.shape}])`);
    if (missing.length || extra.length || shapes.length) {
      const problems = [missing.length ? `missing ${missing.join(', ')}` : '', extra.length ? `unexpected ${extra.join(', ')}` : '', shapes.length ? `shape mismatch at ${shapes.join('; ')}` : ''].filter(Boolean);
      throw new Error(`aTLAS: task vector '${names[i]}' is not of the base model's architecture: ${problems.join('. ')}`);
    }
    return flat;
  });
  const blocks = [...base.keys()];
  const T = finetuned.length;
  const flags = new Map([...base.values()].map((v) => [v, v.trainable]));
  for (const v of base.values()) v.trainable = false;
  // Rows: θ_base, θ_1 … θ_T, flattened per block.
  const stacked = blocks.map((path) => tf.keep(tf.tidy(() => tf.stack([base.get(path)!, ...trees.map((t) => t.get(path)!)].map((v) => tf.reshape(v, [-1]))))));
  const lambda = tf.variable(tf.fill([T, blockwise ? blocks.length : 1], init), true, `atlas_lambda_${nextId++}`);
  const trainParams: Params = { atlas_lambda: lambda };
  let finished: number[][] | undefined;

  /** θ for every block from coefficients `lam` `[T, B|1]`. */
  const composeWith = (lam: tf.Tensor): tf.Tensor[] =>
    blocks.map((path, b) => {
      const column = tf.slice(lam, [0, blockwise ? b : 0], [T, 1]); // [T, 1]
      const coefficients = tf.concat([tf.sub(1, tf.sum(column, 0, true)), column], 0); // [T+1, 1]
      // A sum over rows, not a matMul: WASM's fused bias reads the buffer's own rank, and a matMul's
      // buffer is rank 3 whatever it is reshaped to.
      return tf.reshape(tf.sum(tf.mul(coefficients, stacked[b]), 0), base.get(path)!.shape);
    });
  const tree = (tensors: tf.Tensor[]): Params => {
    const root: Record<string, unknown> = {};
    blocks.forEach((path, b) => {
      const parts = path.split('.');
      let node = root;
      for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
      node[parts[parts.length - 1]] = tensors[b];
    });
    return root as Params;
  };
  const check = (): void => {
    if (finished) throw new Error('aTLAS: the composition is finished (its result is in the base params)');
  };

  const wrapper: Module = {
    kind: 'atlas',
    init() {
      throw new Error('aTLAS: a task-vector composition is built by addTaskVectorComposition, not initialised');
    },
    apply(p: Params, x: tf.Tensor, ctx?: ApplyContext): tf.Tensor {
      check();
      const lam = p.atlas_lambda;
      if (!(lam instanceof tf.Tensor)) throw new Error('aTLAS: expected params { atlas_lambda }');
      return tf.tidy(() => model.apply(tree(composeWith(lam)), x, ctx));
    },
  };

  return {
    model: wrapper,
    params: trainParams,
    lambda,
    blocks,
    names,
    compose() {
      check();
      const tensors = tf.tidy(() => composeWith(lambda));
      return new Map(blocks.map((path, b) => [path, tensors[b]]));
    },
    coefficients() {
      return finished ?? (lambda.arraySync() as number[][]);
    },
    finish() {
      if (finished) return;
      const tensors = tf.tidy(() => composeWith(lambda));
      blocks.forEach((path, b) => base.get(path)!.assign(tensors[b]));
      tf.dispose(tensors);
      for (const [v, t] of flags) v.trainable = t;
      finished = lambda.arraySync() as number[][];
      tf.dispose(stacked);
      lambda.dispose();
    },
  };
}
let nextId = 0;

/** The aTLAS whole-model method (`method: atlas`): `taskVectors` name earlier runs, resolved by the caller. */
export const atlas: WholeModelMethod<AtlasConfig> = {
  name: 'atlas',
  configName: 'AtlasConfig',
  description: 'aTLAS (Zhang et al. 2024): learn per-block coefficients on task vectors of earlier runs; only the coefficients train',
  schema: atlasSchema,
  apply(ctx) {
    const { taskVectors, blockwise, init } = ctx.config;
    const resolve = ctx.resolveParams;
    if (!resolve) throw new Error('AtlasConfig.taskVectors: this caller cannot look up runs or variables by name (WholeModelContext.resolveParams); use addTaskVectorComposition with the fine-tuned params');
    const finetuned = taskVectors.map((name) => {
      try {
        return resolve(name);
      } catch (error) {
        throw new Error(`AtlasConfig.taskVectors: '${name}': ${(error as Error).message}`);
      }
    });
    const composition = addTaskVectorComposition(ctx.model, ctx.params, finetuned, { blockwise, init, names: taskVectors });
    return {
      trainModel: composition.model,
      trainParams: composition.params,
      finish: () => composition.finish(),
      hooks: {
        summary: () => {
          const lam = composition.coefficients();
          const columns = blockwise ? composition.blocks : ['(every block)'];
          const width = Math.max(...composition.names.map((n) => n.length), 4);
          return [`aTLAS coefficients (task vector × block):`, `${''.padEnd(width)}  ${columns.join('  ')}`, ...lam.map((row, i) => `${composition.names[i].padEnd(width)}  ${row.map((v, b) => v.toFixed(3).padStart(columns[b].length)).join('  ')}`)];
        },
        metrics: () => ({ atlasCoefficients: composition.coefficients().flat().length }),
      },
    };
  },
};

registerWholeModelMethod(atlas);
