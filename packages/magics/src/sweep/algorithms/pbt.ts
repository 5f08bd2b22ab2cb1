/**
 * Population Based Training (Jaderberg et al. 2017, "Population Based Training of Neural
 * Networks", arXiv 1711.09846), asynchronous as Ray Tune's `synch=False`.
 *
 * The population is `trials` members (`t000` …), each trained in segments of
 * `perturbationInterval` units of the resource up to `maxT` (segment s trains to
 * min((s + 1)·interval, maxT), resuming from a checkpoint). When a member finishes segment s
 * (and has trained at least `burnInPeriod` units), it is ranked among the members that have
 * finished segment s too, by their score *at segment s* — so members are compared at equal
 * training, never a well-trained member against a fresh one. With n such members, the top and
 * bottom quantiles hold q = ⌈n·quantileFraction⌉ members (at most ⌊n/2⌋; n < 2 ranks nobody).
 * A member in the bottom quantile
 *
 * - **exploits**: its next segment starts from the checkpoint and hyperparameters that a member of
 *   the top quantile, chosen uniformly, had at segment s;
 * - **explores**: each hyperparameter is then, with probability `resampleProbability`, drawn anew
 *   from the space; else a number is multiplied by one of `perturbationFactors` (chosen uniformly)
 *   and clipped to its bounds (integers rounded), and a `choice`/`grid` value moves to a
 *   neighbouring value in the order written (clipped at the ends).
 *
 * Any other member continues from its own checkpoint unchanged. The first member to reach a
 * segment has nobody to be compared with yet, so it always continues: the asynchronous variant's
 * price for never waiting. The next segment to run is always the least-trained member's (ties:
 * lowest trialId), so with one trial at a time the population advances in lock step.
 */
import { categoryIndex, clipToBounds, isCategorical, sample, sampleDimension, type Params, type SearchSpace } from '../space.js';
import { compareTrialIds, SweepRandom, trialIdOf } from '../seeded-random.js';
import { lossOf, type AlgorithmContext, type Decision, type SearchAlgorithm, type SegmentRef, type SegmentResult, type TrialPlan } from './algorithm.js';

/** PBT's options (Ray Tune's names in camelCase, and its defaults). */
export interface PbtOptions {
  /** Units of the resource per segment (Ray: `perturbation_interval`). Required. */
  perturbationInterval: number;
  /** The most any member trains, in units of the resource. Default: 10 intervals. */
  maxT?: number;
  /** The fraction of the population copied from (top) and to (bottom), in (0, 0.5]. Default 0.25. */
  quantileFraction?: number;
  /** The probability of resampling a hyperparameter instead of perturbing it. Default 0.25. */
  resampleProbability?: number;
  /** The factors a numeric hyperparameter is multiplied by. Default [1.2, 0.8]. */
  perturbationFactors?: number[];
  /** No exploit before a member has trained this many units. Default 0. */
  burnInPeriod?: number;
  /**
   * The keys explore may change (Ray: the keys of `hyperparam_mutations`). Default: every key of
   * the space. Leave out keys that change shapes (a layer's width, a LoRA rank): a copied
   * checkpoint only fits a model of the same shape. The others are still sampled per member and
   * copied by exploit.
   */
  mutate?: string[];
}

/** One change made by {@link explore}. */
export interface ExploreChange {
  key: string;
  before: unknown;
  after: unknown;
  how: 'resampled' | 'scaled' | 'shifted';
}

/**
 * PBT's explore step: a perturbed copy of `params` (every dimension of `space`), and what changed.
 */
export function explore(space: SearchSpace, params: Params, rng: SweepRandom, options: { resampleProbability: number; perturbationFactors: readonly number[]; mutate?: readonly string[] }): { params: Params; changes: ExploreChange[] } {
  const out: Params = { ...params };
  const changes: ExploreChange[] = [];
  for (const dim of space.dimensions) {
    if (options.mutate && !options.mutate.includes(dim.key)) continue;
    const before = params[dim.key];
    let after: unknown;
    let how: ExploreChange['how'];
    const index = isCategorical(dim) ? categoryIndex(dim, before) : 0;
    if (rng.uniform() < options.resampleProbability || index < 0 || (!isCategorical(dim) && typeof before !== 'number')) {
      after = sampleDimension(dim, rng);
      how = 'resampled';
    } else if (isCategorical(dim)) {
      const shift = rng.uniform() < 0.5 ? -1 : 1;
      after = dim.values[Math.min(dim.values.length - 1, Math.max(0, index + shift))];
      how = 'shifted';
    } else {
      after = clipToBounds(dim, (before as number) * rng.pick(options.perturbationFactors));
      how = 'scaled';
    }
    out[dim.key] = after;
    changes.push({ key: dim.key, before, after, how });
  }
  return { params: out, changes };
}

interface Member {
  trialId: string;
  /** The hyperparameters each segment ran with. */
  params: Params[];
  /** Each finished segment's loss and metric value. */
  scores: Array<{ loss: number; value: number }>;
  state: 'running' | 'ready' | 'done' | 'failed';
  /** The next segment's start, decided when the last one finished. */
  nextPlan?: { params: Params; resumeFrom: SegmentRef };
}

/** Asynchronous PBT over a population of `ctx.trials` members. */
export class Pbt implements SearchAlgorithm {
  readonly name = 'pbt';
  readonly options: Required<PbtOptions>;
  private readonly members: Member[] = [];
  private readonly rng: SweepRandom;
  private told = 0;

  constructor(private readonly ctx: AlgorithmContext, options: PbtOptions) {
    const interval = options.perturbationInterval;
    if (!(interval > 0)) throw new RangeError(`pbt: perturbationInterval must be positive, got ${interval}`);
    const resolved = {
      perturbationInterval: interval,
      maxT: options.maxT ?? 10 * interval,
      quantileFraction: options.quantileFraction ?? 0.25,
      resampleProbability: options.resampleProbability ?? 0.25,
      perturbationFactors: options.perturbationFactors ?? [1.2, 0.8],
      burnInPeriod: options.burnInPeriod ?? 0,
      mutate: options.mutate ?? ctx.space.dimensions.map((d) => d.key),
    };
    const keys = ctx.space.dimensions.map((d) => d.key);
    for (const key of resolved.mutate) if (!keys.includes(key)) throw new RangeError(`pbt: mutate names "${key}", which is not a key of the space (${keys.join(', ')})`);
    if (!(resolved.quantileFraction >= 0 && resolved.quantileFraction <= 0.5)) throw new RangeError(`pbt: quantileFraction must be in [0, 0.5], got ${resolved.quantileFraction}`);
    if (!(resolved.resampleProbability >= 0 && resolved.resampleProbability <= 1)) throw new RangeError(`pbt: resampleProbability must be in [0, 1], got ${resolved.resampleProbability}`);
    if (resolved.perturbationFactors.length === 0) throw new RangeError('pbt: perturbationFactors must not be empty');
    if (!(resolved.maxT > 0)) throw new RangeError(`pbt: maxT must be positive, got ${resolved.maxT}`);
    this.options = resolved;
    this.rng = new SweepRandom(ctx.seed).fork('pbt');
  }

  /** Segment s's budget: the end of its interval, capped at maxT. */
  budgetOf(segment: number): number {
    return Math.min((segment + 1) * this.options.perturbationInterval, this.options.maxT);
  }

  private member(trialId: string): Member {
    const found = this.members.find((m) => m.trialId === trialId);
    if (!found) throw new Error(`pbt: unknown trial ${trialId}`);
    return found;
  }

  next(): TrialPlan | 'wait' | 'done' {
    if (this.members.length < this.ctx.trials) {
      const trialId = trialIdOf(this.members.length);
      const params = sample(this.ctx.space, this.rng.fork(trialId));
      this.members.push({ trialId, params: [params], scores: [], state: 'running' });
      return { trialId, segment: 0, params, budget: this.budgetOf(0) };
    }
    const ready = this.members.filter((m) => m.state === 'ready').sort((a, b) => a.scores.length - b.scores.length || compareTrialIds(a.trialId, b.trialId));
    if (ready.length > 0) {
      const member = ready[0];
      const segment = member.scores.length;
      const plan = member.nextPlan!;
      member.params[segment] = plan.params;
      member.state = 'running';
      member.nextPlan = undefined;
      return { trialId: member.trialId, segment, params: plan.params, budget: this.budgetOf(segment), resumeFrom: plan.resumeFrom };
    }
    return this.members.some((m) => m.state === 'running') ? 'wait' : 'done';
  }

  tell(result: SegmentResult): Decision[] {
    this.told++;
    const member = this.member(result.trialId);
    const s = result.segment;
    const loss = lossOf(this.ctx.objective, result.metrics);
    if (loss === undefined) {
      member.state = 'failed';
      return [{ kind: 'stop', trialId: member.trialId, at: this.told, budget: this.budgetOf(s), reason: `its result at segment ${s} has no finite "${this.ctx.objective.metric}", so it cannot be ranked` }];
    }
    member.scores[s] = { loss, value: result.metrics[this.ctx.objective.metric] };
    if (this.budgetOf(s) >= this.options.maxT) {
      member.state = 'done';
      return [];
    }
    member.state = 'ready';
    member.nextPlan = { params: member.params[s], resumeFrom: { trialId: member.trialId, segment: s } };
    if (this.budgetOf(s) < this.options.burnInPeriod) return [];
    return this.perturb(member, s);
  }

  /** The exploit/explore step for `member`, which just finished segment `s`. */
  private perturb(member: Member, s: number): Decision[] {
    const peers = this.members
      .filter((m) => m.scores[s] !== undefined)
      .sort((a, b) => a.scores[s].loss - b.scores[s].loss || compareTrialIds(a.trialId, b.trialId));
    const n = peers.length;
    const q = Math.min(Math.ceil(n * this.options.quantileFraction), Math.floor(n / 2));
    const place = peers.indexOf(member);
    if (q === 0 || place < n - q) return [];
    const rng = this.rng.fork(`${member.trialId}#${s}`);
    const donor = rng.pick(peers.slice(0, q));
    const copied = donor.params[s];
    const explored = explore(this.ctx.space, copied, rng, this.options);
    const from = { trialId: donor.trialId, segment: s };
    member.nextPlan = { params: explored.params, resumeFrom: from };
    const metric = this.ctx.objective.metric;
    const at = this.told;
    return [
      {
        kind: 'exploit',
        trialId: member.trialId,
        at,
        from,
        params: copied,
        value: member.scores[s].value,
        budget: this.budgetOf(s),
        reason: `ranked ${place + 1} of ${n} after segment ${s} (${metric} ${member.scores[s].value}), in the bottom ${q}: copies the checkpoint and hyperparameters of ${donor.trialId} (${metric} ${donor.scores[s].value}, top ${q})`,
      },
      {
        kind: 'explore',
        trialId: member.trialId,
        at,
        params: explored.params,
        changes: explored.changes,
        reason: `perturbed ${donor.trialId}'s hyperparameters: ${explored.changes.map((c) => `${c.key} ${c.how} ${JSON.stringify(c.before)} → ${JSON.stringify(c.after)}`).join(', ')}`,
      },
    ];
  }

  fail(trialId: string, segment: number, message: string): Decision[] {
    this.told++;
    this.member(trialId).state = 'failed';
    return [{ kind: 'failed', trialId, at: this.told, budget: this.budgetOf(segment), reason: `segment ${segment} failed: ${message}; the member leaves the population` }];
  }
}
