/**
 * A static SVG rendering of a {@link LineFigure}: axes with "nice" ticks, one polyline per series
 * (gaps at non-finite values), an optional right axis, a legend. Self-contained (no fonts or
 * scripts to fetch), so it shows wherever SVG does.
 */
import { seriesColor, type LineFigure } from './figure.js';

/** Size of the SVG in pixels. */
export interface SvgOptions {
  width?: number;
  height?: number;
}

const escapeXml = (text: string): string => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

/** Round tick values covering [lo, hi], about `count` of them. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(Number.isFinite(lo) && Number.isFinite(hi))) return [];
  if (lo === hi) {
    const pad = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1;
    [lo, hi] = [lo - pad, hi + pad];
  }
  const raw = (hi - lo) / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

const label = (value: number): string => {
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 1e5 || abs < 1e-3) return value.toExponential(1);
  return String(Number(value.toPrecision(4)));
};

interface Axis {
  lo: number;
  hi: number;
  ticks: number[];
}

function axisOf(values: number[], fixed?: [number, number], log = false): Axis {
  const finiteValues = values.filter((v) => Number.isFinite(v) && (!log || v > 0)).map((v) => (log ? Math.log10(v) : v));
  let lo = fixed ? fixed[0] : Math.min(...finiteValues);
  let hi = fixed ? fixed[1] : Math.max(...finiteValues);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) [lo, hi] = [0, 1];
  const ticks = niceTicks(lo, hi);
  if (!fixed && ticks.length) [lo, hi] = [Math.min(lo, ticks[0]), Math.max(hi, ticks[ticks.length - 1])];
  if (lo === hi) [lo, hi] = [lo - 1, hi + 1];
  return { lo, hi, ticks: ticks.filter((t) => t >= lo - 1e-12 && t <= hi + 1e-12) };
}

/** The SVG document of a figure. */
export function renderSvg(figure: LineFigure, options: SvgOptions = {}): string {
  const width = options.width ?? 640;
  const height = options.height ?? 360;
  const usesY2 = figure.series.some((s) => s.axis === 'y2');
  const legendRows = Math.ceil(figure.series.length / 3);
  const margin = { top: 36, right: usesY2 ? 64 : 20, bottom: 44 + legendRows * 18, left: 64 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const log = figure.yLog === true;
  const x = axisOf(figure.series.flatMap((s) => s.x));
  const y = axisOf(figure.series.filter((s) => s.axis !== 'y2').flatMap((s) => s.y), undefined, log);
  const y2 = usesY2 ? axisOf(figure.series.filter((s) => s.axis === 'y2').flatMap((s) => s.y), figure.y2Range) : undefined;
  const px = (v: number): number => margin.left + ((v - x.lo) / (x.hi - x.lo)) * plotW;
  const py = (v: number, axis: Axis, isLog: boolean): number => margin.top + plotH - (((isLog ? Math.log10(v) : v) - axis.lo) / (axis.hi - axis.lo)) * plotH;
  const f = (n: number): string => n.toFixed(1);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`);
  parts.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  parts.push(`<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(figure.title)}</text>`);
  // Grid and left ticks.
  for (const t of y.ticks) {
    const yy = f(margin.top + plotH - ((t - y.lo) / (y.hi - y.lo)) * plotH);
    parts.push(`<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${yy}" y2="${yy}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${margin.left - 6}" y="${yy}" dy="0.32em" text-anchor="end">${escapeXml(label(log ? 10 ** t : t))}</text>`);
  }
  for (const t of x.ticks) {
    const xx = f(px(t));
    parts.push(`<line x1="${xx}" x2="${xx}" y1="${margin.top + plotH}" y2="${margin.top + plotH + 4}" stroke="#444"/>`);
    parts.push(`<text x="${xx}" y="${margin.top + plotH + 16}" text-anchor="middle">${escapeXml(label(t))}</text>`);
  }
  if (y2) {
    for (const t of y2.ticks) {
      const yy = f(margin.top + plotH - ((t - y2.lo) / (y2.hi - y2.lo)) * plotH);
      parts.push(`<text x="${margin.left + plotW + 6}" y="${yy}" dy="0.32em">${escapeXml(label(t))}</text>`);
    }
    parts.push(`<text transform="translate(${width - 12} ${margin.top + plotH / 2}) rotate(90)" text-anchor="middle">${escapeXml(figure.y2Title ?? '')}</text>`);
  }
  parts.push(`<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#444"/>`);
  parts.push(`<text x="${margin.left + plotW / 2}" y="${margin.top + plotH + 32}" text-anchor="middle">${escapeXml(figure.xTitle)}</text>`);
  parts.push(`<text transform="translate(14 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(figure.yTitle)}</text>`);
  // Lines: split at non-finite values.
  figure.series.forEach((s, index) => {
    const axis = s.axis === 'y2' && y2 ? y2 : y;
    const isLog = s.axis !== 'y2' && log;
    const color = seriesColor(s, index);
    let run: string[] = [];
    const flush = (): void => {
      if (run.length > 1) parts.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5"${s.dash ? ' stroke-dasharray="5 3"' : ''} points="${run.join(' ')}"/>`);
      run = [];
    };
    for (let i = 0; i < Math.min(s.x.length, s.y.length); i++) {
      const v = s.y[i];
      if (!Number.isFinite(v) || !Number.isFinite(s.x[i]) || (isLog && v <= 0)) {
        flush();
        continue;
      }
      const point = `${f(px(s.x[i]))},${f(py(v, axis, isLog))}`;
      run.push(point);
      if (s.markers || s.x.length === 1) parts.push(`<circle cx="${f(px(s.x[i]))}" cy="${f(py(v, axis, isLog))}" r="2.5" fill="${color}"/>`);
    }
    flush();
  });
  // Legend, three entries a row.
  figure.series.forEach((s, index) => {
    const row = Math.floor(index / 3);
    const col = index % 3;
    const lx = margin.left + col * (plotW / 3);
    const ly = height - margin.bottom + 44 + row * 18;
    parts.push(`<line x1="${f(lx)}" x2="${f(lx + 18)}" y1="${ly}" y2="${ly}" stroke="${seriesColor(s, index)}" stroke-width="2"${s.dash ? ' stroke-dasharray="5 3"' : ''}/>`);
    parts.push(`<text x="${f(lx + 24)}" y="${ly}" dy="0.32em">${escapeXml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}
