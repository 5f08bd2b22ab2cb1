/**
 * "Verify Reproducibility": re-runs the current notebook in a fresh kernel and checks that its run
 * records come out the same. In the command palette and, through `schema/plugin.json`'s
 * `jupyter.lab.toolbars` entry `hyperlab-verify`, on the notebook toolbar.
 */
import type { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { INotebookTracker, type NotebookPanel } from '@jupyterlab/notebook';
import { checkIcon } from '@jupyterlab/ui-components';
import type { SettingsStore } from '../settings';
import { CommandIDs, IHyperlabSettings } from '../tokens';
import { verifyNotebook } from './verify-notebook';

/**
 * Adds the verify command. It acts on the current notebook; from the palette that must be the
 * focused main-area widget, from the notebook's own toolbar (`args.toolbar`) the notebook is current
 * by the time the click lands. A notebook being verified cannot be verified again until it ends.
 */
function activate(app: JupyterFrontEnd, tracker: INotebookTracker, settings: SettingsStore | null, palette: ICommandPalette | null): void {
  const running = new Set<NotebookPanel>();
  const target = (args: { toolbar?: unknown }): NotebookPanel | null => {
    const panel = tracker.currentWidget;
    if (!panel) return null;
    return args.toolbar === true || panel === app.shell.currentWidget ? panel : null;
  };
  app.commands.addCommand(CommandIDs.verify, {
    label: 'Verify Reproducibility',
    caption: 'Re-run this notebook in a fresh kernel, without changing it, and check that its run records reproduce (same content hash, or metrics within the verify tolerances)',
    icon: checkIcon,
    isEnabled: (args) => {
      const panel = target(args);
      return panel !== null && !running.has(panel);
    },
    execute: async (args) => {
      const panel = target(args);
      if (!panel || running.has(panel)) return;
      running.add(panel);
      app.commands.notifyCommandChanged(CommandIDs.verify);
      try {
        await verifyNotebook(app, panel, settings);
      } finally {
        running.delete(panel);
        app.commands.notifyCommandChanged(CommandIDs.verify);
      }
    },
  });
  const changed = (): void => app.commands.notifyCommandChanged(CommandIDs.verify);
  tracker.currentChanged.connect(changed);
  app.shell.currentChanged?.connect(changed);
  palette?.addItem({ command: CommandIDs.verify, category: 'HyperLab' });
}

/** The verify plugin. */
export const verifyPlugin: JupyterFrontEndPlugin<void> = {
  id: '@hyperlab/jupyterlab:verify',
  description: "Re-runs a notebook in a fresh kernel and checks that its run records reproduce.",
  autoStart: true,
  requires: [INotebookTracker],
  optional: [IHyperlabSettings, ICommandPalette],
  activate,
};
