/** "Insert Experiment Template": asks the kernel for its experiment magics and inserts one's template. */
import { InputDialog, Notification } from '@jupyterlab/apputils';
import { NotebookActions, type NotebookPanel } from '@jupyterlab/notebook';
import { runKernelMagic } from './kernel-magic';
import { templateCell, templateEntries, takenNames, templatesOf } from './template-text';

/** Inserts a template cell below the active cell of `panel`. */
export async function insertTemplate(panel: NotebookPanel): Promise<void> {
  const kernel = panel.sessionContext.session?.kernel;
  if (!kernel) {
    Notification.error('Insert experiment template: the notebook has no running kernel.', { autoClose: 5000 });
    return;
  }
  const templates = templateEntries(templatesOf((await runKernelMagic(kernel, '%magic_templates')).displays));
  if (templates.length === 0) {
    Notification.error('Insert experiment template: the kernel has no experiment magics (is it the HyperLab kernel?).', { autoClose: 5000 });
    return;
  }
  let chosen = templates[0];
  if (templates.length > 1) {
    const labels = templates.map((t) => t.label);
    const answer = await InputDialog.getItem({ title: 'Insert experiment template', items: labels });
    if (!answer.button.accept || answer.value === null) return;
    chosen = templates[labels.indexOf(answer.value)];
  }
  const notebook = panel.content;
  const sources = (panel.model?.sharedModel.cells ?? []).map((cell) => cell.getSource());
  NotebookActions.insertBelow(notebook);
  notebook.activeCell?.model.sharedModel.setSource(templateCell(chosen, takenNames(sources)));
}
