/**
 * Heatmaps as the magics draw them (a continual run's accuracy matrix R, where row i is "after
 * training experience i" and column j "evaluated on experience j"), in the same two renderings as
 * line figures: Plotly JSON (a `heatmap` trace with the values written in the cells) and a static
 * SVG of the same cells, so the matrix shows where no Plotly renderer exists.
 */

/** A matrix of values in [zMin, zMax]; `null` cells are not filled yet (drawn empty). */
export interface HeatmapFigure {
  title: string;
  xTitle: string;
  yTitle: string;
  /** Column labels (left to right). */
  x: string[];
  /** Row labels (top to bottom). */
  y: string[];
  /** `z[row][column]`. */
  z: Array<Array<number | null>>;
  /** Colour scale range. Default [0, 1]. */
  zRange?: [number, number];
  /** How a cell's value is written (default: as a percentage with one decimal). */
  format?: (value: number) => string;
}

const percent = (value: number): string => `${(100 * value).toFixed(1)}`;

const escapeXml = (text: string): string => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

/** Viridis at a few stops, so both renderings use one colour scale. */
const VIRIDIS: Array<[number, [number, number, number]]> = [
  [0, [68, 1, 84]],
  [0.25, [59, 82, 139]],
  [0.5, [33, 145, 140]],
  [0.75, [94, 201, 98]],
  [1, [253, 231, 37]],
];

/** The colour of `t` ∈ [0, 1] on the scale (linear between stops). */
export function viridis(t: number): string {
  const u = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0));
  let k = 0;
  while (k < VIRIDIS.length - 2 && u > VIRIDIS[k + 1][0]) k++;
  const [t0, c0] = VIRIDIS[k];
  const [t1, c1] = VIRIDIS[k + 1];
  const f = (u - t0) / (t1 - t0);
  const mix = c0.map((v, i) => Math.round(v + f * (c1[i] - v)));
  return `rgb(${mix[0]},${mix[1]},${mix[2]})`;
}

/** The Plotly JSON (`{ data, layout }`) of a heatmap. */
export function heatmapPlotlyJson(figure: HeatmapFigure): { data: unknown[]; layout: Record<string, unknown> } {
  const [zmin, zmax] = figure.zRange ?? [0, 1];
  const format = figure.format ?? percent;
  return {
    data: [
      {
        type: 'heatmap',
        x: figure.x,
        y: figure.y,
        z: figure.z,
        zmin,
        zmax,
        colorscale: VIRIDIS.map(([t, c]) => [t, `rgb(${c.join(',')})`]),
        text: figure.z.map((row) => row.map((v) => (v === null ? '' : format(v)))),
        texttemplate: '%{text}',
        hovertemplate: `${figure.yTitle} %{y}, ${figure.xTitle} %{x}: %{text}<extra></extra>`,
      },
    ],
    layout: {
      // The x axis sits on top (as R is read: rows trained through, columns evaluated on), so the
      // title goes to the top of the figure and the margin holds both it and the axis' labels.
      title: { text: figure.title, y: 1, yref: 'container', yanchor: 'top', pad: { t: 10 } },
      xaxis: { title: { text: figure.xTitle }, side: 'top' },
      yaxis: { title: { text: figure.yTitle }, autorange: 'reversed' },
      margin: { t: 100, r: 20, b: 20, l: 80 },
      height: Math.max(290, 90 + 44 * figure.y.length),
    },
  };
}

/** A static SVG of the heatmap: coloured cells with their values, row and column labels. */
export function renderHeatmapSvg(figure: HeatmapFigure): string {
  const [zmin, zmax] = figure.zRange ?? [0, 1];
  const format = figure.format ?? percent;
  const cell = 44;
  const left = 110;
  const top = 64;
  const width = left + cell * figure.x.length + 20;
  const height = top + cell * figure.y.length + 20;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<text x="${width / 2}" y="16" text-anchor="middle" font-size="13">${escapeXml(figure.title)}</text>`,
    `<text x="${left + (cell * figure.x.length) / 2}" y="34" text-anchor="middle">${escapeXml(figure.xTitle)}</text>`,
    `<text x="12" y="${top + (cell * figure.y.length) / 2}" text-anchor="middle" transform="rotate(-90 12 ${top + (cell * figure.y.length) / 2})">${escapeXml(figure.yTitle)}</text>`,
  ];
  figure.x.forEach((label, j) => parts.push(`<text x="${left + j * cell + cell / 2}" y="${top - 8}" text-anchor="middle">${escapeXml(label)}</text>`));
  figure.y.forEach((label, i) => {
    parts.push(`<text x="${left - 6}" y="${top + i * cell + cell / 2 + 4}" text-anchor="end">${escapeXml(label)}</text>`);
    figure.x.forEach((_, j) => {
      const value = figure.z[i]?.[j] ?? null;
      const x = left + j * cell;
      const y = top + i * cell;
      if (value === null) {
        parts.push(`<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="#f4f4f4" stroke="#fff"/>`);
        return;
      }
      const t = (value - zmin) / (zmax - zmin || 1);
      parts.push(`<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${viridis(t)}" stroke="#fff"/>`);
      parts.push(`<text x="${x + cell / 2}" y="${y + cell / 2 + 4}" text-anchor="middle" fill="${t > 0.6 ? '#000' : '#fff'}">${escapeXml(format(value))}</text>`);
    });
  });
  parts.push('</svg>');
  return parts.join('');
}

/** A Jupyter bundle of a heatmap: Plotly JSON, the SVG and a text table. */
export function heatmapBundle(figure: HeatmapFigure): Record<string, unknown> {
  const format = figure.format ?? percent;
  const width = Math.max(...figure.y.map((l) => l.length), 4);
  const column = Math.max(6, ...figure.x.map((l) => l.length + 2));
  const rows = figure.y.map((label, i) => `${label.padEnd(width)}  ${figure.x.map((_, j) => {
    const v = figure.z[i]?.[j] ?? null;
    return (v === null ? '·' : format(v)).padStart(column);
  }).join('')}`);
  return {
    'application/vnd.plotly.v1+json': heatmapPlotlyJson(figure),
    'image/svg+xml': renderHeatmapSvg(figure),
    'text/plain': [`${figure.title}`, `${''.padEnd(width)}  ${figure.x.map((l) => l.padStart(column)).join('')}`, ...rows].join('\n'),
  };
}
