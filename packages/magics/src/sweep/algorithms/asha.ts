/**
 * Asynchronous successive halving, ASHA (Li et al. 2020, "A System for Massively Parallel
 * Hyperparameter Tuning", MLSys; Algorithm 2 with minimum early-stopping rate s = 0).
 *
 * Rung k trains to r·η^k units of the resource (r = `gracePeriod`, η = `reductionFactor`), for
 * k = 0 … K with K = ⌊log_η(maxT / r)⌋; the top rung trains to `maxT` exactly. Whenever a slot
 * frees, the published rule applies: from the highest rung k < K down to 0, promote a
 * configuration that is among the top ⌊n_k / η⌋ of the n_k results completed at rung k and has not
 * been promoted from it yet (the best such one); if none is promotable, start a new configuration
 * at rung 0, until `trials` configurations have started. A promoted trial keeps its trialId and
 * runs its next segment (segment k + 1 at rung k + 1) from its own checkpoint.
 *
 * In the asynchronous rule no trial is ever stopped outright (a later result can lift a trial into
 * the top 1/η); so `stop` decisions are recorded when the sweep ends, for every trial that ended
 * below the top rung. Ties in the ranking go to the result that arrived first.
 */
import { sample, type Params } from '../space.js';
import { compareTrialIds, SweepRandom, trialIdOf } from '../seeded-random.js';
import { lossOf, type AlgorithmContext, type Decision, type SearchAlgorithm, type SegmentResult, type TrialPlan } from './algorithm.js';

/** ASHA's options (Ray Tune's names in camelCase; Ray's defaults, except η = 3 as in the paper's examples). */
export interface AshaOptions {
  /** r: the budget of rung 0, in units of the sweep's resource. Default 1. */
  gracePeriod?: number;
  /** η: keep the top 1/η of each rung. Default 3. */
  reductionFactor?: number;
  /** R: the most any trial trains. Default 81. */
  maxT?: number;
}

interface RungEntry {
  trialId: string;
  loss: number;
  /** The metric as reported, for the record. */
  value: number;
}

/** The rung budgets r·η^k, k = 0 … ⌊log_η(maxT/r)⌋, the last one replaced by maxT. */
export function rungBudgets(gracePeriod: number, reductionFactor: number, maxT: number): number[] {
  const budgets: number[] = [];
  for (let b = gracePeriod; b <= maxT * (1 + 1e-12); b *= reductionFactor) budgets.push(b);
  budgets[budgets.length - 1] = maxT;
  return budgets;
}

/** ASHA over `ctx.trials` configurations. */
export class Asha implements SearchAlgorithm {
  readonly name = 'asha';
  readonly options: Required<AshaOptions> & { rungBudgets: number[] };
  private readonly rungs: RungEntry[][];
  private readonly promoted: Array<Set<string>>;
  private readonly params = new Map<string, Params>();
  /** Each trial's highest completed rung (-1 while its first segment runs). */
  private readonly reached = new Map<string, number>();
  private readonly running = new Set<string>();
  private readonly failed = new Set<string>();
  private readonly rng: SweepRandom;
  private started = 0;
  private told = 0;

  constructor(private readonly ctx: AlgorithmContext, options: AshaOptions = {}) {
    const gracePeriod = options.gracePeriod ?? 1;
    const reductionFactor = options.reductionFactor ?? 3;
    const maxT = options.maxT ?? 81;
    if (!(gracePeriod > 0)) throw new RangeError(`asha: gracePeriod must be positive, got ${gracePeriod}`);
    if (!(reductionFactor > 1)) throw new RangeError(`asha: reductionFactor must be greater than 1, got ${reductionFactor}`);
    if (!(maxT >= gracePeriod)) throw new RangeError(`asha: maxT (${maxT}) must be at least gracePeriod (${gracePeriod})`);
    const budgets = rungBudgets(gracePeriod, reductionFactor, maxT);
    this.options = { gracePeriod, reductionFactor, maxT, rungBudgets: budgets };
    this.rungs = budgets.map(() => []);
    this.promoted = budgets.map(() => new Set());
    this.rng = new SweepRandom(ctx.seed).fork('asha');
  }

  private get top(): number {
    return this.rungs.length - 1;
  }

  /** Rung k's results, best first (ties: arrival order). */
  private ranked(k: number): RungEntry[] {
    return this.rungs[k].map((entry, order) => ({ entry, order })).sort((a, b) => a.entry.loss - b.entry.loss || a.order - b.order).map(({ entry }) => entry);
  }

  next(): TrialPlan | 'wait' | 'done' {
    const eta = this.options.reductionFactor;
    for (let k = this.top - 1; k >= 0; k--) {
      const ranked = this.ranked(k);
      const keep = Math.floor(ranked.length / eta);
      const index = ranked.slice(0, keep).findIndex((entry) => !this.promoted[k].has(entry.trialId));
      if (index < 0) continue;
      const entry = ranked[index];
      this.promoted[k].add(entry.trialId);
      this.running.add(entry.trialId);
      const budget = this.options.rungBudgets[k + 1];
      const decision: Decision = {
        kind: 'promote',
        trialId: entry.trialId,
        at: this.told,
        rung: k + 1,
        budget,
        value: entry.value,
        reason: `ranked ${index + 1} of ${ranked.length} at rung ${k} (${this.ctx.objective.metric} ${entry.value}), within the top ⌊${ranked.length}/${eta}⌋ = ${keep}: promoted to rung ${k + 1} (budget ${budget})`,
      };
      return { trialId: entry.trialId, segment: k + 1, params: this.params.get(entry.trialId)!, budget, resumeFrom: { trialId: entry.trialId, segment: k }, decisions: [decision] };
    }
    if (this.started < this.ctx.trials) {
      const trialId = trialIdOf(this.started++);
      const params = sample(this.ctx.space, this.rng.fork(trialId));
      this.params.set(trialId, params);
      this.reached.set(trialId, -1);
      this.running.add(trialId);
      return { trialId, segment: 0, params, budget: this.options.rungBudgets[0] };
    }
    return this.running.size > 0 ? 'wait' : 'done';
  }

  tell(result: SegmentResult): Decision[] {
    this.told++;
    this.running.delete(result.trialId);
    const k = result.segment;
    const loss = lossOf(this.ctx.objective, result.metrics);
    if (loss === undefined) {
      this.failed.add(result.trialId);
      return [{ kind: 'stop', trialId: result.trialId, at: this.told, rung: k, reason: `its result at rung ${k} has no finite "${this.ctx.objective.metric}", so it cannot be ranked` }];
    }
    this.reached.set(result.trialId, k);
    this.rungs[k].push({ trialId: result.trialId, loss, value: result.metrics[this.ctx.objective.metric] });
    return [];
  }

  fail(trialId: string, segment: number, message: string): Decision[] {
    this.told++;
    this.running.delete(trialId);
    this.failed.add(trialId);
    return [{ kind: 'failed', trialId, at: this.told, rung: segment, reason: `its segment at rung ${segment} failed: ${message}` }];
  }

  finish(): Decision[] {
    const eta = this.options.reductionFactor;
    const decisions: Decision[] = [];
    for (const [trialId, k] of this.reached) {
      if (k < 0 || k >= this.top || this.failed.has(trialId) || this.promoted[k].has(trialId)) continue;
      const ranked = this.ranked(k);
      const place = ranked.findIndex((entry) => entry.trialId === trialId);
      decisions.push({
        kind: 'stop',
        trialId,
        at: this.told,
        rung: k,
        budget: this.options.rungBudgets[k],
        value: ranked[place].value,
        reason: `ranked ${place + 1} of ${ranked.length} at rung ${k}, outside the top ⌊${ranked.length}/${eta}⌋ = ${Math.floor(ranked.length / eta)}: not promoted when the sweep ended`,
      });
    }
    return decisions.sort((a, b) => compareTrialIds(a.trialId, b.trialId));
  }
}
