/**
 * `%compare A B … [--curve NAME]`: runs side by side — their curves overlaid (one figure per
 * curve: by default test accuracy and training loss when the runs have them), their metrics, and
 * every config key whose value differs. Continual runs also get ACC/BWT/FWT/forgetting bars.
 */
import type { LineMagic } from '@hyperlab/kernel/magics';
import { jsonDiffs } from '@hyperlab/core/runs';
import { figureBundle, type LineFigure } from '../figures/figure.js';
import { barBundle, type BarFigure } from '../figures/bars.js';
import { asDisplay } from '../figures/live.js';
import { closest, UsageError } from '../config/yaml-config.js';
import { formatMetric } from '../run-card.js';
import { session, type SessionRun } from '../session.js';
import { tableBundle, type Table } from '../tables.js';

const DEFAULT_CURVES = ['test/accuracy', 'train/loss'];

const shown = (value: unknown): string => (value === undefined ? '—' : typeof value === 'string' ? value : JSON.stringify(value));

/** Config keys (JSON Pointers) whose values differ between any run and the first, with every run's value. */
export function configDiffTable(runs: SessionRun[]): Table {
  const paths = new Set<string>();
  for (const run of runs.slice(1)) for (const diff of jsonDiffs(runs[0].record.config, run.record.config, '')) paths.add(diff.path);
  const at = (value: unknown, pointer: string): unknown =>
    pointer
      .split('/')
      .slice(1)
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
      .reduce<unknown>((v, key) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined), value);
  return {
    header: ['config', ...runs.map((r) => r.name)],
    rows: [...paths].sort().map((path) => [path.slice(1).replace(/\//g, '.'), ...runs.map((r) => shown(at(r.record.config, path)))]),
  };
}

/** Each metric of the runs, a column per run. */
export function metricTable(runs: SessionRun[]): Table {
  const names = [...new Set(runs.flatMap((r) => Object.keys(r.record.metrics)))];
  return { header: ['metric', ...runs.map((r) => r.name)], rows: names.map((m) => [m, ...runs.map((r) => (r.record.metrics[m] === undefined ? '—' : formatMetric(r.record.metrics[m])))]) };
}

/** The overlay figure of one curve across runs. */
export function curveFigure(runs: SessionRun[], curve: string): LineFigure {
  return {
    title: curve,
    xTitle: 'step',
    yTitle: curve,
    series: runs
      .filter((r) => r.record.curves[curve])
      .map((r) => ({ name: r.name, x: r.record.curves[curve].step, y: r.record.curves[curve].value.map((v) => (typeof v === 'number' ? v : Number(v))), markers: r.record.curves[curve].step.length <= 20 })),
  };
}

/** The continual-learning summary metrics, in the order the bars show them. */
const CONTINUAL_METRICS = ['acc', 'bwt', 'fwt', 'forgetting'];

/** ACC, BWT, FWT and forgetting of continual runs as grouped bars (a group per metric). */
export function continualBars(runs: SessionRun[]): BarFigure {
  const value = (run: SessionRun, name: string): number => {
    const v = run.record.metrics[name];
    return typeof v === 'number' ? v : Number(v);
  };
  return { title: 'continual learning: ACC, BWT, FWT, forgetting', yTitle: 'accuracy (fraction)', categories: CONTINUAL_METRICS.map((m) => m.toUpperCase()), series: runs.map((r) => ({ name: r.name, values: CONTINUAL_METRICS.map((m) => value(r, m)) })) };
}

/** `%compare`. */
export const compareMagic: LineMagic = {
  kind: 'line',
  name: 'compare',
  help: 'Compare runs: overlaid curves, metrics and config differences: %compare A B … [--curve NAME] (no names: every run).',
  run(ctx) {
    const names: string[] = [];
    const curves: string[] = [];
    for (let i = 0; i < ctx.argv.length; i++) {
      if (ctx.argv[i] === '--curve') {
        const curve = ctx.argv[++i];
        if (!curve) throw new UsageError(`%compare (cell line ${ctx.line}): --curve needs a curve name`);
        curves.push(curve);
      } else names.push(ctx.argv[i]);
    }
    const known = [...session.runs.keys()];
    const runs = (names.length ? names : known).map((name) => {
      const run = session.runs.get(name);
      if (!run) {
        const suggestion = closest(name, known);
        throw new UsageError(`%compare (cell line ${ctx.line}): no run named "${name}"${suggestion ? ` — did you mean "${suggestion}"?` : ''} (runs: ${known.join(', ') || 'none yet'})`);
      }
      return run;
    });
    if (runs.length < 2) throw new UsageError(`%compare (cell line ${ctx.line}) needs at least two runs, got ${runs.length}`);
    const common = Object.keys(runs[0].record.curves).filter((c) => runs.every((r) => r.record.curves[c]));
    for (const curve of curves) {
      if (!runs.some((r) => r.record.curves[curve])) {
        const all = [...new Set(runs.flatMap((r) => Object.keys(r.record.curves)))];
        throw new UsageError(`%compare (cell line ${ctx.line}): no run has a curve "${curve}" (curves: ${all.join(', ') || 'none'})`);
      }
    }
    const continual = runs.every((r) => r.magic === 'continual');
    // Continual runs: the bars say what the loss curves would, in far less space.
    const defaults = continual ? ['test/accuracy'] : DEFAULT_CURVES;
    const chosen = curves.length ? curves : defaults.filter((c) => common.includes(c)).concat(common.length && !defaults.some((c) => common.includes(c)) ? [common[0]] : []);
    if (continual) ctx.display(asDisplay(barBundle(continualBars(runs))));
    for (const curve of chosen) ctx.display(asDisplay(figureBundle(curveFigure(runs, curve))));
    ctx.display(asDisplay(tableBundle(metricTable(runs), 'Metrics')));
    const diffs = configDiffTable(runs);
    if (diffs.rows.length) ctx.display(asDisplay(tableBundle(diffs, 'Config differences')));
    else ctx.print('The configs are identical.');
  },
};
