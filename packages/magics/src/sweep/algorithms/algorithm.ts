/**
 * The ask/tell interface every search algorithm of `%%sweep` implements, and the decisions it
 * hands back for the sweep record. The sweep loop (`../loop.ts`) drives an algorithm like this:
 *
 * 1. whenever the engine has a free slot, it calls {@link SearchAlgorithm.next}: a
 *    {@link TrialPlan} to run now, `'wait'` (nothing to start until a running segment finishes)
 *    or `'done'` (the search is over once running segments finish);
 * 2. while a segment runs, each intermediate report may go to {@link SearchAlgorithm.report},
 *    which can stop that segment early;
 * 3. a finished segment goes to {@link SearchAlgorithm.tell}, a failed one to
 *    {@link SearchAlgorithm.fail}; both return the algorithm's {@link Decision}s;
 * 4. when the loop ends it calls {@link SearchAlgorithm.finish} for closing decisions (ASHA's
 *    trials that were never promoted, say).
 *
 * A trial is one configuration, identified by its trialId (`t000`, `t001`, … in the order the
 * algorithm first proposes them). Trials that train in stages (ASHA's rungs, PBT's intervals) run
 * as segments 0, 1, …; each later segment resumes from the checkpoint of a finished segment
 * (its own previous one, or — after PBT's exploit — another trial's).
 *
 * Algorithms are deterministic functions of their seed and the sequence of calls. Algorithms whose
 * proposals depend on results (ASHA, PBT, TPE) therefore depend on the order results arrive in,
 * which is fixed only when one trial runs at a time.
 */
import type { Params, SearchSpace } from '../space.js';

/** What to optimise: a metric of the trials' results and its direction. */
export interface Objective {
  /** A key of a result's metrics (e.g. `accuracy`, `evalLoss`). */
  metric: string;
  /** `max` or `min`. */
  mode: 'max' | 'min';
}

/** Where a segment starts from: the checkpoint a finished segment left. */
export interface SegmentRef {
  trialId: string;
  segment: number;
}

/** One segment for the engine to run. */
export interface TrialPlan {
  /** `t000`, `t001`, …; an ASHA promotion or a PBT interval keeps the trial's id. */
  trialId: string;
  /** The segment number: 0 for the first, then counting up. */
  segment: number;
  /** The hyperparameters (config key path → value) for this segment. */
  params: Params;
  /**
   * Train up to this many units of the sweep's resource (cumulative: a segment resuming at 3 with
   * budget 9 trains 6 more). Undefined: the config's own length.
   */
  budget?: number;
  /** The finished segment whose checkpoint to start from (undefined: from scratch). */
  resumeFrom?: SegmentRef;
  /** Decisions made in proposing it (ASHA's promotion, TPE's suggestion). */
  decisions?: Decision[];
}

/** A finished segment, as the algorithm is told. */
export interface SegmentResult {
  trialId: string;
  segment: number;
  /** The segment's final metrics. */
  metrics: Record<string, number>;
  /** Whether the trial left a checkpoint (exploiting a member without one restarts from scratch). */
  hasCheckpoint?: boolean;
}

/** An intermediate report of a running segment. */
export interface SegmentReport {
  trialId: string;
  segment: number;
  step: number;
  metrics: Record<string, number>;
}

/** The kinds of decision an algorithm records. */
export type DecisionKind =
  /** ASHA: the trial goes on to the next rung. */
  | 'promote'
  /** The trial trains no further (ASHA: not in the top 1/η of its rung; early stop on a report). */
  | 'stop'
  /** PBT: the trial continues from a better member's checkpoint and hyperparameters. */
  | 'exploit'
  /** PBT: the trial's hyperparameters were perturbed or resampled after an exploit. */
  | 'explore'
  /** TPE: the trial's hyperparameters came from the model (not from a random start-up draw). */
  | 'suggest'
  /** A failed segment ended the trial. */
  | 'failed';

/**
 * One decision of the algorithm, as it goes into the sweep record: JSON-safe and readable on its
 * own (`reason` says why in a sentence).
 */
export interface Decision {
  kind: DecisionKind;
  /** The trial the decision is about. */
  trialId: string;
  /** A logical clock: how many segment results the algorithm had been told when it decided. */
  at: number;
  /** Why, in a sentence with the numbers that decided it. */
  reason: string;
  /** ASHA: the rung the trial is promoted to or stopped at. */
  rung?: number;
  /** The resource budget the trial continues to (promote) or stopped at (stop). */
  budget?: number;
  /** PBT exploit: the trial (and its segment) whose checkpoint and hyperparameters were copied. */
  from?: SegmentRef;
  /** The hyperparameters the trial continues with (exploit, explore, suggest). */
  params?: Params;
  /** Explore: each changed key, with its value before and after and how it changed. */
  changes?: Array<{ key: string; before: unknown; after: unknown; how: 'resampled' | 'scaled' | 'shifted' }>;
  /** The trial's objective value that the decision compared (when one did). */
  value?: number;
}

/** A search algorithm driven by ask (`next`) and tell. */
export interface SearchAlgorithm {
  /** `grid`, `random`, `asha`, `pbt` or `tpe`. */
  readonly name: string;
  /** The next segment to run, `'wait'` until a running segment finishes, or `'done'`. */
  next(): TrialPlan | 'wait' | 'done';
  /** A segment finished; returns the decisions it led to. */
  tell(result: SegmentResult): Decision[];
  /** A segment failed (its trial goes no further); returns the decisions it led to. */
  fail(trialId: string, segment: number, message: string): Decision[];
  /**
   * Optional early stopping on an intermediate report: a `stop` decision ends the running segment
   * now (the loop aborts it and records its last reported metrics).
   */
  report?(report: SegmentReport): Decision | undefined;
  /** Closing decisions, called once when the loop ends. */
  finish?(): Decision[];
  /** The resolved options (defaults filled in), for the sweep record. */
  readonly options: Record<string, unknown>;
}

/** What every algorithm is built from besides its own options. */
export interface AlgorithmContext {
  space: SearchSpace;
  objective: Objective;
  /** How many trials (configurations; PBT: the population size). */
  trials: number;
  /** The sweep's seed: the algorithm's random stream derives from it. */
  seed: number;
}

/**
 * The objective as a loss (lower is better): the metric, negated for `max`; undefined when the
 * metric is missing or not a finite number.
 */
export function lossOf(objective: Objective, metrics: Record<string, number>): number | undefined {
  const value = metrics[objective.metric];
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  return objective.mode === 'max' ? -value : value;
}

/** `a` is better than `b` under the objective (both finite). */
export function isBetter(objective: Objective, a: number, b: number): boolean {
  return objective.mode === 'max' ? a > b : a < b;
}
