/**
 * Grid search: every combination of the space's `grid` dimensions, once each, in nested-loop
 * order (first key slowest); the other dimensions are sampled per trial as in random search.
 * `trials` defaults to the number of combinations; more trials repeat the grid (with fresh samples
 * of the other dimensions), fewer run the first combinations only.
 */
import { gridPoints, sample, type Params } from '../space.js';
import { SweepRandom } from '../seeded-random.js';
import type { AlgorithmContext } from './algorithm.js';
import { OneShotSearch } from './one-shot.js';

/** Grid search; `ctx.trials` as resolved by the factory (the grid's size unless given). */
export class GridSearch extends OneShotSearch {
  readonly name = 'grid';
  readonly options: Record<string, unknown>;
  private readonly points: Params[];
  private readonly rng: SweepRandom;

  constructor(ctx: AlgorithmContext) {
    super(ctx);
    this.points = gridPoints(ctx.space);
    this.rng = new SweepRandom(ctx.seed).fork('grid');
    this.options = { gridSize: this.points.length };
  }

  protected propose(index: number, trialId: string): { params: Params } {
    const point = this.points[index % this.points.length];
    return { params: { ...sample(this.ctx.space, this.rng.fork(trialId)), ...point } };
  }
}
