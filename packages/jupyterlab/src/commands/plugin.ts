/**
 * HyperLab's notebook commands other than verify: "Insert Experiment Template" and "Export
 * Report" (palette, and the notebook's context menu), and sending the live-update rate setting to
 * HyperLab kernels when they start and when it changes.
 */
import type { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, Notification } from '@jupyterlab/apputils';
import { INotebookTracker, type NotebookPanel } from '@jupyterlab/notebook';
import { addIcon, fileIcon } from '@jupyterlab/ui-components';
import type { SettingsStore } from '../settings';
import { CommandIDs, IHyperlabSettings } from '../tokens';
import { isHyperlabNotebook, runKernelMagic } from './kernel-magic';
import { exportReport } from './report';
import { insertTemplate } from './templates';

const failed = (what: string) => (error: unknown) => Notification.error(`${what}: ${(error as Error).message}`, { autoClose: 8000 });

/** Sends `%live_rate` to the notebook's kernel whenever it (re)starts. */
function followLiveRate(panel: NotebookPanel, settings: SettingsStore): void {
  let pending = true;
  const send = (): void => {
    const kernel = panel.sessionContext.session?.kernel;
    if (!kernel || !isHyperlabNotebook(panel.model?.metadata as never, kernel.name)) return;
    void runKernelMagic(kernel, `%live_rate ${settings.values.liveUpdateRate}`).catch(() => undefined);
  };
  panel.sessionContext.statusChanged.connect((_, status) => {
    if (status === 'restarting' || status === 'starting') pending = true;
    else if (status === 'idle' && pending) {
      pending = false;
      send();
    }
  });
  settings.changed.connect(send);
}

/** Registers the commands. */
function activate(app: JupyterFrontEnd, tracker: INotebookTracker, settings: SettingsStore, palette: ICommandPalette | null): void {
  const current = (): NotebookPanel | null => tracker.currentWidget;
  const enabled = (): boolean => current() !== null && current() === app.shell.currentWidget;
  app.commands.addCommand(CommandIDs.insertTemplate, {
    label: 'Insert Experiment Template',
    caption: "Insert a cell with an experiment magic's template (%%adapter …), from the kernel's magics",
    icon: addIcon,
    isEnabled: enabled,
    execute: () => {
      const panel = current();
      if (panel) return insertTemplate(panel).catch(failed('Insert experiment template'));
    },
  });
  app.commands.addCommand(CommandIDs.exportReport, {
    label: 'Export Report',
    caption: 'Save the notebook and write its self-contained HTML report beside it (hyperlab report)',
    icon: fileIcon,
    isEnabled: enabled,
    execute: () => {
      const panel = current();
      if (panel) return exportReport(panel).catch(failed('Export report'));
    },
  });
  for (const command of [CommandIDs.insertTemplate, CommandIDs.exportReport]) {
    palette?.addItem({ command, category: 'HyperLab' });
    app.contextMenu.addItem({ command, selector: '.jp-Notebook', rank: 90 });
  }
  tracker.widgetAdded.connect((_, panel) => followLiveRate(panel, settings));
  tracker.forEach((panel) => followLiveRate(panel, settings));
}

/** The commands plugin. */
export const commandsPlugin: JupyterFrontEndPlugin<void> = {
  id: '@hyperlab/jupyterlab:commands',
  description: 'Insert Experiment Template and Export Report commands; sends the live-update rate to HyperLab kernels.',
  autoStart: true,
  requires: [INotebookTracker, IHyperlabSettings],
  optional: [ICommandPalette],
  activate,
};
