/**
 * What Permuted and Rotated MNIST share: every experience is all of MNIST (the first N images)
 * seen through its own pixel index map (a {@link PixelMapDataset}), with the digits 0–9 as labels.
 */
import { loadMnist } from '../data/mnist.js';
import { checkExperiences, checkLimit, describeExperiences, type Benchmark, type BenchmarkKind, type Experience } from './benchmark.js';
import { PixelMapDataset } from './pixel-map-dataset.js';

/** Options every mapped stream takes. */
export interface MappedMnistOptions {
  /** Number of experiences. */
  nExperiences: number;
  /** Give experience i the task label i (Avalanche's `return_task_id`); needed by the task scenario. Default false. */
  returnTaskId?: boolean;
  /** Seed of the maps. */
  seed: number;
  /** Keep the first N training images (each experience sees the same N, transformed). Default all. */
  train?: number;
  /** Keep the first N test images. Default all. */
  test?: number;
}

/** Checks the shared options (messages name the caller). */
export function checkMappedOptions(caller: string, options: MappedMnistOptions): void {
  checkExperiences(caller, options.nExperiences);
  if (!Number.isInteger(options.seed)) throw new Error(`${caller}: seed must be an integer, got ${options.seed}`);
  checkLimit(caller, 'train', options.train);
  checkLimit(caller, 'test', options.test);
}

/**
 * A benchmark whose experience i sees MNIST through `maps[i]`; `describeMaps` adds what defines
 * the maps to {@link Benchmark.describe}, `extra` adds fields (permutations, rotations) to the benchmark.
 */
export function mappedMnist(
  kind: BenchmarkKind,
  name: string,
  options: MappedMnistOptions,
  maps: Int32Array[],
  mapParams: (index: number) => Record<string, unknown>,
  describeMaps: Record<string, unknown>,
  extra: Partial<Benchmark>,
): Benchmark {
  const { nExperiences, returnTaskId = false, seed, train, test } = options;
  const baseTrain = loadMnist({ split: 'train', normalize: 'unit', ...(train !== undefined ? { limit: train } : {}) });
  const baseTest = loadMnist({ split: 'test', normalize: 'unit', ...(test !== undefined ? { limit: test } : {}) });
  const classes = Array.from({ length: 10 }, (_, d) => d);
  let experiences: Experience[] = maps.map((map, index) => ({
    index,
    taskLabel: returnTaskId ? index : 0,
    classes: [...classes],
    train: new PixelMapDataset(baseTrain, map, `${name}-train/${index}`, mapParams(index)),
    test: new PixelMapDataset(baseTest, map, `${name}-test/${index}`, mapParams(index)),
  }));
  return {
    name,
    kind,
    get experiences() {
      return experiences;
    },
    classOrder: classes,
    nClassesPerExperience: 10,
    nClasses: 10,
    seed,
    ...extra,
    describe: () => ({
      name,
      kind,
      seed,
      nExperiences,
      returnTaskId,
      classOrder: classes,
      normalize: 'unit',
      ...(train !== undefined ? { train } : {}),
      ...(test !== undefined ? { test } : {}),
      ...describeMaps,
      experiences: describeExperiences(experiences),
    }),
    dispose: () => {
      experiences = [];
    },
  };
}
