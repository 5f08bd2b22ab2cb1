/**
 * Renders `application/vnd.plotly.v1+json` with plotly.js (loaded on first use), resizing with the
 * panel. Once a figure has settled it writes a PNG snapshot of it into the same output
 * (`image/png`), so the saved notebook shows the figure where no Plotly renderer exists (GitHub,
 * nbviewer, a JupyterLab without this extension). The snapshot is tagged with a hash of the figure
 * it was taken from, so re-rendering the same figure does not rewrite it, and a live figure is
 * snapshotted only after its updates stop.
 */
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import type { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';
import { loadPlotly, type PlotlyApi } from '../plotly-loader';
import { PLOTLY_MIME } from '../records';
import { fnv1a, snapshotNeeded, SNAPSHOT_KEY } from './plotly-snapshot';

/** How long a figure must stay unchanged before it is snapshotted (ms). */
const SETTLE_MS = 1500;

interface Figure {
  data?: unknown[];
  layout?: Record<string, unknown>;
  config?: Record<string, unknown>;
  frames?: unknown[];
}

/** A Plotly figure output. */
export class PlotlyRenderer extends Widget implements IRenderMime.IRenderer {
  private plotly: PlotlyApi | undefined;
  private plot: HTMLElement;
  private snapshotTimer: number | undefined;

  constructor(private readonly options: IRenderMime.IRendererOptions) {
    super();
    this.addClass('hl-plotly');
    this.plot = document.createElement('div');
    this.plot.className = 'hl-plotly-plot';
    this.node.appendChild(this.plot);
  }

  /** Draws (or redraws in place) the figure. */
  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const figure = (model.data[this.options.mimeType] ?? {}) as Figure;
    const plotly = (this.plotly ??= await loadPlotly());
    if (this.isDisposed) return;
    const layout = { autosize: true, ...(figure.layout ?? {}) };
    await plotly.react(this.plot, figure.data ?? [], layout, { responsive: true, displaylogo: false, ...(figure.config ?? {}) });
    this.scheduleSnapshot(model, figure);
  }

  private scheduleSnapshot(model: IRenderMime.IMimeModel, figure: Figure): void {
    window.clearTimeout(this.snapshotTimer);
    const hash = fnv1a(JSON.stringify(figure));
    if (!snapshotNeeded(model.data, model.metadata, hash) || !model.trusted) return;
    this.snapshotTimer = window.setTimeout(() => void this.snapshot(model, hash), SETTLE_MS);
  }

  private async snapshot(model: IRenderMime.IMimeModel, hash: string): Promise<void> {
    if (this.isDisposed || !this.plotly || !this.plot.isConnected) return;
    const width = Math.max(320, this.plot.clientWidth || 640);
    const height = Math.max(200, this.plot.clientHeight || 360);
    const url = await this.plotly.toImage(this.plot, { format: 'png', width, height });
    const base64 = url.slice(url.indexOf(',') + 1);
    model.setData({
      data: { ...model.data, 'image/png': base64 },
      metadata: { ...model.metadata, [SNAPSHOT_KEY]: hash, 'image/png': { width, height } },
    });
  }

  protected override onResize(msg: Widget.ResizeMessage): void {
    super.onResize(msg);
    if (this.plotly && this.plot.isConnected) this.plotly.Plots.resize(this.plot);
  }

  protected override onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    if (this.plotly && this.plot.isConnected) this.plotly.Plots.resize(this.plot);
  }

  override dispose(): void {
    window.clearTimeout(this.snapshotTimer);
    if (this.plotly) this.plotly.purge(this.plot);
    super.dispose();
  }
}

/** The renderer factory (preferred over the PNG/SVG fallbacks in the same bundle). */
export const plotlyFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [PLOTLY_MIME],
  defaultRank: 0,
  createRenderer: (options) => new PlotlyRenderer(options),
};
