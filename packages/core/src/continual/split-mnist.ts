/**
 * Split MNIST: the ten digits divided into `nExperiences` groups, one experience each, in a class
 * order drawn from the seed — as Avalanche's `SplitMNIST` (`avalanche/benchmarks/classic/cmnist.py`)
 * and van de Ven & Tolias (2019), "Three scenarios for continual learning", arXiv:1904.07734, who
 * permute the labels per seed (`data.py`, `np.random.permutation(list(range(10)))`).
 *
 * Pixels are scaled to [0, 1] with no normalisation, as van de Ven's `mnist28` transform
 * (`ToTensor()` only).
 */
import { Rng } from '../random.js';
import { loadMnist } from '../data/mnist.js';
import { checkExperiences, checkLimit, describeExperiences, type Benchmark, type Experience } from './benchmark.js';

/** Options of {@link splitMnist} (Avalanche's `SplitMNIST` arguments in camelCase). */
export interface SplitMnistOptions {
  /** Number of experiences; must divide 10. Default 5. */
  nExperiences?: number;
  /** Give experience i the task label i (Avalanche's `return_task_id`); needed by the task scenario. Default false. */
  returnTaskId?: boolean;
  /** Use this order of the ten digits instead of drawing one (the seed is then unused for it). */
  fixedClassOrder?: number[];
  /** Seed of the class order. */
  seed: number;
  /** Keep at most the first N training images of each experience (default all). */
  train?: number;
  /** Keep at most the first N test images of each experience (default all). */
  test?: number;
}

/** The class order of a split stream: `fixedClassOrder`, checked, or a permutation drawn from the seed. */
export function splitClassOrder(seed: number, fixedClassOrder?: number[]): number[] {
  if (fixedClassOrder === undefined) return Array.from(new Rng(seed).fork('class-order').permutation(10));
  const sorted = [...fixedClassOrder].sort((a, b) => a - b);
  if (!Array.isArray(fixedClassOrder) || sorted.length !== 10 || sorted.some((d, i) => d !== i)) {
    throw new Error(`splitMnist: fixedClassOrder must be the digits 0–9 each once, got [${String(fixedClassOrder)}]`);
  }
  return [...fixedClassOrder];
}

/** Builds Split MNIST (see the file comment). */
export function splitMnist(options: SplitMnistOptions): Benchmark {
  const { nExperiences = 5, returnTaskId = false, fixedClassOrder, seed, train, test } = options;
  checkExperiences('splitMnist', nExperiences, 10);
  if (10 % nExperiences !== 0) throw new Error(`splitMnist: nExperiences must divide 10, got ${nExperiences}`);
  if (!Number.isInteger(seed)) throw new Error(`splitMnist: seed must be an integer, got ${seed}`);
  checkLimit('splitMnist', 'train', train);
  checkLimit('splitMnist', 'test', test);
  const classOrder = splitClassOrder(seed, fixedClassOrder);
  const per = 10 / nExperiences;
  let experiences: Experience[] = Array.from({ length: nExperiences }, (_, index) => {
    const classes = classOrder.slice(index * per, (index + 1) * per);
    return {
      index,
      taskLabel: returnTaskId ? index : 0,
      classes,
      train: loadMnist({ split: 'train', normalize: 'unit', digits: classes, ...(train !== undefined ? { limit: train } : {}) }),
      test: loadMnist({ split: 'test', normalize: 'unit', digits: classes, ...(test !== undefined ? { limit: test } : {}) }),
    };
  });
  return {
    name: 'split-mnist',
    kind: 'split',
    get experiences() {
      return experiences;
    },
    classOrder,
    nClassesPerExperience: per,
    nClasses: 10,
    seed,
    describe: () => ({
      name: 'split-mnist',
      kind: 'split',
      seed,
      nExperiences,
      returnTaskId,
      classOrder,
      fixedClassOrder: fixedClassOrder !== undefined,
      normalize: 'unit',
      ...(train !== undefined ? { train } : {}),
      ...(test !== undefined ? { test } : {}),
      experiences: describeExperiences(experiences),
    }),
    dispose: () => {
      experiences = [];
    },
  };
}
