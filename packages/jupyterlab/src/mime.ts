/**
 * The MIME renderer extensions (`jupyterlab.mimeExtension`): Plotly figures and HyperLab run
 * cards. Both rank before the HTML/PNG/SVG fallbacks the same outputs carry.
 */
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { plotlyFactory } from './renderers/plotly';
import { runCardFactory } from './renderers/run-card';

const extensions: IRenderMime.IExtension[] = [
  {
    id: '@hyperlab/jupyterlab:plotly',
    description: 'Renders Plotly figures (application/vnd.plotly.v1+json) and stores a PNG snapshot in the output.',
    rendererFactory: plotlyFactory,
    rank: 0,
    dataType: 'json',
  },
  {
    id: '@hyperlab/jupyterlab:run-card',
    description: 'Renders HyperLab run records (application/vnd.hyperlab.run.v1+json) as run cards.',
    rendererFactory: runCardFactory,
    rank: 0,
    dataType: 'json',
  },
];

export default extensions;
