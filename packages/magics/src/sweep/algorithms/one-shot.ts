/**
 * The shared shape of algorithms whose trials run once, to the config's own length (grid, random,
 * TPE): `trials` trials, one segment each, proposed in trialId order; the subclass chooses each
 * trial's hyperparameters.
 */
import type { Params } from '../space.js';
import { trialIdOf } from '../seeded-random.js';
import type { AlgorithmContext, Decision, SearchAlgorithm, SegmentResult, TrialPlan } from './algorithm.js';

/** A search whose trials each run one segment. */
export abstract class OneShotSearch implements SearchAlgorithm {
  abstract readonly name: string;
  abstract readonly options: Record<string, unknown>;
  /** Trials proposed so far. */
  protected started = 0;
  /** Segment results told so far (the decisions' clock). */
  protected told = 0;

  constructor(protected readonly ctx: AlgorithmContext) {}

  /** The hyperparameters of the `index`-th trial. */
  protected abstract propose(index: number, trialId: string): { params: Params; decisions?: Decision[] };

  next(): TrialPlan | 'done' {
    if (this.started >= this.ctx.trials) return 'done';
    const index = this.started++;
    const trialId = trialIdOf(index);
    const { params, decisions } = this.propose(index, trialId);
    return decisions?.length ? { trialId, segment: 0, params, decisions } : { trialId, segment: 0, params };
  }

  tell(result: SegmentResult): Decision[] {
    this.told++;
    this.observe(result);
    return [];
  }

  fail(trialId: string, segment: number, message: string): Decision[] {
    this.told++;
    return [{ kind: 'failed', trialId, at: this.told, reason: `segment ${segment} failed: ${message}` }];
  }

  /** Records a result (model-based searches learn from it). */
  protected observe(_result: SegmentResult): void {}
}
