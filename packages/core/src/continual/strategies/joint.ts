/**
 * Joint training: one model trained once on the union of all experiences — the upper bound
 * ("Joint" in van de Ven & Tolias 2019, arXiv:1904.07734; Avalanche's `JointTraining`).
 *
 * There is one training phase (all data, with every row's units as after the last experience,
 * for `iterations × T` steps, or `epochs` over the union), evaluated once; the accuracy matrix
 * repeats that one row T times, so BWT and forgetting are 0 by construction and FWT compares
 * the joint model with the random initialisation.
 */
import type { Strategy, StrategyContext } from '../strategy.js';
import type { SamplePool } from '../rows.js';
import { concatPools } from './pools.js';

/** The joint strategy. */
export function jointStrategy(config: Record<string, unknown>, ctx: StrategyContext): Strategy {
  return {
    name: 'joint',
    config,
    joint: true,
    trainingPool: (): SamplePool => concatPools(ctx.benchmark.experiences.map((_, i) => ctx.rows.experiencePool(i))),
    dispose: () => undefined,
  };
}
