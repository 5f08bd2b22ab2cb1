/**
 * Training rows: the host-side form of a continual training batch before it becomes tensors.
 * Each row carries its features, the output unit it trains (or −1), the units its softmax runs
 * over, its weight in the cross-entropy, and optionally a teacher's logits with a distillation
 * weight. Strategies add rows (replay, generated samples) or teachers (LwF) in their `onBatch`
 * hook; {@link toBatch} packs everything into `x` and one float32 `y` that
 * {@link continualLoss} (in `continual-loss.ts`) reads.
 *
 * `y` columns: 0 target unit (−1: none), 1 lo, 2 hi (active units `[lo, hi)`), 3 cross-entropy
 * weight, 4 distillation weight, 5 the teacher's last active unit + 1, 6 the first distilled unit
 * (read only by a loss with distillation groups, see `continual-loss.ts`), then the teacher's
 * logits (one per output unit). The loss is `Σ_rows ceWeight·CE + kdWeight·KD` — weights, not a mean, so
 * a strategy can weigh current and replayed data as van de Ven & Tolias do (1/t and 1 − 1/t).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Batch } from '../data/dataset.js';
import type { Benchmark } from './benchmark.js';
import { evalRange, unitTable, type Scenario, type UnitRange } from './scenario.js';
import { readFeatures } from './pixel-map-dataset.js';

/** Leading columns of `y` before the teacher logits. */
export const Y_COLUMNS = 7;

/** A set of training examples by reference: experience and index in its training set. */
export interface SamplePool {
  /** The experience of each example. */
  experiences: Int32Array;
  /** The index of each example in its experience's training set. */
  indices: Int32Array;
}

/** A batch of rows, on the host. */
export interface RowBatch {
  /** Number of rows. */
  n: number;
  /** Features, `n × inputSize`. */
  x: Float32Array;
  /** Target unit per row (−1: no hard target). */
  target: Int32Array;
  /** First active unit per row. */
  lo: Int32Array;
  /** One past the last active unit per row. */
  hi: Int32Array;
  /** Cross-entropy weight per row. */
  ceWeight: Float32Array;
  /** Distillation weight per row. */
  kdWeight: Float32Array;
  /** One past the teacher's last active unit per row (the teacher's softmax runs over `[lo, kdHi)`). */
  kdHi: Int32Array;
  /** First distilled unit per row, for a loss with distillation groups (which distils `[kdLo, kdHi)` group by group). */
  kdLo: Int32Array;
  /** Teacher logits, `n × outputs`, when some row distils. */
  teacher?: Float32Array;
  /** The experience each row comes from (−1: generated). */
  experience: Int32Array;
}

/** What rows are made against: the stream, the scenario and the model's widths. */
export class RowFactory {
  private readonly tables: Int32Array[];

  constructor(
    readonly benchmark: Benchmark,
    readonly scenario: Scenario,
    /** Model output width. */
    readonly outputs: number,
    /** Features per example. */
    readonly inputSize: number,
  ) {
    this.tables = benchmark.experiences.map((_, i) => unitTable(benchmark, scenario, i));
  }

  /** The units a row from experience `from` trains over while experience `trained` is trained. */
  range(from: number, trained: number): UnitRange {
    return evalRange(this.benchmark, this.scenario, from, trained);
  }

  /** The digit → unit table of an experience (−1 for digits it lacks). */
  table(experience: number): Int32Array {
    return this.tables[experience];
  }

  /** The output unit of `label` in experience `experience`. */
  unit(experience: number, label: number): number {
    return this.tables[experience][label];
  }

  /** The whole training set of an experience as a pool. */
  experiencePool(experience: number): SamplePool {
    const size = this.benchmark.experiences[experience].train.size;
    return { experiences: new Int32Array(size).fill(experience), indices: Int32Array.from({ length: size }, (_, i) => i) };
  }

  /**
   * Rows for the pool entries at `positions`, trained while experience `trained` is trained,
   * each with cross-entropy weight `totalWeight / positions.length`.
   */
  fromPool(pool: SamplePool, positions: ArrayLike<number>, trained: number, totalWeight = 1): RowBatch {
    const n = positions.length;
    const rows = emptyRows(n, this.inputSize);
    for (let k = 0; k < n; k++) {
      const e = pool.experiences[positions[k]];
      const i = pool.indices[positions[k]];
      const data = this.benchmark.experiences[e].train;
      readFeatures(data, i, rows.x, k * this.inputSize);
      const { lo, hi } = this.range(e, trained);
      rows.target[k] = this.unit(e, data.labels[i]);
      rows.lo[k] = lo;
      rows.hi[k] = hi;
      rows.kdHi[k] = hi;
      rows.kdLo[k] = lo;
      rows.ceWeight[k] = totalWeight / n;
      rows.experience[k] = e;
    }
    return rows;
  }
}

/** n rows of zeros (targets −1, experience −1). */
export function emptyRows(n: number, inputSize: number): RowBatch {
  return {
    n,
    x: new Float32Array(n * inputSize),
    target: new Int32Array(n).fill(-1),
    lo: new Int32Array(n),
    hi: new Int32Array(n),
    ceWeight: new Float32Array(n),
    kdWeight: new Float32Array(n),
    kdHi: new Int32Array(n),
    kdLo: new Int32Array(n),
    experience: new Int32Array(n).fill(-1),
  };
}

/** The rows of `a` then those of `b` (teachers filled with zeros where a side has none). */
export function concatRows(a: RowBatch, b: RowBatch, outputs: number): RowBatch {
  const join = <T extends Int32Array | Float32Array>(x: T, y: T): T => {
    const out = new (x.constructor as new (n: number) => T)(x.length + y.length);
    out.set(x);
    out.set(y, x.length);
    return out;
  };
  const rows: RowBatch = {
    n: a.n + b.n,
    x: join(a.x, b.x),
    target: join(a.target, b.target),
    lo: join(a.lo, b.lo),
    hi: join(a.hi, b.hi),
    ceWeight: join(a.ceWeight, b.ceWeight),
    kdWeight: join(a.kdWeight, b.kdWeight),
    kdHi: join(a.kdHi, b.kdHi),
    kdLo: join(a.kdLo, b.kdLo),
    experience: join(a.experience, b.experience),
  };
  if (a.teacher || b.teacher) rows.teacher = join(a.teacher ?? new Float32Array(a.n * outputs), b.teacher ?? new Float32Array(b.n * outputs));
  return rows;
}

/** Multiplies every weight (cross-entropy and distillation) of `rows` by `factor`, in place. */
export function scaleWeights(rows: RowBatch, factor: number): RowBatch {
  for (let k = 0; k < rows.n; k++) {
    rows.ceWeight[k] *= factor;
    rows.kdWeight[k] *= factor;
  }
  return rows;
}

/** The tensors of a row batch: `x` `[n, inputSize]` and `y` `[n, Y_COLUMNS + outputs]` (see the file comment). */
export function toBatch(rows: RowBatch, inputSize: number, outputs: number): Batch & { indices: Int32Array } {
  const width = Y_COLUMNS + outputs;
  const y = new Float32Array(rows.n * width);
  for (let k = 0; k < rows.n; k++) {
    const o = k * width;
    y[o] = rows.target[k];
    y[o + 1] = rows.lo[k];
    y[o + 2] = rows.hi[k];
    y[o + 3] = rows.ceWeight[k];
    y[o + 4] = rows.kdWeight[k];
    y[o + 5] = rows.kdHi[k];
    y[o + 6] = rows.kdLo[k];
    if (rows.teacher) y.set(rows.teacher.subarray(k * outputs, (k + 1) * outputs), o + Y_COLUMNS);
  }
  return { x: tf.tensor2d(rows.x, [rows.n, inputSize]), y: tf.tensor2d(y, [rows.n, width]), indices: rows.experience };
}
