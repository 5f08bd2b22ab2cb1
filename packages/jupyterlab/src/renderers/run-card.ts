/** Renders `application/vnd.hyperlab.run.v1+json` outputs as run cards. */
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import type { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';
import { accuracyMatrix } from '../experiments/accuracy-matrix';
import { isRunRecord, RUN_RECORD_MIME } from '../records';
import { MatrixHeatmap } from './matrix-heatmap';
import { escapeHtml, runCardHtml } from './run-card-html';

/** A run card; a continual run's card draws its accuracy matrix as a heatmap. */
export class RunCardRenderer extends Widget implements IRenderMime.IRenderer {
  private heatmap: MatrixHeatmap | undefined;

  constructor(private readonly options: IRenderMime.IRendererOptions) {
    super();
    this.addClass('hl-run-card-output');
  }

  /** Renders (or re-renders) the record. */
  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const value = model.data[this.options.mimeType];
    this.heatmap?.dispose();
    this.heatmap = undefined;
    this.node.innerHTML = isRunRecord(value) ? runCardHtml(value) : `<pre class="hl-error">${escapeHtml(`not a HyperLab run record: ${JSON.stringify(value).slice(0, 200)}`)}</pre>`;
    const slot = this.node.querySelector('.hl-run-matrix');
    const matrix = isRunRecord(value) ? accuracyMatrix(value) : undefined;
    if (slot && matrix) {
      this.heatmap = new MatrixHeatmap(matrix);
      slot.appendChild(this.heatmap.node);
      await this.heatmap.draw();
    }
  }

  protected override onResize(msg: Widget.ResizeMessage): void {
    super.onResize(msg);
    this.heatmap?.resize();
  }

  protected override onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this.heatmap?.resize();
  }

  override dispose(): void {
    this.heatmap?.dispose();
    super.dispose();
  }
}

/** The renderer factory. */
export const runCardFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [RUN_RECORD_MIME],
  defaultRank: 0,
  createRenderer: (options) => new RunCardRenderer(options),
};
