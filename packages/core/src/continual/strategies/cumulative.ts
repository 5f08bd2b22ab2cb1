/**
 * Cumulative training: experience i trains on the training sets of experiences 0…i together
 * (Avalanche's `Cumulative`; van de Ven & Tolias's "offline" replay, arXiv:1904.07734). Each row
 * trains over its own experience's units in the task scenario and the units seen so far in the
 * class scenario.
 */
import type { Strategy, StrategyContext } from '../strategy.js';
import { concatPools } from './pools.js';

/** The cumulative strategy. */
export function cumulativeStrategy(config: Record<string, unknown>, ctx: StrategyContext): Strategy {
  return {
    name: 'cumulative',
    config,
    trainingPool: (experience) => concatPools(Array.from({ length: experience + 1 }, (_, i) => ctx.rows.experiencePool(i))),
    dispose: () => undefined,
  };
}
