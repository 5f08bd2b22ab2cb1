/**
 * Line figures as the magics draw them (training curves, comparisons), and their two renderings:
 * a Plotly figure (`application/vnd.plotly.v1+json`, interactive where a renderer exists) and a
 * static SVG of the same data (`image/svg+xml`, for GitHub and other viewers without Plotly).
 */
import { renderSvg } from './svg.js';

/** One line. */
export interface Series {
  /** Legend label. */
  name: string;
  /** X values (training steps). */
  x: number[];
  /** Y values. */
  y: number[];
  /** Which y axis: the left (`'y'`, default) or the right (`'y2'`). */
  axis?: 'y' | 'y2';
  /** Draw dashed. */
  dash?: boolean;
  /** Draw markers at each point (for sparse series such as per-epoch evaluations). */
  markers?: boolean;
  /** CSS colour; default from the palette by position. */
  color?: string;
}

/** A figure of lines over a shared x axis. */
export interface LineFigure {
  title: string;
  xTitle: string;
  yTitle: string;
  /** Title of the right axis, when any series uses it. */
  y2Title?: string;
  /** Fixed range of the right axis (e.g. `[0, 1]` for accuracy). */
  y2Range?: [number, number];
  /** Log-scale left axis. */
  yLog?: boolean;
  series: Series[];
}

/** Plotly's default colours (the D3 category-10 palette), so both renderings match. */
export const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/** The colour of series `index`. */
export function seriesColor(series: Series, index: number): string {
  return series.color ?? PALETTE[index % PALETTE.length];
}

const finite = (values: number[]): Array<number | null> => values.map((v) => (Number.isFinite(v) ? v : null));

/** The Plotly JSON (`{ data, layout }`) of a figure. */
export function plotlyJson(figure: LineFigure): { data: unknown[]; layout: Record<string, unknown> } {
  const usesY2 = figure.series.some((s) => s.axis === 'y2');
  const data = figure.series.map((s, index) => ({
    type: 'scatter',
    mode: s.markers ? 'lines+markers' : 'lines',
    name: s.name,
    x: s.x,
    y: finite(s.y),
    ...(s.axis === 'y2' ? { yaxis: 'y2' } : {}),
    line: { color: seriesColor(s, index), ...(s.dash ? { dash: 'dash' } : {}) },
  }));
  const layout: Record<string, unknown> = {
    title: { text: figure.title },
    xaxis: { title: { text: figure.xTitle } },
    yaxis: { title: { text: figure.yTitle }, ...(figure.yLog ? { type: 'log' } : {}) },
    legend: { orientation: 'h', y: -0.2 },
    margin: { t: 40, r: usesY2 ? 60 : 20, b: 40, l: 60 },
    height: 360,
  };
  if (usesY2) layout.yaxis2 = { title: { text: figure.y2Title ?? '' }, overlaying: 'y', side: 'right', ...(figure.y2Range ? { range: figure.y2Range } : {}) };
  return { data, layout };
}

/**
 * At most `max` points of a series, evenly strided, always keeping the first and the last: a
 * figure needs no more, and notebooks stay small (the run record keeps every point).
 */
export function thinSeries(series: Series, max: number): Series {
  const n = Math.min(series.x.length, series.y.length);
  if (n <= max) return series;
  const keep: number[] = [];
  for (let k = 0; k < max - 1; k++) keep.push(Math.floor((k * (n - 1)) / (max - 1)));
  keep.push(n - 1);
  return { ...series, x: keep.map((i) => series.x[i]), y: keep.map((i) => series.y[i]) };
}

/** Points per series in a figure bundle. */
export const MAX_FIGURE_POINTS = 250;

/** A Jupyter bundle: Plotly JSON, the static SVG and a one-line text fallback (series thinned to {@link MAX_FIGURE_POINTS}). */
export function figureBundle(figure: LineFigure): Record<string, unknown> {
  const thin = { ...figure, series: figure.series.map((s) => thinSeries(s, MAX_FIGURE_POINTS)) };
  return {
    'application/vnd.plotly.v1+json': plotlyJson(thin),
    'image/svg+xml': renderSvg(thin),
    'text/plain': `<figure: ${figure.title} — ${figure.series.map((s) => s.name).join(', ')}>`,
  };
}
