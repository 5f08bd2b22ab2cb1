/**
 * The Tree-structured Parzen Estimator, TPE (Bergstra et al. 2011, "Algorithms for
 * Hyper-Parameter Optimization", NeurIPS, §4), with independent dimensions as in the paper.
 *
 * The first `nStartup` trials are random. After that, the completed trials are split by their
 * objective: the best ⌈γ·n⌉ (at least one, at most n − 1) are "good", the rest "bad". Per dimension,
 * a Parzen estimator l(x) is fitted to the good trials' values and g(x) to the bad ones'
 * (`parzen.ts`: truncated Gaussians in the dimension's unit scale — log for log dimensions —, or
 * smoothed frequencies for categories). `nCandidates` points are drawn from l, and the one with
 * the highest l(x)/g(x), which maximises expected improvement under the paper's model (§4.1), is the
 * next trial.
 *
 * No npm package does TPE for Node (checked: `hyperopt` on npm is an unrelated native optimiser
 * library), hence this implementation. Trials still running are not imputed (no "constant liar"),
 * so with several trials at once the proposals depend on which results have arrived.
 */
import { categoryIndex, fromUnit, isCategorical, sample, toUnit, type Params } from '../space.js';
import { SweepRandom } from '../seeded-random.js';
import { lossOf, type AlgorithmContext, type Decision, type SegmentResult } from './algorithm.js';
import { OneShotSearch } from './one-shot.js';
import { categoricalParzen, logDensity, numericParzen, sampleParzen, type CategoricalParzen, type NumericParzen } from './parzen.js';

/** TPE's options (Optuna's and hyperopt's names in camelCase). */
export interface TpeOptions {
  /** Random trials before the model is used. Default 10. */
  nStartup?: number;
  /** Candidates drawn from l(x) per proposal. Default 24. */
  nCandidates?: number;
  /** γ: the fraction of completed trials counted as good. Default 0.25. */
  gamma?: number;
  /** The prior's weight in each estimator (observations weigh 1). Default 1. */
  priorWeight?: number;
}

/** TPE over `ctx.trials` trials. */
export class Tpe extends OneShotSearch {
  readonly name = 'tpe';
  readonly options: Required<TpeOptions>;
  private readonly rng: SweepRandom;
  private readonly params = new Map<string, Params>();
  private readonly observations: Array<{ trialId: string; params: Params; loss: number }> = [];

  constructor(ctx: AlgorithmContext, options: TpeOptions = {}) {
    super(ctx);
    this.options = { nStartup: options.nStartup ?? 10, nCandidates: options.nCandidates ?? 24, gamma: options.gamma ?? 0.25, priorWeight: options.priorWeight ?? 1 };
    const { nStartup, nCandidates, gamma, priorWeight } = this.options;
    if (!(Number.isInteger(nStartup) && nStartup >= 0)) throw new RangeError(`tpe: nStartup must be a non-negative integer, got ${nStartup}`);
    if (!(Number.isInteger(nCandidates) && nCandidates >= 1)) throw new RangeError(`tpe: nCandidates must be a positive integer, got ${nCandidates}`);
    if (!(gamma > 0 && gamma < 1)) throw new RangeError(`tpe: gamma must be in (0, 1), got ${gamma}`);
    if (!(priorWeight > 0)) throw new RangeError(`tpe: priorWeight must be positive, got ${priorWeight}`);
    this.rng = new SweepRandom(ctx.seed).fork('tpe');
  }

  protected override observe(result: SegmentResult): void {
    const loss = lossOf(this.ctx.objective, result.metrics);
    const params = this.params.get(result.trialId);
    if (loss !== undefined && params) this.observations.push({ trialId: result.trialId, params, loss });
  }

  protected propose(index: number, trialId: string): { params: Params; decisions?: Decision[] } {
    const rng = this.rng.fork(trialId);
    const n = this.observations.length;
    if (index < this.options.nStartup || n < 2) {
      const params = sample(this.ctx.space, rng);
      this.params.set(trialId, params);
      return { params };
    }
    const sorted = [...this.observations].sort((a, b) => a.loss - b.loss || (a.trialId < b.trialId ? -1 : 1));
    const nGood = Math.min(n - 1, Math.max(1, Math.ceil(this.options.gamma * n)));
    const good = sorted.slice(0, nGood);
    const bad = sorted.slice(nGood);
    const dims = this.ctx.space.dimensions;
    const models = dims.map((dim) => {
      const fit = (group: typeof sorted): NumericParzen | CategoricalParzen =>
        isCategorical(dim)
          ? categoricalParzen(group.map((o) => categoryIndex(dim, o.params[dim.key])).filter((i) => i >= 0), dim.values.length, this.options.priorWeight)
          : numericParzen(group.map((o) => toUnit(dim, o.params[dim.key])), this.options.priorWeight);
      return { l: fit(good), g: fit(bad) };
    });
    let best: number[] = [];
    let bestScore = -Infinity;
    for (let c = 0; c < this.options.nCandidates; c++) {
      const x = models.map((m) => sampleParzen(m.l, rng));
      const score = x.reduce((sum, xi, d) => sum + logDensity(models[d].l, xi) - logDensity(models[d].g, xi), 0);
      if (score > bestScore) [best, bestScore] = [x, score];
    }
    const params: Params = {};
    dims.forEach((dim, d) => {
      params[dim.key] = isCategorical(dim) ? dim.values[best[d]] : fromUnit(dim, best[d]);
    });
    this.params.set(trialId, params);
    const decision: Decision = {
      kind: 'suggest',
      trialId,
      at: this.told,
      params,
      reason: `best of ${this.options.nCandidates} candidates drawn from l(x) by log l(x)/g(x) = ${bestScore.toFixed(3)}, with ${n} completed trials split into ${nGood} good and ${n - nGood} bad (γ = ${this.options.gamma})`,
    };
    return { params, decisions: [decision] };
  }
}
