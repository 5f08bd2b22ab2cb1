/**
 * One "Verify reproducibility" of a notebook panel: reads its stored run records, re-runs its code
 * in a fresh kernel ({@link runFresh}) with progress in a notification, compares
 * ({@link compareRuns}) and opens the result beside the notebook. The notebook is only read.
 */
import type { JupyterFrontEnd } from '@jupyterlab/application';
import { MainAreaWidget, Notification } from '@jupyterlab/apputils';
import type { NotebookPanel } from '@jupyterlab/notebook';
import { checkIcon } from '@jupyterlab/ui-components';
import { UUID } from '@lumino/coreutils';
import { findRunRecords } from '../records';
import type { SettingsStore } from '../settings';
import { compareRuns, summary, type Tolerances } from './compare';
import { runFresh, type CodeToRun } from './fresh-run';
import { reportOk, VerifyResultView, type VerifyReport } from './result-view';

/** The kernelspec the notebook asks for: its metadata, else its running kernel's, else the default. */
export function kernelNameOf(app: JupyterFrontEnd, panel: NotebookPanel): string | undefined {
  const spec = panel.context.model.getMetadata('kernelspec') as { name?: unknown } | undefined;
  if (spec && typeof spec.name === 'string' && spec.name) return spec.name;
  return panel.sessionContext.session?.kernel?.name ?? app.serviceManager.kernelspecs.specs?.default;
}

/** The notebook's non-blank code cells, in order. */
export function codeCells(panel: NotebookPanel): CodeToRun[] {
  const cells = panel.context.model.cells;
  const code: CodeToRun[] = [];
  for (let cellIndex = 0; cellIndex < cells.length; cellIndex++) {
    const cell = cells.get(cellIndex);
    const source = cell.sharedModel.getSource();
    if (cell.type === 'code' && source.trim()) code.push({ cellIndex, source });
  }
  return code;
}

/** Verifies the notebook in `panel`; resolves when the result is shown (or there was nothing to do). */
export async function verifyNotebook(app: JupyterFrontEnd, panel: NotebookPanel, settings: SettingsStore | null): Promise<void> {
  const name = panel.context.localPath.split('/').pop() ?? panel.title.label;
  const stored = findRunRecords(panel.context.model);
  if (stored.length === 0) {
    Notification.info(`${name}: nothing to verify — the notebook has no run records.`, { autoClose: 5000 });
    return;
  }
  const kernelName = kernelNameOf(app, panel);
  if (!kernelName) {
    Notification.error(`${name}: cannot verify — no kernel to run it with.`, { autoClose: false });
    return;
  }
  const tolerances: Tolerances = { rtol: settings?.values.verifyRtol ?? 0, atol: settings?.values.verifyAtol ?? 0 };
  const cells = codeCells(panel);
  const id = Notification.emit(`Verifying ${name}: starting a fresh ${kernelName} kernel…`, 'in-progress', { autoClose: false, progress: 0 });
  const started = performance.now();
  let cancelAction: Notification.IAction[] = [];
  try {
    const fresh = await runFresh({
      sessions: app.serviceManager.sessions,
      notebookPath: panel.sessionContext.path,
      kernelName,
      cells,
      uuid: () => UUID.uuid4(),
      onStarted: (cancel) => {
        cancelAction = [
          {
            label: 'Cancel',
            caption: 'Stop the re-run and shut its kernel down',
            callback: (event) => {
              event.preventDefault();
              cancel();
            },
          },
        ];
        Notification.update({ id, actions: cancelAction });
      },
      onProgress: (k, n) => Notification.update({ id, message: `Verifying ${name}: cell ${k} of ${n}`, progress: (k - 1) / n, actions: cancelAction }),
    });
    if (fresh.cancelled) {
      Notification.update({ id, type: 'warning', message: `Verification of ${name} cancelled.`, actions: [], autoClose: 5000 });
      return;
    }
    const verification = compareRuns(stored, fresh.records, tolerances);
    const report: VerifyReport = { notebook: name, kernelName, verification, error: fresh.error, executed: fresh.executed, cells: cells.length, tolerances, elapsedMs: performance.now() - started };
    showReport(app, panel, report);
    const ok = reportOk(report);
    const message = fresh.error ? `${name}: the re-run stopped at cell ${fresh.error.cellIndex + 1} (${fresh.error.ename}). ${summary(verification)}` : `${name}: ${summary(verification)}`;
    Notification.update({ id, type: ok ? 'success' : 'error', message, progress: 1, actions: [], autoClose: ok ? 5000 : false });
  } catch (reason) {
    const text = reason instanceof Error ? reason.message : String(reason);
    Notification.update({ id, type: 'error', message: `Verifying ${name} failed: ${text}`, actions: [], autoClose: false });
  }
}

/** Opens the report in the main area, to the right of the notebook. */
function showReport(app: JupyterFrontEnd, panel: NotebookPanel, report: VerifyReport): void {
  const widget = new MainAreaWidget({ content: new VerifyResultView(report) });
  widget.id = `hyperlab-verify-${UUID.uuid4()}`;
  widget.title.label = `Verify: ${report.notebook}`;
  widget.title.icon = checkIcon;
  widget.title.closable = true;
  widget.addClass('hl-verify-widget');
  app.shell.add(widget, 'main', { mode: 'split-right', ref: panel.id });
}
