/**
 * The sweep loop: drives a {@link SearchAlgorithm} on any {@link SweepEngine}, keeping
 * `engine.concurrency` trial segments in flight, and returns a JSON-safe {@link SweepOutcome}.
 *
 * - Each {@link TrialSpec} is the base config with the plan's hyperparameters set by path, the
 *   resource key (when the sweep names one) set to the segment's budget, the trial's seed (a
 *   function of the sweep's seed and the trialId alone) and the checkpoint of the segment the plan
 *   resumes from.
 * - Delivery may be at least once: a result is accepted only for the segment it was asked for and
 *   only once per {@link segmentKey}; a stray or repeated delivery is ignored (a `duplicate`
 *   event) and the segment asked for again.
 * - On `signal`, no new segment starts; running ones are aborted (or, with
 *   `onInterrupt: 'wait'`, finish), and the outcome says `interrupted`.
 * - The outcome lists trials by trialId and leaves out everything that depends on timing (finish
 *   order, deliveries, durations), so for grid and random search it is the same however many
 *   trials ran at once. ASHA, PBT and TPE decide from the results that have arrived, so their
 *   outcome is reproducible only with one trial at a time (`concurrency: 1`), where every call
 *   happens in the same order on every run.
 *
 * The loop does not close the engine: its owner does.
 */
import { lossOf, isBetter, type Decision, type Objective, type SearchAlgorithm, type SegmentRef, type TrialPlan } from './algorithms/algorithm.js';
import { segmentKey, type SweepEngine, type TrialResult, type TrialSpec } from './engine.js';
import { compareTrialIds, trialSeed } from './seeded-random.js';
import { applyParams, setPath, type Params } from './space.js';

/** Options of {@link runSweep}. */
export interface RunSweepOptions {
  /** The search algorithm (see `algorithms/index.ts`, `createAlgorithm`). */
  algorithm: SearchAlgorithm;
  /** Where segments run. */
  engine: SweepEngine;
  /** The experiment magic every trial runs. */
  magic: TrialSpec['magic'];
  /** The magic's config (its YAML body as JSON) before the trial's hyperparameters are set. */
  base: Record<string, unknown>;
  /** What the algorithm optimises (for the best trial and best-so-far). */
  objective: Objective;
  /** The sweep's seed: each trial's seed is `trialSeed(seed, trialId)`. */
  seed: number;
  /** Goes into every TrialSpec (default `sweep`). */
  sweepId?: string;
  /** The config key of the resource (`train.epochs`) set to each segment's budget. */
  resourceKey?: string;
  /** Stops the sweep. */
  signal?: AbortSignal;
  /** On `signal`: abort running segments (default) or let them finish. */
  onInterrupt?: 'abort' | 'wait';
  /** Every event, as it happens (for live plots). A throwing handler stops the sweep. */
  onEvent?: (event: SweepEvent) => void;
  /**
   * How often a segment is asked for again after stray deliveries before it counts as failed.
   * Default 3.
   */
  maxRedeliveries?: number;
}

/** A segment started. */
export interface TrialStartEvent {
  type: 'trial-start';
  trialId: string;
  segment: number;
  params: Params;
  seed: number;
  budget?: number;
  resumeFrom?: SegmentRef;
}
/** A running segment reported intermediate metrics. */
export interface ReportEvent {
  type: 'report';
  trialId: string;
  segment: number;
  step: number;
  metrics: Record<string, number>;
}
/** A segment finished (accepted once). `best` is the best objective value so far. */
export interface ResultEvent {
  type: 'result';
  trialId: string;
  segment: number;
  metrics: Record<string, number>;
  budget?: number;
  /** The objective's value in this result (when finite). */
  value?: number;
  best?: { trialId: string; segment: number; value: number };
}
/** A segment failed (the engine rejected without an abort). */
export interface TrialErrorEvent {
  type: 'trial-error';
  trialId: string;
  segment: number;
  message: string;
}
/** A delivery that was ignored: a repeat, or a result for another segment than the one asked for. */
export interface DuplicateEvent {
  type: 'duplicate';
  trialId: string;
  segment: number;
  attempt: number;
  reason: string;
}
/** The algorithm decided something. */
export interface DecisionEvent {
  type: 'decision';
  decision: Decision;
}
/** The sweep ended. */
export interface DoneEvent {
  type: 'done';
  outcome: SweepOutcome;
}
/** Everything {@link RunSweepOptions.onEvent} receives. */
export type SweepEvent = TrialStartEvent | ReportEvent | ResultEvent | TrialErrorEvent | DuplicateEvent | DecisionEvent | DoneEvent;

/** One segment in the outcome. */
export interface SegmentOutcome {
  segment: number;
  /** The hyperparameters it ran with. */
  params: Params;
  budget?: number;
  resumeFrom?: SegmentRef;
  /** It asked to resume from a checkpoint that the resumed segment did not leave: it started from scratch. */
  checkpointMissing?: true;
  /** completed; failed (error); stopped early by the algorithm (metrics of its last report); aborted by an interrupt. */
  status: 'completed' | 'failed' | 'stopped' | 'aborted';
  metrics?: Record<string, number>;
  /** The run record the trial returned. */
  record?: unknown;
  /** Whether it left a checkpoint (the checkpoints themselves are not in the outcome). */
  checkpoint?: boolean;
  error?: string;
}

/** One trial in the outcome. */
export interface TrialOutcome {
  trialId: string;
  seed: number;
  /** Its hyperparameters at the end (after any PBT exploit/explore). */
  params: Params;
  /** Its segments in order. */
  segments: SegmentOutcome[];
  /** The last segment's status. */
  status: SegmentOutcome['status'];
  /** The metrics of its last completed (or early-stopped) segment. */
  metrics?: Record<string, number>;
  /** The objective's value in {@link metrics}. */
  value?: number;
  /** The budget its last completed segment trained to. */
  budget?: number;
}

/** What a sweep returns (and its record stores): JSON-safe, trials ordered by trialId. */
export interface SweepOutcome {
  version: 1;
  sweepId: string;
  magic: TrialSpec['magic'];
  seed: number;
  algorithm: { name: string; options: Record<string, unknown> };
  objective: Objective;
  resourceKey?: string;
  status: 'completed' | 'interrupted';
  trials: TrialOutcome[];
  /** The algorithm's decisions, in the order made. */
  decisions: Decision[];
  /**
   * The best trial: among trials whose last completed segment reached the largest budget, the one
   * with the best objective value (ties: the lower trialId).
   */
  best?: { trialId: string; value: number; budget?: number; params: Params; metrics: Record<string, number> };
}

interface Running {
  plan: TrialPlan;
  spec: TrialSpec;
  controller: AbortController;
  lastReport?: Record<string, number>;
  stopDecision?: Decision;
}

type Settled = { key: string; result: TrialResult } | { key: string; error: unknown };

/** Runs a sweep to its end (or to `signal`); see the file's header. */
export async function runSweep(options: RunSweepOptions): Promise<SweepOutcome> {
  const { algorithm, engine, objective } = options;
  const sweepId = options.sweepId ?? 'sweep';
  const maxRedeliveries = options.maxRedeliveries ?? 3;
  const running = new Map<string, Running & { promise: Promise<Settled>; redeliveries: number }>();
  const segments = new Map<string, SegmentOutcome & { trialId: string }>();
  const checkpoints = new Map<string, string>();
  const decisions: Decision[] = [];
  let best: ResultEvent['best'];
  let interrupted = false;
  let handlerError: { error: unknown } | undefined;

  const emit = (event: SweepEvent): void => {
    if (!options.onEvent || handlerError) return;
    try {
      options.onEvent(event);
    } catch (error) {
      handlerError = { error };
      for (const entry of running.values()) entry.controller.abort(error);
    }
  };
  const decide = (made: readonly Decision[] | undefined): void => {
    for (const decision of made ?? []) {
      decisions.push(decision);
      emit({ type: 'decision', decision });
    }
  };
  const stopped = (): boolean => interrupted || handlerError !== undefined;

  /** Hands a segment to the engine (again, after a stray delivery); `entry` is the one record of it. */
  const start = (entry: Running & { redeliveries: number }): void => {
    const key = segmentKey(entry.spec);
    const record = entry as Running & { redeliveries: number; promise: Promise<Settled> };
    running.set(key, record);
    record.promise = engine
      .run(entry.spec, {
        signal: entry.controller.signal,
        onReport: (report) => {
          if (running.get(key) !== record || entry.stopDecision) return;
          emit({ type: 'report', trialId: entry.spec.trialId, segment: entry.plan.segment, step: report.step, metrics: report.metrics });
          entry.lastReport = report.metrics;
          const decision = algorithm.report?.({ trialId: entry.spec.trialId, segment: entry.plan.segment, step: report.step, metrics: report.metrics });
          if (decision?.kind === 'stop') {
            entry.stopDecision = decision;
            decide([decision]);
            entry.controller.abort(new Error(decision.reason));
          }
        },
      })
      .then(
        (result): Settled => ({ key, result }),
        (error: unknown): Settled => ({ key, error }),
      );
  };

  const launch = (plan: TrialPlan): void => {
    const key = segmentKey(plan);
    if (segments.has(key) || running.has(key)) throw new Error(`${algorithm.name} planned ${key} twice`);
    let config = applyParams(options.base, plan.params);
    if (options.resourceKey && plan.budget !== undefined) config = setPath(config, options.resourceKey, plan.budget);
    const resumeKey = plan.resumeFrom ? segmentKey(plan.resumeFrom) : undefined;
    const checkpoint = resumeKey ? checkpoints.get(resumeKey) : undefined;
    const seed = trialSeed(options.seed, plan.trialId);
    const spec: TrialSpec = { sweepId, trialId: plan.trialId, magic: options.magic, config, seed, segment: plan.segment };
    if (plan.budget !== undefined) spec.budget = plan.budget;
    if (checkpoint !== undefined) spec.checkpoint = checkpoint;
    decide(plan.decisions);
    segments.set(key, {
      trialId: plan.trialId,
      segment: plan.segment,
      params: plan.params,
      ...(plan.budget !== undefined ? { budget: plan.budget } : {}),
      ...(plan.resumeFrom ? { resumeFrom: { ...plan.resumeFrom } } : {}),
      ...(resumeKey && checkpoint === undefined ? { checkpointMissing: true as const } : {}),
      status: 'aborted',
    });
    emit({ type: 'trial-start', trialId: plan.trialId, segment: plan.segment, params: plan.params, seed, ...(plan.budget !== undefined ? { budget: plan.budget } : {}), ...(plan.resumeFrom ? { resumeFrom: plan.resumeFrom } : {}) });
    const controller = new AbortController();
    if (options.signal?.aborted && options.onInterrupt !== 'wait') controller.abort(options.signal.reason);
    start({ plan, spec, controller, redeliveries: 0 });
  };

  /** Starts segments while there are free slots and the algorithm has some. */
  const fill = (): boolean => {
    while (!stopped() && running.size < engine.concurrency) {
      const plan = algorithm.next();
      if (plan === 'done') return true;
      if (plan === 'wait') break;
      launch(plan);
    }
    return false;
  };

  const settle = (settled: Settled): void => {
    const entry = running.get(settled.key)!;
    running.delete(settled.key);
    const { trialId } = entry.spec;
    const segment = entry.plan.segment;
    const outcome = segments.get(settled.key)!;
    if ('result' in settled) {
      const result = settled.result;
      const delivered = segmentKey({ trialId: result.trialId, segment: result.segment ?? segment });
      if (delivered !== settled.key) {
        emit({ type: 'duplicate', trialId: result.trialId, segment: result.segment ?? segment, attempt: result.attempt, reason: `delivered while ${settled.key} was awaited${segments.get(delivered)?.status === 'completed' ? ` (${delivered} is already recorded)` : ''}` });
        if (entry.redeliveries < maxRedeliveries && !stopped()) {
          entry.redeliveries++;
          start(entry);
          return;
        }
        settled = { key: settled.key, error: new Error(`the engine returned results of other segments ${entry.redeliveries + 1} times`) };
      } else {
        outcome.status = 'completed';
        outcome.metrics = { ...result.metrics };
        outcome.record = result.record;
        outcome.checkpoint = result.checkpoint !== undefined;
        if (result.checkpoint !== undefined) checkpoints.set(settled.key, result.checkpoint);
        const value = result.metrics[objective.metric];
        const finite = lossOf(objective, result.metrics) !== undefined;
        if (finite && (!best || isBetter(objective, value, best.value))) best = { trialId, segment, value };
        emit({ type: 'result', trialId, segment, metrics: outcome.metrics, ...(outcome.budget !== undefined ? { budget: outcome.budget } : {}), ...(finite ? { value } : {}), ...(best ? { best } : {}) });
        decide(algorithm.tell({ trialId, segment, metrics: result.metrics, hasCheckpoint: outcome.checkpoint }));
        return;
      }
    }
    const error = (settled as { error: unknown }).error;
    if (entry.stopDecision) {
      outcome.status = 'stopped';
      if (entry.lastReport) outcome.metrics = { ...entry.lastReport };
    } else if (entry.controller.signal.aborted) {
      outcome.status = 'aborted';
    } else {
      const message = error instanceof Error ? error.message : String(error);
      outcome.status = 'failed';
      outcome.error = message;
      emit({ type: 'trial-error', trialId, segment, message });
      decide(algorithm.fail(trialId, segment, message));
    }
  };

  const onAbort = (): void => {
    interrupted = true;
    if (options.onInterrupt !== 'wait') for (const entry of running.values()) entry.controller.abort(options.signal?.reason);
  };
  if (options.signal?.aborted) interrupted = true;
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    let done = stopped() ? false : fill();
    while (running.size > 0) {
      settle(await Promise.race([...running.values()].map((entry) => entry.promise)));
      if (!done) done = fill();
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    for (const entry of running.values()) entry.controller.abort(new Error('the sweep loop failed'));
    await Promise.all([...running.values()].map((entry) => entry.promise));
  }
  decide(algorithm.finish?.());
  if (handlerError) throw handlerError.error;
  const outcome = buildOutcome(options, sweepId, [...segments.values()], decisions, interrupted ? 'interrupted' : 'completed');
  emit({ type: 'done', outcome });
  return outcome;
}

/** Groups segments into trials ordered by trialId, and picks the best trial. */
function buildOutcome(options: RunSweepOptions, sweepId: string, all: Array<SegmentOutcome & { trialId: string }>, decisions: Decision[], status: SweepOutcome['status']): SweepOutcome {
  const byTrial = new Map<string, SegmentOutcome[]>();
  for (const { trialId, ...segment } of all) {
    if (!byTrial.has(trialId)) byTrial.set(trialId, []);
    byTrial.get(trialId)!.push(segment);
  }
  const trials: TrialOutcome[] = [...byTrial.keys()].sort(compareTrialIds).map((trialId) => {
    const segments = byTrial.get(trialId)!.sort((a, b) => a.segment - b.segment);
    const last = segments[segments.length - 1];
    const measured = [...segments].reverse().find((s) => s.metrics !== undefined);
    const trial: TrialOutcome = { trialId, seed: trialSeed(options.seed, trialId), params: last.params, segments, status: last.status };
    if (measured) {
      trial.metrics = measured.metrics;
      if (lossOf(options.objective, measured.metrics!) !== undefined) trial.value = measured.metrics![options.objective.metric];
      if (measured.budget !== undefined) trial.budget = measured.budget;
    }
    return trial;
  });
  let best: TrialOutcome | undefined;
  for (const trial of trials) {
    if (trial.value === undefined) continue;
    const budget = trial.budget ?? -Infinity;
    const bestBudget = best?.budget ?? -Infinity;
    if (!best || budget > bestBudget || (budget === bestBudget && isBetter(options.objective, trial.value, best.value!))) best = trial;
  }
  return {
    version: 1,
    sweepId,
    magic: options.magic,
    seed: options.seed,
    algorithm: { name: options.algorithm.name, options: JSON.parse(JSON.stringify(options.algorithm.options)) as Record<string, unknown> },
    objective: { ...options.objective },
    ...(options.resourceKey ? { resourceKey: options.resourceKey } : {}),
    status,
    trials,
    decisions,
    ...(best ? { best: { trialId: best.trialId, value: best.value!, ...(best.budget !== undefined ? { budget: best.budget } : {}), params: best.params, metrics: best.metrics! } } : {}),
  };
}
