/**
 * A continual run's accuracy matrix drawn by plotly (loaded on first use) in a node of its own,
 * `.hl-matrix`; used by the run card and the experiments panel's detail.
 */
import type { AccuracyMatrix } from '../experiments/accuracy-matrix';
import { loadPlotly, type PlotlyApi } from '../plotly-loader';
import { matrixFigure } from './matrix-figure';

/** A CSS variable of the current JupyterLab theme. */
const themeVar = (name: string, fallback: string): string => getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;

/** The heatmap of one accuracy matrix. */
export class MatrixHeatmap {
  /** The plot's node (`.hl-matrix[data-size]`, e.g. `5x5`). */
  readonly node: HTMLDivElement;
  private plotly: PlotlyApi | undefined;
  private disposed = false;

  constructor(private readonly matrix: AccuracyMatrix) {
    this.node = document.createElement('div');
    this.node.className = 'hl-matrix';
    this.node.dataset.size = `${matrix.trained.length}x${matrix.evaluated.length}`;
    this.node.setAttribute('aria-label', 'accuracy matrix: rows trained, columns tested');
  }

  /** Draws the heatmap (once the node is in the document). */
  async draw(): Promise<void> {
    const plotly = (this.plotly ??= await loadPlotly());
    if (this.disposed) return;
    const height = Math.max(160, Math.min(320, 60 + 30 * this.matrix.trained.length));
    const figure = matrixFigure(this.matrix, { color: themeVar('--jp-ui-font-color1', '#333'), height });
    await plotly.react(this.node, figure.data, figure.layout, { responsive: true, displaylogo: false, displayModeBar: false });
  }

  /** Resizes the plot to its container. */
  resize(): void {
    if (this.plotly && this.node.isConnected) this.plotly.Plots.resize(this.node);
  }

  /** Releases the plot. */
  dispose(): void {
    this.disposed = true;
    this.plotly?.purge(this.node);
  }
}
