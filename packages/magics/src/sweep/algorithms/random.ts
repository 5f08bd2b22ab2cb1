/**
 * Random search (Bergstra & Bengio 2012, "Random Search for Hyper-Parameter Optimization",
 * JMLR 13): every trial's hyperparameters drawn independently from the space (`grid` dimensions
 * sampled like `choice`). Each trial draws from its own stream, derived from the sweep's seed and
 * its trialId, so trial `t007` gets the same values however the sweep is run.
 */
import { sample, type Params } from '../space.js';
import { SweepRandom } from '../seeded-random.js';
import type { AlgorithmContext } from './algorithm.js';
import { OneShotSearch } from './one-shot.js';

/** Random search over `ctx.trials` trials. */
export class RandomSearch extends OneShotSearch {
  readonly name = 'random';
  readonly options: Record<string, unknown> = {};
  private readonly rng: SweepRandom;

  constructor(ctx: AlgorithmContext) {
    super(ctx);
    this.rng = new SweepRandom(ctx.seed).fork('random');
  }

  protected propose(_index: number, trialId: string): { params: Params } {
    return { params: sample(this.ctx.space, this.rng.fork(trialId)) };
  }
}
