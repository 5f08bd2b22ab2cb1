/**
 * The overlay chart: one curve (picked in a `<select>`) across the selected runs, drawn by
 * plotly (loaded on first use) inside `.hl-overlay`.
 */
import { loadPlotly, type PlotlyApi } from '../plotly-loader';
import { overlayFigure } from './chart-data';
import { curveNames, defaultCurve, type RunRow } from './table-model';

/** A CSS variable of the current JupyterLab theme. */
const themeVar = (name: string, fallback: string): string => getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;

/** The chart section: a curve picker and the plot. */
export class OverlayChart {
  /** The section (hidden with no selection). */
  readonly node: HTMLDivElement;
  /** The plot's container, `.hl-overlay`. */
  readonly plot: HTMLDivElement;
  private readonly select: HTMLSelectElement;
  private readonly note: HTMLDivElement;
  private rows: RunRow[] = [];
  private curve: string | undefined;
  private plotly: PlotlyApi | undefined;
  private version = 0;

  constructor() {
    this.node = document.createElement('div');
    this.node.className = 'hl-overlay-section';
    const label = document.createElement('label');
    label.className = 'hl-curve-label';
    label.textContent = 'curve ';
    this.select = document.createElement('select');
    this.select.className = 'hl-curve-select';
    this.select.addEventListener('change', () => {
      this.curve = this.select.value;
      void this.draw();
    });
    label.appendChild(this.select);
    this.note = document.createElement('div');
    this.note.className = 'hl-overlay-note';
    this.plot = document.createElement('div');
    this.plot.className = 'hl-overlay';
    this.node.append(label, this.plot, this.note);
    this.node.hidden = true;
  }

  /** Shows the selected runs (hides the chart when there are none). */
  async show(rows: RunRow[]): Promise<void> {
    this.rows = rows;
    this.node.hidden = rows.length === 0;
    const names = curveNames(rows);
    if (!this.curve || !names.includes(this.curve)) this.curve = defaultCurve(names);
    this.select.replaceChildren(
      ...names.map((name) => {
        const option = document.createElement('option');
        option.value = option.textContent = name;
        option.selected = name === this.curve;
        return option;
      }),
    );
    await this.draw();
  }

  /** Resizes the plot to its container. */
  resize(): void {
    if (this.plotly && !this.node.hidden && this.plot.isConnected) this.plotly.Plots.resize(this.plot);
  }

  /** Releases the plot. */
  dispose(): void {
    this.version++;
    this.plotly?.purge(this.plot);
  }

  private async draw(): Promise<void> {
    const version = ++this.version;
    if (this.rows.length === 0 || !this.curve) {
      this.plotly?.purge(this.plot);
      this.note.textContent = this.rows.length ? 'The selected runs have no curves.' : '';
      return;
    }
    const figure = overlayFigure(this.rows, this.curve);
    this.note.textContent = figure.without.length ? `No ${this.curve} curve: ${figure.without.join(', ')}` : '';
    const plotly = (this.plotly ??= await loadPlotly());
    if (version !== this.version) return;
    const color = themeVar('--jp-ui-font-color1', '#333');
    const grid = themeVar('--jp-border-color2', '#ddd');
    const axis = (title: string) => ({ title: { text: title }, gridcolor: grid, zerolinecolor: grid });
    const layout = {
      margin: { l: 48, r: 8, t: 8, b: 40 },
      height: 260,
      autosize: true,
      paper_bgcolor: 'rgba(0,0,0,0)',
      plot_bgcolor: 'rgba(0,0,0,0)',
      font: { color, size: 11 },
      xaxis: axis('step'),
      yaxis: axis(this.curve),
      legend: { orientation: 'h', y: -0.25 },
      showlegend: true,
    };
    await plotly.react(this.plot, figure.data, layout, { responsive: true, displaylogo: false });
  }
}
