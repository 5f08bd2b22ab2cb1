/**
 * The accuracy matrix R as a Plotly heatmap figure: rows are the experiences trained (first at
 * the top), columns the experiences evaluated, each cell labelled with its accuracy. Pure, for
 * tests; drawn by {@link MatrixHeatmap}.
 */
import type { AccuracyMatrix } from '../experiments/accuracy-matrix';

/** A Plotly heatmap figure. */
export interface MatrixFigure {
  data: Array<Record<string, unknown>>;
  layout: Record<string, unknown>;
}

/** Colours and size of the figure (the theme's, in JupyterLab). */
export interface MatrixStyle {
  /** Text colour. */
  color: string;
  /** Height in px. */
  height: number;
}

/** The heatmap of R: accuracy 0…1 on a fixed scale, so runs compare at a glance. */
export function matrixFigure(matrix: AccuracyMatrix, style: MatrixStyle): MatrixFigure {
  const x = matrix.evaluated.map((j) => `exp ${j}`);
  const y = matrix.trained.map((i) => `after ${i}`);
  return {
    data: [
      {
        type: 'heatmap',
        z: matrix.values,
        x,
        y,
        zmin: 0,
        zmax: 1,
        colorscale: 'Viridis',
        texttemplate: '%{z:.2f}',
        hovertemplate: 'trained up to %{y}, tested on %{x}: %{z:.4f}<extra></extra>',
        colorbar: { thickness: 10, len: 0.9, tickformat: '.0%' },
        xgap: 1,
        ygap: 1,
      },
    ],
    layout: {
      height: style.height,
      margin: { l: 64, r: 8, t: 8, b: 36 },
      autosize: true,
      paper_bgcolor: 'rgba(0,0,0,0)',
      plot_bgcolor: 'rgba(0,0,0,0)',
      font: { color: style.color, size: 11 },
      xaxis: { title: { text: 'tested on' }, side: 'bottom', type: 'category' },
      yaxis: { title: { text: 'trained' }, autorange: 'reversed', type: 'category' },
    },
  };
}
