/**
 * A sweep's trials table, with no DOM: one row per trial, columns for the trial id, each searched
 * parameter, budget, segments, status and the objective, sorted by any of them (missing values
 * last). Unsorted it lists the best first, as the `%%sweep` magic's own table does. Pure.
 */
import type { SweepSummary, SweepTrial } from '../experiments/sweep-outcome';
import { compareValues, formatMetric, type SortState } from './table-model';

/** A column of the trials table. */
export interface TrialColumn {
  /** `trial`, `param:<key>`, `budget`, `segments`, `status` or `value`. */
  id: string;
  label: string;
  numeric: boolean;
  value(trial: SweepTrial): string | number;
  text(trial: SweepTrial): string;
}

const shown = (v: unknown): string => (v === undefined ? '' : typeof v === 'number' ? formatMetric(v) : typeof v === 'string' ? v : JSON.stringify(v));

/** The columns for a sweep. */
export function trialColumns(sweep: SweepSummary): TrialColumn[] {
  const params = sweep.paramNames.map((key): TrialColumn => {
    const numeric = sweep.trials.every((t) => t.params[key] === undefined || typeof t.params[key] === 'number');
    return {
      id: `param:${key}`,
      label: key,
      numeric,
      value: (t) => (numeric ? ((t.params[key] as number | undefined) ?? NaN) : shown(t.params[key])),
      text: (t) => shown(t.params[key]),
    };
  });
  const hasBudget = sweep.trials.some((t) => t.budget !== undefined);
  return [
    { id: 'trial', label: 'trial', numeric: false, value: (t) => t.trialId, text: (t) => t.trialId },
    ...params,
    ...(hasBudget ? [{ id: 'budget', label: 'budget', numeric: true, value: (t: SweepTrial) => t.budget ?? NaN, text: (t: SweepTrial) => shown(t.budget) }] : []),
    { id: 'segments', label: 'segments', numeric: true, value: (t) => t.segments, text: (t) => String(t.segments) },
    { id: 'status', label: 'status', numeric: false, value: (t) => t.status, text: (t) => t.status },
    { id: 'value', label: `${sweep.objective.metric} (${sweep.objective.mode})`, numeric: true, value: (t) => t.value, text: (t) => formatMetric(t.value) },
  ];
}

/** The sort a trials table starts with: the objective, best first. */
export function defaultTrialSort(sweep: SweepSummary): SortState {
  return { column: 'value', direction: sweep.objective.mode === 'min' ? 'asc' : 'desc' };
}

/** The trials sorted by a column (stable: ties keep trial-id order; unknown columns keep it too). */
export function sortTrials(sweep: SweepSummary, sort: SortState): SweepTrial[] {
  const column = trialColumns(sweep).find((c) => c.id === sort.column);
  if (!column) return [...sweep.trials];
  return sweep.trials
    .map((trial, index) => ({ trial, index }))
    .sort((a, b) => compareValues(column.value(a.trial), column.value(b.trial), sort.direction) || a.index - b.index)
    .map((x) => x.trial);
}
