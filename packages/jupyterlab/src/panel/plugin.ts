/**
 * The experiments panel in the right sidebar, and the command that opens it.
 */
import { ILayoutRestorer, type JupyterFrontEnd, type JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { tableRowsIcon } from '@jupyterlab/ui-components';
import { CommandIDs } from '../tokens';
import { ExperimentsPanel } from './panel';

/** The panel's widget id. */
export const PANEL_ID = 'hyperlab-experiments';

/**
 * Adds the experiments panel to the right sidebar (restored open or closed as the user left it)
 * and the "Open Experiments Panel" command.
 */
function activate(app: JupyterFrontEnd, tracker: INotebookTracker, restorer: ILayoutRestorer | null, palette: ICommandPalette | null): void {
  const panel = new ExperimentsPanel({ tracker, activateNotebook: (notebook) => app.shell.activateById(notebook.id) });
  panel.id = PANEL_ID;
  panel.title.icon = tableRowsIcon;
  panel.title.caption = 'Experiments';
  app.shell.add(panel, 'right', { rank: 600 });
  restorer?.add(panel, PANEL_ID);

  app.commands.addCommand(CommandIDs.openPanel, {
    label: 'Open Experiments Panel',
    caption: "Show the current notebook's runs: compare metrics, overlay curves, diff configs",
    icon: tableRowsIcon,
    execute: () => app.shell.activateById(PANEL_ID),
  });
  palette?.addItem({ command: CommandIDs.openPanel, category: 'HyperLab' });
}

/** The experiments panel plugin. */
export const experimentsPanelPlugin: JupyterFrontEndPlugin<void> = {
  id: '@hyperlab/jupyterlab:experiments',
  description: "A sidebar panel with the current notebook's run records: sortable table, curve overlay, config diff.",
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ILayoutRestorer, ICommandPalette],
  activate,
};
