/**
 * A `%%sweep` record's outcome as the panel reads it: the trials (params, objective value, status,
 * budget, segments and the last segment's compacted record), the best trial and the objective.
 * Tolerant of missing parts (a sweep that stopped early, an older record). Pure.
 */
import { decodeNumber, type JsonNumber } from '../records';

/** The sweep's objective. */
export interface SweepObjective {
  metric: string;
  mode: 'max' | 'min';
}

/** One trial. */
export interface SweepTrial {
  /** `t000`… */
  trialId: string;
  /** `<sweep>/<trialId>`, the name `%compare` knows it by. */
  name: string;
  /** The searched values, by key of the base config (`adapter.r`). */
  params: Record<string, unknown>;
  /** The objective's value (NaN when the trial has none). */
  value: number;
  /** `completed`, `failed`, `stopped`… */
  status: string;
  /** The budget it reached (ASHA rung, PBT interval), when the sweep has a resource. */
  budget?: number;
  /** How many segments it ran. */
  segments: number;
  /** Its own seed (each trial draws one from the sweep's), when the outcome has it. */
  seed?: number;
  /** Its final metrics. */
  metrics: Record<string, number>;
  /** The last segment's config (the trial's full experiment config). */
  config: Record<string, unknown>;
  /** The last segment's content hash. */
  contentHash: string;
}

/** A sweep's outcome. */
export interface SweepSummary {
  sweepId: string;
  objective: SweepObjective;
  /** The algorithm's name. */
  algorithm: string;
  /** The best trial's id, if any finished. */
  bestTrialId?: string;
  /** The trials, in trial-id order. */
  trials: SweepTrial[];
  /** Every searched key, in order of first appearance. */
  paramNames: string[];
  /** How many decisions the algorithm logged (promotions, stops, exploits). */
  decisions: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown, fallback = ''): string => (typeof v === 'string' ? v : fallback);

function numbers(value: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (isObject(value)) for (const [k, v] of Object.entries(value)) if (typeof v === 'number' || typeof v === 'string') out[k] = decodeNumber(v as JsonNumber);
  return out;
}

function trialOf(value: unknown, sweepId: string): SweepTrial | undefined {
  if (!isObject(value) || typeof value.trialId !== 'string') return undefined;
  const segments = Array.isArray(value.segments) ? value.segments.filter(isObject) : [];
  const last = segments.at(-1);
  const record = last && isObject(last.record) ? last.record : {};
  const metrics = numbers(value.metrics ?? record.metrics);
  return {
    trialId: value.trialId,
    name: text(record.name, `${sweepId}/${value.trialId}`),
    params: isObject(value.params) ? value.params : {},
    value: typeof value.value === 'number' ? value.value : NaN,
    status: text(value.status, 'unknown'),
    budget: typeof value.budget === 'number' ? value.budget : undefined,
    segments: segments.length,
    seed: typeof value.seed === 'number' ? value.seed : undefined,
    metrics,
    config: isObject(record.config) ? record.config : {},
    contentHash: text(record.contentHash),
  };
}

/** The sweep in a record's `outcome`, or undefined when it holds no trials. */
export function sweepSummary(record: { name?: string; outcome?: unknown; config?: Record<string, unknown> }): SweepSummary | undefined {
  const outcome = record.outcome;
  if (!isObject(outcome) || !Array.isArray(outcome.trials)) return undefined;
  const sweepId = text(outcome.sweepId, record.name ?? 'sweep');
  const trials = outcome.trials
    .map((t) => trialOf(t, sweepId))
    .filter((t): t is SweepTrial => t !== undefined)
    .sort((a, b) => (a.trialId < b.trialId ? -1 : a.trialId > b.trialId ? 1 : 0));
  const objective = isObject(outcome.objective) ? outcome.objective : {};
  const mode = objective.mode === 'min' ? 'min' : 'max';
  const best = isObject(outcome.best) && typeof outcome.best.trialId === 'string' ? outcome.best.trialId : bestTrial(trials, mode);
  const algorithm = isObject(outcome.algorithm) ? text(outcome.algorithm.name) : text(outcome.algorithm);
  return {
    sweepId,
    objective: { metric: text(objective.metric, 'value'), mode },
    algorithm,
    bestTrialId: best,
    trials,
    paramNames: [...new Set(trials.flatMap((t) => Object.keys(t.params)))],
    decisions: Array.isArray(outcome.decisions) ? outcome.decisions.length : 0,
  };
}

/** The id of the trial with the best finite value (the first of equals), when the outcome names none. */
function bestTrial(trials: SweepTrial[], mode: 'max' | 'min'): string | undefined {
  let best: SweepTrial | undefined;
  for (const t of trials) {
    if (!Number.isFinite(t.value)) continue;
    if (!best || (mode === 'max' ? t.value > best.value : t.value < best.value)) best = t;
  }
  return best?.trialId;
}
