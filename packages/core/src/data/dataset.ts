/**
 * The dataset abstraction: examples held as one contiguous Float32Array of features and one typed
 * array of labels (class indices as Int32Array, regression targets as Float32Array), with
 * per-example shapes. Tensors are made only per batch ({@link batches}), so a dataset costs one
 * copy of its data and nothing on the TF.js backend until it is iterated.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../random.js';
import { fingerprintDataset } from './fingerprint.js';

/** A dataset (or a view of one: a split, a digit subset, a normalisation). */
export interface Dataset {
  /** Number of examples. */
  readonly size: number;
  /** All features, example after example: `size × product(featureShape)` values. */
  readonly features: Float32Array;
  /** Shape of one example's features, e.g. `[784]` or `[28, 28, 1]`. */
  readonly featureShape: number[];
  /** All labels: class indices (Int32Array) or targets (Float32Array), `size × product(labelShape)`. */
  readonly labels: Int32Array | Float32Array;
  /** Shape of one example's label: `[]` for a class index, `[1]` for a scalar target. */
  readonly labelShape: number[];
  /** A readable name of the view, e.g. `mnist-train`. */
  readonly name: string;
  /** Parameters that define the view (split, normalisation, filters, generator settings). */
  readonly params?: Readonly<Record<string, unknown>>;
  /** Number of classes, for classification datasets. */
  readonly numClasses?: number;
  /** SHA-256 of the view (name, params, shapes, dtypes and bytes), computed once. */
  fingerprint(): string;
}

/** What a {@link TensorDataset} is made from. */
export interface TensorDatasetInit {
  features: Float32Array;
  featureShape: number[];
  labels: Int32Array | Float32Array;
  labelShape?: number[];
  name: string;
  params?: Record<string, unknown>;
  numClasses?: number;
}

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The standard in-memory {@link Dataset}: typed arrays plus shapes, validated on construction. */
export class TensorDataset implements Dataset {
  readonly size: number;
  readonly features: Float32Array;
  readonly featureShape: number[];
  readonly labels: Int32Array | Float32Array;
  readonly labelShape: number[];
  readonly name: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly numClasses?: number;

  constructor(init: TensorDatasetInit) {
    const featureShape = [...init.featureShape];
    const labelShape = [...(init.labelShape ?? [])];
    for (const [what, shape] of [['featureShape', featureShape], ['labelShape', labelShape]] as const) {
      if (!shape.every((d) => Number.isInteger(d) && d > 0)) throw new Error(`dataset ${init.name}: ${what} [${shape.join(', ')}] must have positive integer sizes`);
    }
    const perExample = product(featureShape);
    if (init.features.length % perExample !== 0) {
      throw new Error(`dataset ${init.name}: ${init.features.length} feature values is not a multiple of featureShape [${featureShape.join(', ')}] (${perExample})`);
    }
    const size = init.features.length / perExample;
    const labelsPer = product(labelShape);
    if (init.labels.length !== size * labelsPer) {
      throw new Error(`dataset ${init.name}: ${init.labels.length} label values for ${size} examples of labelShape [${labelShape.join(', ')}] (expected ${size * labelsPer})`);
    }
    if (init.numClasses !== undefined && !(init.labels instanceof Int32Array)) throw new Error(`dataset ${init.name}: numClasses needs Int32Array labels`);
    this.size = size;
    this.features = init.features;
    this.featureShape = featureShape;
    this.labels = init.labels;
    this.labelShape = labelShape;
    this.name = init.name;
    this.params = Object.freeze({ ...(init.params ?? {}) });
    if (init.numClasses !== undefined) this.numClasses = init.numClasses;
  }

  /** SHA-256 of the view; see {@link fingerprintDataset}. */
  fingerprint(): string {
    return fingerprintDataset(this);
  }

  /** The examples at `indices` (in that order), copied into a new dataset. */
  subset(indices: ArrayLike<number>, name = `${this.name}/subset`, params?: Record<string, unknown>): TensorDataset {
    return subset(this, indices, name, params);
  }

  /** A random split into `round(fraction·size)` and the remaining examples; see {@link split}. */
  split(fraction: number, rng: Rng): [TensorDataset, TensorDataset] {
    return split(this, fraction, rng);
  }

  /** The same data with another per-example feature shape of the same size (no copy). */
  reshape(featureShape: number[], name = this.name): TensorDataset {
    if (product(featureShape) !== product(this.featureShape)) {
      throw new Error(`dataset ${this.name}: cannot reshape features [${this.featureShape.join(', ')}] to [${featureShape.join(', ')}]`);
    }
    return new TensorDataset({ ...this.init(), featureShape, name });
  }

  private init(): TensorDatasetInit {
    return {
      features: this.features,
      featureShape: this.featureShape,
      labels: this.labels,
      labelShape: this.labelShape,
      name: this.name,
      params: { ...this.params },
      ...(this.numClasses !== undefined ? { numClasses: this.numClasses } : {}),
    };
  }
}

/**
 * The examples at `indices` (in that order, repeats allowed), copied into a new
 * {@link TensorDataset}. Its params are the parent's plus `subsetOf` (the parent's name) and
 * `subsetSize`; its fingerprint covers its own bytes.
 */
export function subset(dataset: Dataset, indices: ArrayLike<number>, name = `${dataset.name}/subset`, params?: Record<string, unknown>): TensorDataset {
  const featureSize = product(dataset.featureShape);
  const labelSize = product(dataset.labelShape);
  const features = new Float32Array(indices.length * featureSize);
  const labels = dataset.labels instanceof Int32Array ? new Int32Array(indices.length * labelSize) : new Float32Array(indices.length * labelSize);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    if (!Number.isInteger(i) || i < 0 || i >= dataset.size) throw new RangeError(`subset of ${dataset.name}: index ${i} out of range [0, ${dataset.size})`);
    features.set(dataset.features.subarray(i * featureSize, (i + 1) * featureSize), k * featureSize);
    labels.set(dataset.labels.subarray(i * labelSize, (i + 1) * labelSize), k * labelSize);
  }
  return new TensorDataset({
    features,
    featureShape: dataset.featureShape,
    labels,
    labelShape: dataset.labelShape,
    name,
    params: { ...(dataset.params ?? {}), subsetOf: dataset.name, subsetSize: indices.length, ...(params ?? {}) },
    ...(dataset.numClasses !== undefined ? { numClasses: dataset.numClasses } : {}),
  });
}

/**
 * A random split: `round(fraction·size)` examples drawn with `rng.permutation` go to the first
 * dataset, the rest to the second; each part keeps the original order of its examples. The same
 * rng state gives the same split. Names get `/split0` and `/split1`.
 */
export function split(dataset: Dataset, fraction: number, rng: Rng): [TensorDataset, TensorDataset] {
  if (!(fraction >= 0 && fraction <= 1)) throw new RangeError(`split of ${dataset.name}: fraction must be in [0, 1], got ${fraction}`);
  const seed = rng.seed;
  const order = rng.permutation(dataset.size);
  const cut = Math.round(fraction * dataset.size);
  const first = order.slice(0, cut).sort();
  const second = order.slice(cut).sort();
  return [
    subset(dataset, first, `${dataset.name}/split0`, { split: { fraction, part: 0, seed } }),
    subset(dataset, second, `${dataset.name}/split1`, { split: { fraction, part: 1, seed } }),
  ];
}

/** One minibatch: tensors the caller owns (and disposes) and the dataset indices they hold. */
export interface Batch {
  /** Features, shape `[batch, ...featureShape]`, float32. */
  x: tf.Tensor;
  /** Labels, shape `[batch, ...labelShape]`: int32 class indices or float32 targets. */
  y: tf.Tensor;
  /** The dataset indices of the rows, in batch order. */
  indices: Int32Array;
}

/** Options of {@link batches}. */
export interface BatchOptions {
  batchSize: number;
  /** Visit the examples in a random order drawn from `rng` (default false: in order). */
  shuffle?: boolean;
  /** Required with `shuffle`: the permutation is drawn from it when `batches` is called. */
  rng?: Rng;
  /** Skip the last, smaller batch (default false). */
  dropLast?: boolean;
}

/** The iterator {@link batches} returns: an iterable of batches that knows how many it yields. */
export interface BatchIterator extends IterableIterator<Batch> {
  readonly numBatches: number;
}

/** How many batches one epoch has. */
export function numBatches(size: number, batchSize: number, dropLast = false): number {
  return dropLast ? Math.floor(size / batchSize) : Math.ceil(size / batchSize);
}

/**
 * One epoch of minibatches. The order (with `shuffle`, one `rng.permutation(size)`) is fixed when
 * this is called, so the same rng state gives the same batches; each batch's tensors are built
 * only when the iterator reaches it, from slices of the typed arrays copied into one fresh array
 * per tensor, and belong to the caller, who disposes them. Every index appears exactly once per
 * epoch (except those of a dropped last batch).
 */
export function batches(dataset: Dataset, options: BatchOptions): BatchIterator {
  const { batchSize, shuffle = false, rng, dropLast = false } = options;
  if (!Number.isInteger(batchSize) || batchSize <= 0) throw new RangeError(`batches of ${dataset.name}: batchSize must be a positive integer, got ${batchSize}`);
  if (shuffle && !rng) throw new Error(`batches of ${dataset.name}: shuffle needs an rng (seeded, for reproducible epochs)`);
  const order = shuffle ? rng!.permutation(dataset.size) : Int32Array.from({ length: dataset.size }, (_, i) => i);
  const count = numBatches(dataset.size, batchSize, dropLast);
  const featureSize = product(dataset.featureShape);
  const labelSize = product(dataset.labelShape);
  const labelDtype = dataset.labels instanceof Int32Array ? 'int32' : 'float32';
  function* generate(): Generator<Batch> {
    for (let b = 0; b < count; b++) {
      const indices = order.slice(b * batchSize, Math.min((b + 1) * batchSize, dataset.size));
      const n = indices.length;
      const x = new Float32Array(n * featureSize);
      const y = labelDtype === 'int32' ? new Int32Array(n * labelSize) : new Float32Array(n * labelSize);
      // Consecutive indices (unshuffled) are one slice; otherwise row by row.
      if (!shuffle) {
        const start = indices[0];
        x.set(dataset.features.subarray(start * featureSize, (start + n) * featureSize));
        y.set(dataset.labels.subarray(start * labelSize, (start + n) * labelSize));
      } else {
        for (let k = 0; k < n; k++) {
          const i = indices[k];
          x.set(dataset.features.subarray(i * featureSize, (i + 1) * featureSize), k * featureSize);
          y.set(dataset.labels.subarray(i * labelSize, (i + 1) * labelSize), k * labelSize);
        }
      }
      yield {
        x: tf.tensor(x, [n, ...dataset.featureShape], 'float32'),
        y: tf.tensor(y, [n, ...dataset.labelShape], labelDtype),
        indices,
      };
    }
  }
  return Object.assign(generate(), { numBatches: count });
}
