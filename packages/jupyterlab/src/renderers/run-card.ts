/** Renders `application/vnd.hyperlab.run.v1+json` outputs as run cards. */
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';
import { isRunRecord, RUN_RECORD_MIME } from '../records';
import { escapeHtml, runCardHtml } from './run-card-html';

/** A run card. */
export class RunCardRenderer extends Widget implements IRenderMime.IRenderer {
  constructor(private readonly options: IRenderMime.IRendererOptions) {
    super();
    this.addClass('hl-run-card-output');
  }

  /** Renders (or re-renders) the record. */
  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const value = model.data[this.options.mimeType];
    this.node.innerHTML = isRunRecord(value) ? runCardHtml(value) : `<pre class="hl-error">${escapeHtml(`not a HyperLab run record: ${JSON.stringify(value).slice(0, 200)}`)}</pre>`;
  }
}

/** The renderer factory. */
export const runCardFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [RUN_RECORD_MIME],
  defaultRank: 0,
  createRenderer: (options) => new RunCardRenderer(options),
};
