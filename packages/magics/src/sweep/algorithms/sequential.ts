/**
 * Runs a search algorithm in this process against a plain function, one segment at a time: the
 * ask/tell protocol without an engine, for algorithm tests and for comparing algorithms on toy
 * objectives. (Sweeps over experiment magics go through `../loop.ts`.)
 */
import type { Decision, SearchAlgorithm, SegmentRef, TrialPlan } from './algorithm.js';

/** What the function returns for one segment. */
export interface InlineResult {
  metrics: Record<string, number>;
  /** The state a later segment can resume from. */
  checkpoint?: unknown;
}

/** One segment as it ran. */
export interface InlineStep {
  plan: TrialPlan;
  /** The checkpoint it resumed from (undefined from scratch). */
  resumed?: unknown;
  result: InlineResult;
  /** Decisions returned when it was told (those made in planning it are in `plan.decisions`). */
  decisions: Decision[];
}

/**
 * Asks `algorithm` for segments until it is done, running each with `evaluate` (given the
 * checkpoint its plan resumes from) and telling the result. Returns every segment in order and
 * the closing decisions. Throws when the algorithm waits with nothing running (a bug) or runs past
 * `maxSegments`.
 */
export function runSequentially(
  algorithm: SearchAlgorithm,
  evaluate: (plan: TrialPlan, resumed: unknown) => InlineResult,
  maxSegments = 10_000,
): { steps: InlineStep[]; closing: Decision[] } {
  const checkpoints = new Map<string, unknown>();
  const key = (ref: SegmentRef): string => `${ref.trialId}#${ref.segment}`;
  const steps: InlineStep[] = [];
  for (;;) {
    const plan = algorithm.next();
    if (plan === 'done') break;
    if (plan === 'wait') throw new Error(`${algorithm.name} waits with nothing running`);
    if (steps.length >= maxSegments) throw new Error(`${algorithm.name} ran past ${maxSegments} segments`);
    const resumed = plan.resumeFrom ? checkpoints.get(key(plan.resumeFrom)) : undefined;
    const result = evaluate(plan, resumed);
    if (result.checkpoint !== undefined) checkpoints.set(key(plan), result.checkpoint);
    const decisions = algorithm.tell({ trialId: plan.trialId, segment: plan.segment, metrics: result.metrics, hasCheckpoint: result.checkpoint !== undefined });
    steps.push({ plan, resumed, result, decisions });
  }
  return { steps, closing: algorithm.finish?.() ?? [] };
}
