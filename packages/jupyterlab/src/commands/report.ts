/** "Export Report": saves the notebook, then the kernel writes `hyperlab report`'s HTML beside it. */
import { Notification } from '@jupyterlab/apputils';
import { PageConfig, PathExt, URLExt } from '@jupyterlab/coreutils';
import type { NotebookPanel } from '@jupyterlab/notebook';
import { runKernelMagic } from './kernel-magic';

/** Exports the report of `panel`'s notebook; resolves with the report's path (server-relative). */
export async function exportReport(panel: NotebookPanel): Promise<string | undefined> {
  const kernel = panel.sessionContext.session?.kernel;
  if (!kernel) {
    Notification.error('Export report: the notebook has no running kernel.', { autoClose: 5000 });
    return undefined;
  }
  await panel.context.save();
  const file = PathExt.basename(panel.context.path);
  const html = file.replace(/\.ipynb$/i, '') + '.html';
  // The kernel's working folder is the notebook's (unless a cell changed it with %cd).
  await runKernelMagic(kernel, `%report "${file}" -o "${html}"`);
  const reportPath = PathExt.join(PathExt.dirname(panel.context.path), html);
  const url = URLExt.join(PageConfig.getBaseUrl(), 'files', URLExt.encodeParts(reportPath));
  Notification.success(`Report written: ${reportPath}`, { autoClose: 8000, actions: [{ label: 'Open', callback: () => window.open(url, '_blank') }] });
  return reportPath;
}
