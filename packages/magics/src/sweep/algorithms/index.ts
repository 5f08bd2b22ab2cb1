/**
 * The search algorithms of `%%sweep`, by name, and the JSON Schema of the cell's `algorithm:`
 * section:
 *
 * ```yaml
 * algorithm: random                       # grid | random | asha | pbt | tpe, default options
 * algorithm: { name: asha, gracePeriod: 1, reductionFactor: 3, maxT: 27 }
 * algorithm: { name: pbt, perturbationInterval: 2, maxT: 10, quantileFraction: 0.25, resampleProbability: 0.25 }
 * algorithm: { name: tpe, nStartup: 10, nCandidates: 24, gamma: 0.25, priorWeight: 1 }
 * ```
 *
 * See `algorithm.ts` for the interface they share.
 */
import type { JsonSchema } from '../../config/yaml-config.js';
import { gridPoints, type SearchSpace } from '../space.js';
import type { Objective, SearchAlgorithm } from './algorithm.js';
import { Asha, type AshaOptions } from './asha.js';
import { GridSearch } from './grid.js';
import { Pbt, type PbtOptions } from './pbt.js';
import { RandomSearch } from './random.js';
import { Tpe, type TpeOptions } from './tpe.js';

export * from './algorithm.js';
export { Asha, rungBudgets, type AshaOptions } from './asha.js';
export { GridSearch } from './grid.js';
export { Pbt, explore, type PbtOptions, type ExploreChange } from './pbt.js';
export { RandomSearch } from './random.js';
export { Tpe, type TpeOptions } from './tpe.js';

/** The algorithms' names. */
export const ALGORITHM_NAMES = ['grid', 'random', 'asha', 'pbt', 'tpe'] as const;
/** One algorithm's name. */
export type AlgorithmName = (typeof ALGORITHM_NAMES)[number];

/** The `algorithm:` section: a name alone, or a name with options. */
export type AlgorithmConfig =
  | AlgorithmName
  | { name: 'grid' }
  | { name: 'random' }
  | ({ name: 'asha' } & AshaOptions)
  | ({ name: 'pbt' } & PbtOptions)
  | ({ name: 'tpe' } & TpeOptions);

/** What the factory needs besides the algorithm's own options. */
export interface CreateAlgorithmOptions {
  /** The sweep's seed. */
  seed: number;
  /**
   * How many trials (configurations; PBT: the population). Required except for grid, where it
   * defaults to the number of grid combinations.
   */
  trials?: number;
}

const positive = (description: string): JsonSchema => ({ type: 'number', exclusiveMinimum: 0, description });
const name = (value: AlgorithmName): JsonSchema => ({ const: value });

const optionsByName: Record<AlgorithmName, { properties: Record<string, JsonSchema>; required?: string[] }> = {
  grid: { properties: {} },
  random: { properties: {} },
  asha: {
    properties: {
      gracePeriod: positive('the budget of rung 0, r, in units of the resource, a positive number (default 1)'),
      reductionFactor: { type: 'number', exclusiveMinimum: 1, description: 'η: each rung keeps the top 1/η, a number greater than 1 (default 3)' },
      maxT: positive('the most a trial trains, in units of the resource, a positive number (default 81)'),
    },
  },
  pbt: {
    properties: {
      perturbationInterval: positive('units of the resource between perturbations, a positive number'),
      maxT: positive('the most a member trains, in units of the resource (default 10 intervals)'),
      quantileFraction: { type: 'number', minimum: 0, maximum: 0.5, description: 'the fraction copied from (top) and to (bottom), a number in [0, 0.5] (default 0.25)' },
      resampleProbability: { type: 'number', minimum: 0, maximum: 1, description: 'the probability of resampling instead of perturbing, a number in [0, 1] (default 0.25)' },
      perturbationFactors: { type: 'array', items: positive('a positive factor'), minItems: 1, description: 'factors a number is multiplied by, a non-empty list of positive numbers (default [1.2, 0.8])' },
      burnInPeriod: { type: 'number', minimum: 0, description: 'no exploit before this many units, a number ≥ 0 (default 0)' },
      mutate: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, description: 'the keys of the space explore may change (default all; leave out keys that change shapes), a list of keys' },
    },
    required: ['perturbationInterval'],
  },
  tpe: {
    properties: {
      nStartup: { type: 'integer', minimum: 0, description: 'random trials before the model is used, an integer ≥ 0 (default 10)' },
      nCandidates: { type: 'integer', minimum: 1, description: 'candidates drawn per proposal, a positive integer (default 24)' },
      gamma: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, description: 'the fraction of trials counted as good, a number in (0, 1) (default 0.25)' },
      priorWeight: positive('the prior’s weight in each estimator, a positive number (default 1)'),
    },
  },
};

/**
 * JSON Schema (draft 2020-12) of the `algorithm:` section: a name, or `{ name, …options }` with
 * the named algorithm's options only (so a misspelt option is reported with the closest name).
 */
export const algorithmSchema: JsonSchema = {
  type: ['string', 'object'],
  description: `the search algorithm: ${ALGORITHM_NAMES.join(', ')}, or { name: …, options }`,
  if: { type: 'string' },
  then: { enum: [...ALGORITHM_NAMES] },
  else: {
    type: 'object',
    required: ['name'],
    properties: { name: { enum: [...ALGORITHM_NAMES], description: `the algorithm (${ALGORITHM_NAMES.join(', ')})` } },
    allOf: ALGORITHM_NAMES.map((algorithm) => ({
      if: { properties: { name: name(algorithm) }, required: ['name'] },
      then: {
        properties: { name: name(algorithm), ...optionsByName[algorithm].properties },
        required: optionsByName[algorithm].required ?? [],
        additionalProperties: false,
      },
    })),
  },
};

/**
 * The algorithm `config` names, over `space`, optimising `objective`. Throws a RangeError naming
 * the option when an option is out of range, or when `trials` is missing (except for grid).
 */
export function createAlgorithm(config: AlgorithmConfig, space: SearchSpace, objective: Objective, options: CreateAlgorithmOptions): SearchAlgorithm {
  const { name: algorithm, ...rest } = typeof config === 'string' ? { name: config } : config;
  const trials = options.trials ?? (algorithm === 'grid' ? gridPoints(space).length : undefined);
  if (trials === undefined || !(Number.isInteger(trials) && trials > 0)) {
    throw new RangeError(`${algorithm}: the number of trials must be a positive integer, got ${String(trials)}`);
  }
  const ctx = { space, objective, trials, seed: options.seed };
  switch (algorithm) {
    case 'grid':
      return new GridSearch(ctx);
    case 'random':
      return new RandomSearch(ctx);
    case 'asha':
      return new Asha(ctx, rest as AshaOptions);
    case 'pbt':
      return new Pbt(ctx, rest as PbtOptions);
    case 'tpe':
      return new Tpe(ctx, rest as TpeOptions);
    default:
      throw new RangeError(`unknown algorithm "${String(algorithm)}" (${ALGORITHM_NAMES.join(', ')})`);
  }
}
