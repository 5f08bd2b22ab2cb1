/**
 * A continual-learning benchmark: a stream of experiences (Avalanche's word for tasks), each with
 * its own training and test set, built deterministically from a seed. Benchmarks are one per file
 * (`split-mnist.ts`, `permuted-mnist.ts`, `rotated-mnist.ts`); this file has their common shape.
 *
 * Labels in the experiences' datasets are always the original digits 0–9; which output unit a
 * label trains depends on the scenario and is worked out by `scenario.ts`.
 */
import type { Dataset } from '../data/dataset.js';

/** The benchmark families. */
export type BenchmarkKind = 'split' | 'permuted' | 'rotated';

/** One experience of a stream. */
export interface Experience {
  /** 0-based position in the stream. */
  index: number;
  /** The task label (Avalanche's `task_label`): the index with `returnTaskId` or a permuted/rotated stream, else 0. */
  taskLabel: number;
  /** The original digits this experience holds (all ten for permuted and rotated streams). */
  classes: number[];
  /** Training data (features `[784]` in [0, 1], labels the original digits). */
  train: Dataset;
  /** Test data, same layout. */
  test: Dataset;
}

/** A stream of experiences and what defines it. */
export interface Benchmark {
  /** Readable name, e.g. `split-mnist`. */
  name: string;
  /** The family. */
  kind: BenchmarkKind;
  /** The experiences in training order. */
  experiences: Experience[];
  /**
   * The digits in the order they appear: `classOrder[k]` is the k-th class seen. For split
   * streams experience i holds `classOrder[i·n … i·n + n − 1]` (n = nClassesPerExperience);
   * for permuted/rotated streams it is 0…9.
   */
  classOrder: number[];
  /** Permuted streams: each experience's pixel permutation (`permutations[i][p]` = source pixel of pixel p). */
  permutations?: number[][];
  /** Rotated streams: each experience's rotation in degrees (counter-clockwise). */
  rotations?: number[];
  /** Classes per experience (2 for Split MNIST with 5 experiences, 10 for permuted/rotated). */
  nClassesPerExperience: number;
  /** Distinct classes in the whole stream (10). */
  nClasses: number;
  /** The seed the stream was built from. */
  seed: number;
  /**
   * What a run record needs to rebuild the stream: name, kind, seed, class order, sizes,
   * permutation fingerprints (SHA-256 of each permutation) or rotations, dataset fingerprints.
   */
  describe(): Record<string, unknown>;
  /** Drops references to the experiences' data (the datasets hold no tensors). */
  dispose(): void;
}

/** Number of examples to keep from an MNIST split, checked (undefined: all). */
export function checkLimit(caller: string, name: 'train' | 'test', value: number | undefined): void {
  if (value !== undefined && !(Number.isInteger(value) && value > 0)) throw new Error(`${caller}: ${name} must be a positive integer (the first N images), got ${value}`);
}

/** Number of experiences, checked. */
export function checkExperiences(caller: string, value: number, max = Infinity): void {
  if (!(Number.isInteger(value) && value >= 1 && value <= max)) throw new Error(`${caller}: nExperiences must be an integer in [1, ${max}], got ${value}`);
}

/** The parts of {@link Benchmark.describe} every benchmark has. */
export function describeExperiences(experiences: Experience[]): Array<Record<string, unknown>> {
  return experiences.map((e) => ({
    index: e.index,
    taskLabel: e.taskLabel,
    classes: e.classes,
    trainSize: e.train.size,
    testSize: e.test.size,
    train: e.train.fingerprint(),
    test: e.test.fingerprint(),
  }));
}
