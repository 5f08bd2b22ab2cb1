/**
 * What `%%sweep` shows: the live trial curves and best-so-far, a parallel-coordinates plot of the
 * hyperparameters against the objective, the trials' table (best first) and a power-law fit's plot.
 * Each is a Jupyter bundle with a Plotly figure where one fits, an SVG or HTML rendering for viewers
 * without Plotly, and a text fallback.
 */
import { figureBundle, type LineFigure } from '../figures/figure.js';
import type { Objective } from './algorithms/algorithm.js';
import type { SweepOutcome, TrialOutcome } from './loop.js';
import type { PowerLawFit } from './scaling.js';
import { getPath, isCategorical, type Dimension, type SearchSpace } from './space.js';

const escapeHtml = (text: string): string => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** A value as a short cell of the table. */
export function formatValue(value: unknown): string {
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : Math.abs(value) < 1e-3 || Math.abs(value) >= 1e4 ? value.toExponential(3) : value.toPrecision(4);
  if (value === undefined) return '—';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The curves a sweep shows live: every trial's objective over the resource, by trial. */
export interface TrialCurves {
  /** Trial id → steps and values of the objective as it was reported. */
  byTrial: Map<string, { step: number[]; value: number[] }>;
  /** The best value after each finished segment, in finish order. */
  best: { step: number[]; value: number[] };
}

/** The live figure: every trial's reported objective over the run's steps. */
export function trialCurvesFigure(title: string, objective: Objective, curves: TrialCurves): LineFigure {
  return {
    title,
    xTitle: 'step',
    yTitle: objective.metric,
    series: [...curves.byTrial].sort(([a], [b]) => (a < b ? -1 : 1)).map(([trialId, c]) => ({ name: trialId, x: c.step, y: c.value, markers: c.step.length < 20 })),
  };
}

/** The live best-so-far figure (finish order; the record keeps the same curve in trial-id order). */
export function bestSoFarFigure(title: string, objective: Objective, curves: TrialCurves): LineFigure {
  return { title: `${title}: best ${objective.metric} so far (${objective.mode})`, xTitle: 'segments finished', yTitle: objective.metric, series: [{ name: 'best so far', x: curves.best.step, y: curves.best.value, markers: true }] };
}

/** A dimension of the parallel-coordinates plot: numbers (log10 for log dimensions) or category indices. */
function parcoordsDimension(dim: Dimension, trials: TrialOutcome[]): Record<string, unknown> {
  const key = dim.key;
  const values = trials.map((t) => t.params[key]);
  if (isCategorical(dim)) {
    const labels = dim.values.map((v) => formatValue(v));
    return { label: key, values: values.map((v) => dim.values.findIndex((c) => JSON.stringify(c) === JSON.stringify(v))), tickvals: labels.map((_, i) => i), ticktext: labels, range: [0, Math.max(0, labels.length - 1)] };
  }
  const log = dim.kind === 'loguniform' || (dim.kind === 'int' && dim.log === true);
  return { label: log ? `log10 ${key}` : key, values: values.map((v) => (log ? Math.log10(Number(v)) : Number(v))), range: log ? [Math.log10(dim.low), Math.log10(dim.high)] : [dim.low, dim.high] };
}

/** Parallel coordinates of the completed trials: one axis per hyperparameter, the objective last, lines coloured by it. */
export function parallelCoordinatesBundle(title: string, space: SearchSpace, outcome: SweepOutcome): Record<string, unknown> {
  const trials = outcome.trials.filter((t) => t.value !== undefined);
  const keys = space.dimensions.map((d) => d.key);
  const objective = trials.map((t) => t.value as number);
  const dimensions = [...space.dimensions.map((d) => parcoordsDimension(d, trials)), { label: outcome.objective.metric, values: objective }];
  const text = [`<parallel coordinates: ${title} — ${trials.length} trials over ${keys.join(', ')} → ${outcome.objective.metric}>`];
  return {
    'application/vnd.plotly.v1+json': {
      data: [{ type: 'parcoords', line: { color: objective, colorscale: 'Viridis', showscale: true, reversescale: outcome.objective.mode === 'min' }, dimensions }],
      layout: { title: { text: `${title}: hyperparameters and ${outcome.objective.metric}` }, height: 380, margin: { t: 70, l: 70, r: 70, b: 30 } },
    },
    'text/plain': text.join('\n'),
  };
}

/** The trials ordered best first (unfinished ones last, by id). */
export function rankedTrials(outcome: SweepOutcome): TrialOutcome[] {
  const sign = outcome.objective.mode === 'max' ? -1 : 1;
  return [...outcome.trials].sort((a, b) => {
    if (a.value === undefined || b.value === undefined) return a.value === undefined ? (b.value === undefined ? (a.trialId < b.trialId ? -1 : 1) : 1) : -1;
    // Larger budgets first: a trial stopped at a low rung did not get the same chance.
    if ((a.budget ?? 0) !== (b.budget ?? 0)) return (b.budget ?? 0) - (a.budget ?? 0);
    return sign * (a.value - b.value) || (a.trialId < b.trialId ? -1 : 1);
  });
}

/** The table of trials (best first): id, each hyperparameter, budget, status, the objective; HTML and text. */
export function trialsTableBundle(name: string, space: SearchSpace, outcome: SweepOutcome): Record<string, unknown> {
  const keys = space.dimensions.map((d) => d.key);
  const header = ['trial', ...keys, 'budget', 'segments', 'status', outcome.objective.metric];
  const rows = rankedTrials(outcome).map((t) => [t.trialId, ...keys.map((k) => formatValue(t.params[k])), formatValue(t.budget), String(t.segments.length), t.status, formatValue(t.value)]);
  const best = outcome.best?.trialId;
  const html = [
    `<table class="hyperlab-sweep-table" data-sweep="${escapeHtml(name)}">`,
    `<thead><tr>${header.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead>`,
    '<tbody>',
    ...rows.map((r) => `<tr${r[0] === best ? ' class="best"' : ''}>${r.map((c, i) => `<td>${i === 0 && r[0] === best ? `<b>${escapeHtml(c)}</b> ★` : escapeHtml(c)}</td>`).join('')}</tr>`),
    '</tbody></table>',
  ].join('');
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  const text = [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(r[0] === best ? [`${r[0]}*`, ...r.slice(1)] : r))].join('\n');
  return { 'text/html': html, 'text/plain': `${name}: ${outcome.trials.length} trials, best first (* best)\n${text}` };
}

/**
 * The value of a scaling predictor or target for a trial: a searched key, else a metric, else the
 * base config; a list multiplies its keys and numbers (compute ≈ `[6, totalParams, steps, train.batchSize]`).
 */
export function trialValue(trial: TrialOutcome, base: Record<string, unknown>, key: string | ReadonlyArray<string | number>): number | undefined {
  if (typeof key !== 'string') {
    let product = 1;
    for (const factor of key) {
      const v = typeof factor === 'number' ? factor : trialValue(trial, base, factor);
      if (v === undefined) return undefined;
      product *= v;
    }
    return product;
  }
  const raw = key in trial.params ? trial.params[key] : trial.metrics && key in trial.metrics ? trial.metrics[key] : getPath(base, key);
  const value = Number(raw);
  return raw === undefined || raw === null || !Number.isFinite(value) ? undefined : value;
}

/** The fit's figure: observed against fitted (log-log), with the line y = x; one predictor: the fitted curve over it. */
export function scalingBundle(title: string, fit: PowerLawFit, points: Array<{ x: Record<string, number>; y: number }>, predict: (x: Record<string, number>) => number): Record<string, unknown> {
  const names = fit.variables;
  const exps = names.map((n) => `${n}^${fit.exponents[n].value.toPrecision(3)}`).join('·');
  const heading = `${title}: y = ${fit.coefficient.value.toPrecision(3)}·${exps} (R² ${fit.r2.toFixed(3)})`;
  let figure: LineFigure;
  if (names.length === 1) {
    const n = names[0];
    const xs = points.map((p) => p.x[n]);
    const lo = Math.min(...xs);
    const hi = Math.max(...xs);
    const grid = Array.from({ length: 40 }, (_, i) => lo * (hi / lo) ** (i / 39));
    figure = {
      title: heading,
      xTitle: n,
      yTitle: 'y',
      yLog: true,
      series: [
        { name: 'trials', x: xs, y: points.map((p) => p.y), markers: true, dash: true },
        { name: 'fit', x: grid, y: grid.map((x) => predict({ [n]: x })) },
      ],
    };
  } else {
    const fitted = points.map((p) => predict(p.x));
    figure = { title: heading, xTitle: 'fitted', yTitle: 'observed', yLog: true, series: [{ name: 'trials', x: fitted, y: points.map((p) => p.y), markers: true, dash: true }, { name: 'y = x', x: [Math.min(...fitted), Math.max(...fitted)], y: [Math.min(...fitted), Math.max(...fitted)] }] };
  }
  const bundle = figureBundle(figure);
  const plotly = bundle['application/vnd.plotly.v1+json'] as { data: Array<Record<string, unknown>>; layout: Record<string, unknown> };
  // Markers only for the observations; log x as well (a power law is a line there).
  plotly.data[0].mode = 'markers';
  plotly.layout.xaxis = { ...(plotly.layout.xaxis as object), type: 'log' };
  const ci = (e: { value: number; ci: [number, number] }) => `${e.value.toPrecision(4)} [${e.ci[0].toPrecision(4)}, ${e.ci[1].toPrecision(4)}]`;
  const lines = [heading, `${Math.round(fit.confidence * 100)} % confidence intervals, ${fit.n} points, ${fit.dof} degrees of freedom:`, `  coefficient ${ci(fit.coefficient)}`, ...names.map((n) => `  exponent of ${n} ${ci(fit.exponents[n])}`)];
  return { ...bundle, 'text/plain': lines.join('\n') };
}
