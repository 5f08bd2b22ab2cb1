/**
 * YAML highlighting for experiment-magic bodies: a code cell of a HyperLab notebook whose first
 * line is `%%adapter` (or another magic with a YAML body) is edited as YAML (its editor's MIME type
 * becomes `text/x-yaml`, which JupyterLab's CodeMirror highlights); any other cell keeps the
 * notebook's TypeScript. Re-applied when the source changes and when the notebook resets the MIME
 * types (kernel change).
 */
import type { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import type { ICellModel } from '@jupyterlab/cells';
import { INotebookTracker, type NotebookPanel } from '@jupyterlab/notebook';
import { isHyperlabNotebook } from '../commands/kernel-magic';
import { cellMimeType, YAML_MAGICS, YAML_MIME } from './yaml-magic';

function watchCell(panel: NotebookPanel, cell: ICellModel): void {
  if (cell.type !== 'code') return;
  const apply = (): void => {
    if (panel.isDisposed || !isHyperlabNotebook(panel.model?.metadata as never, panel.sessionContext.session?.kernel?.name)) return;
    const want = cellMimeType(cell.sharedModel.getSource(), panel.content.codeMimetype, YAML_MAGICS);
    if (cell.mimeType !== want) cell.mimeType = want;
  };
  cell.contentChanged.connect(apply);
  cell.mimeTypeChanged.connect((_, change) => {
    if (change.newValue !== YAML_MIME) apply();
  });
  apply();
}

function watchNotebook(panel: NotebookPanel): void {
  const model = panel.model;
  if (!model) return;
  for (let i = 0; i < model.cells.length; i++) watchCell(panel, model.cells.get(i));
  model.cells.changed.connect((_, change) => {
    if (change.type === 'add') for (const cell of change.newValues) watchCell(panel, cell);
  });
  panel.sessionContext.kernelChanged.connect(() => {
    for (let i = 0; i < model.cells.length; i++) {
      const cell = model.cells.get(i);
      if (cell.type === 'code') cell.mimeType = cellMimeType(cell.sharedModel.getSource(), panel.content.codeMimetype, YAML_MAGICS);
    }
  });
}

/** Follows every notebook. */
function activate(_app: JupyterFrontEnd, tracker: INotebookTracker): void {
  tracker.widgetAdded.connect((_, panel) => {
    void panel.context.ready.then(() => watchNotebook(panel));
  });
  tracker.forEach((panel) => void panel.context.ready.then(() => watchNotebook(panel)));
}

/** The YAML highlighting plugin. */
export const yamlCellsPlugin: JupyterFrontEndPlugin<void> = {
  id: '@hyperlab/jupyterlab:yaml-cells',
  description: 'Highlights the YAML body of %%adapter (and other experiment magic) cells in HyperLab notebooks.',
  autoStart: true,
  requires: [INotebookTracker],
  activate,
};
