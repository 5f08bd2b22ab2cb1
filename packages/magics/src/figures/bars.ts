/**
 * Grouped bar charts as the magics draw them (`%compare` of continual runs: ACC, BWT, FWT and
 * forgetting side by side), in the two renderings every figure has: Plotly JSON (`type: 'bar'`,
 * `barmode: 'group'`) and a static SVG of the same bars.
 */
import { niceTicks } from './svg.js';
import { PALETTE } from './figure.js';

/** Bars grouped by category (a metric), one bar per series (a run) in each group. */
export interface BarFigure {
  title: string;
  yTitle: string;
  /** Group labels along x. */
  categories: string[];
  /** One series per run: its value in each category (NaN: no bar). */
  series: Array<{ name: string; values: number[] }>;
}

const escapeXml = (text: string): string => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

/** The Plotly JSON (`{ data, layout }`) of a bar figure. */
export function barPlotlyJson(figure: BarFigure): { data: unknown[]; layout: Record<string, unknown> } {
  return {
    data: figure.series.map((s, i) => ({
      type: 'bar',
      name: s.name,
      x: figure.categories,
      y: s.values.map((v) => (Number.isFinite(v) ? v : null)),
      marker: { color: PALETTE[i % PALETTE.length] },
    })),
    layout: { title: { text: figure.title }, barmode: 'group', yaxis: { title: { text: figure.yTitle } }, legend: { orientation: 'h', y: -0.2 }, margin: { t: 40, r: 20, b: 40, l: 60 }, height: 360 },
  };
}

/** A static SVG of the bars, with a zero line, y ticks and a legend. */
export function renderBarSvg(figure: BarFigure, width = 640, height = 360): string {
  const values = figure.series.flatMap((s) => s.values).filter(Number.isFinite);
  const [min, max] = [Math.min(0, ...values), Math.max(0, ...values)];
  const ticks = niceTicks(min, max);
  // The axis covers every bar and every tick.
  const lo = Math.min(min, ticks[0] ?? 0);
  const hi = Math.max(max, ticks[ticks.length - 1] ?? 1, lo + 1e-9);
  const left = 60;
  const right = 20;
  const top = 36;
  const bottom = 70;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const y = (v: number): number => top + plotH - ((v - lo) / (hi - lo || 1)) * plotH;
  const groupW = plotW / Math.max(1, figure.categories.length);
  const barW = (groupW * 0.8) / Math.max(1, figure.series.length);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<text x="${width / 2}" y="18" text-anchor="middle" font-size="13">${escapeXml(figure.title)}</text>`,
  ];
  for (const t of ticks) parts.push(`<line x1="${left}" x2="${width - right}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#e5e5e5"/><text x="${left - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end">${Number(t.toPrecision(4))}</text>`);
  parts.push(`<line x1="${left}" x2="${width - right}" y1="${y(0).toFixed(1)}" y2="${y(0).toFixed(1)}" stroke="#444"/>`);
  figure.categories.forEach((category, c) => {
    const x0 = left + c * groupW + groupW * 0.1;
    figure.series.forEach((s, k) => {
      const v = s.values[c];
      if (!Number.isFinite(v)) return;
      const [a, b] = [y(Math.max(0, v)), y(Math.min(0, v))];
      parts.push(`<rect x="${(x0 + k * barW).toFixed(1)}" y="${a.toFixed(1)}" width="${(barW * 0.92).toFixed(1)}" height="${Math.max(0.5, b - a).toFixed(1)}" fill="${PALETTE[k % PALETTE.length]}"><title>${escapeXml(`${s.name} ${category}: ${v}`)}</title></rect>`);
    });
    parts.push(`<text x="${(left + c * groupW + groupW / 2).toFixed(1)}" y="${top + plotH + 16}" text-anchor="middle">${escapeXml(category)}</text>`);
  });
  figure.series.forEach((s, k) => {
    const x = left + k * 120;
    parts.push(`<rect x="${x}" y="${height - 22}" width="10" height="10" fill="${PALETTE[k % PALETTE.length]}"/><text x="${x + 14}" y="${height - 13}">${escapeXml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

/** A Jupyter bundle of a bar figure: Plotly JSON, the SVG and a one-line text fallback. */
export function barBundle(figure: BarFigure): Record<string, unknown> {
  return {
    'application/vnd.plotly.v1+json': barPlotlyJson(figure),
    'image/svg+xml': renderBarSvg(figure),
    'text/plain': `<figure: ${figure.title} — ${figure.series.map((s) => s.name).join(', ')}>`,
  };
}
