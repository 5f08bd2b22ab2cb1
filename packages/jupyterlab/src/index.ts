/**
 * @hyperlab/jupyterlab — JupyterLab 4 plugins for HyperLab notebooks. The MIME renderers (Plotly,
 * run cards) are the separate `mime.ts` entry (`jupyterlab.mimeExtension`).
 */
import type { JupyterFrontEndPlugin } from '@jupyterlab/application';
import { settingsPlugin } from './settings-plugin';
import { experimentsPanelPlugin } from './panel/plugin';
import { verifyPlugin } from './verify/plugin';
import { commandsPlugin } from './commands/plugin';
import { yamlCellsPlugin } from './editor/yaml-cells';

const plugins: JupyterFrontEndPlugin<unknown>[] = [settingsPlugin, experimentsPanelPlugin, verifyPlugin, commandsPlugin, yamlCellsPlugin];

export default plugins;
