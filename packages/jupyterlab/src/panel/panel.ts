/**
 * The experiments panel: the run records of the current notebook as a sortable, filterable table
 * (a sweep expands to its trials, the best marked); the detail of the selected runs by kind (a
 * continual run's accuracy matrix, a sweep's sortable trials table); an overlay chart of one curve
 * across the selected runs; with exactly two selected, a diff of their configs. It follows the notebook tracker and re-scans when the notebook changes
 * (debounced), so new runs appear as their cells finish.
 */
import type { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import type { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';
import { findRunRecords } from '../records';
import { ConfigDiff } from './config-diff';
import { OverlayChart } from './overlay-chart';
import { RunDetail } from './run-detail';
import { RunsTable } from './runs-table';
import { RunTableModel, toRows, type RunRow } from './table-model';

/** How long the notebook must be quiet before a re-scan, ms. */
export const RESCAN_DELAY_MS = 300;

/** Options of {@link ExperimentsPanel}. */
export interface ExperimentsPanelOptions {
  /** The notebooks to follow (the current one is shown). */
  tracker: INotebookTracker;
  /** Brings a notebook to the front (`app.shell.activateById`). */
  activateNotebook(panel: NotebookPanel): void;
}

/** The experiments panel (a sidebar widget). */
export class ExperimentsPanel extends Widget {
  private readonly model = new RunTableModel();
  private readonly tracker: INotebookTracker;
  private readonly activateNotebook: (panel: NotebookPanel) => void;
  private readonly heading: HTMLDivElement;
  private readonly filter: HTMLInputElement;
  private readonly message: HTMLDivElement;
  private readonly hint: HTMLDivElement;
  private readonly table: RunsTable;
  private readonly detail = new RunDetail();
  private readonly chart = new OverlayChart();
  private readonly diff = new ConfigDiff();
  private notebook: NotebookPanel | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private signature = '';

  constructor(options: ExperimentsPanelOptions) {
    super();
    this.addClass('hl-experiments');
    this.tracker = options.tracker;
    this.activateNotebook = options.activateNotebook;

    this.heading = document.createElement('div');
    this.heading.className = 'hl-experiments-title';
    this.filter = document.createElement('input');
    this.filter.type = 'search';
    this.filter.className = 'hl-filter jp-mod-styled';
    this.filter.placeholder = 'Filter runs (name, method, config)';
    this.filter.setAttribute('aria-label', 'Filter runs');
    this.filter.addEventListener('input', () => {
      this.model.setFilter(this.filter.value);
      this.renderTable();
    });
    this.message = document.createElement('div');
    this.message.className = 'hl-experiments-message';
    this.table = new RunsTable({
      sort: (column) => {
        this.model.toggleSort(column);
        this.renderTable();
      },
      select: (row, on) => {
        this.model.setSelected(row.key, on);
        this.renderTable();
        this.renderSelection();
      },
      open: (row) => void this.openRun(row),
      expand: (row, on) => {
        this.model.setExpanded(row.key, on);
        this.renderTable();
      },
    });
    const scroll = document.createElement('div');
    scroll.className = 'hl-runs-scroll';
    scroll.appendChild(this.table.node);
    this.hint = document.createElement('div');
    this.hint.className = 'hl-experiments-hint';
    this.hint.textContent = 'Select runs to see their details and overlay a curve; select two to compare their configs.';
    this.node.append(this.heading, this.filter, scroll, this.message, this.hint, this.detail.node, this.chart.node, this.diff.node);

    this.tracker.currentChanged.connect(this.onCurrentChanged, this);
    this.follow(this.tracker.currentWidget);
    this.renderTable();
  }

  /** The notebook shown. */
  get current(): NotebookPanel | null {
    return this.notebook;
  }

  override dispose(): void {
    if (this.isDisposed) return;
    clearTimeout(this.timer);
    this.tracker.currentChanged.disconnect(this.onCurrentChanged, this);
    this.follow(null);
    this.detail.dispose();
    this.chart.dispose();
    this.diff.dispose();
    super.dispose();
  }

  /** Re-scans the notebook now. */
  scan(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const rows = this.notebook && !this.notebook.isDisposed ? toRows(findRunRecords(this.notebook.context.model)) : [];
    const signature = `${this.notebook?.id ?? ''}|${rows.map((r) => `${r.key}:${r.cellIndex}:${r.hash}:${r.name}`).join(',')}`;
    if (signature === this.signature) return;
    this.signature = signature;
    this.model.setRows(rows);
    this.renderTable();
    this.renderSelection();
  }

  protected override onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this.detail.resize();
    this.chart.resize();
    this.diff.layout();
  }

  protected override onResize(msg: Widget.ResizeMessage): void {
    super.onResize(msg);
    this.detail.resize();
    this.chart.resize();
  }

  private onCurrentChanged(_: INotebookTracker, panel: NotebookPanel | null): void {
    this.follow(panel);
  }

  /** Follows another notebook (or none). */
  private follow(panel: NotebookPanel | null): void {
    if (panel === this.notebook) return;
    if (this.notebook) {
      this.notebook.context.model.contentChanged.disconnect(this.schedule, this);
      this.notebook.disposed.disconnect(this.onNotebookDisposed, this);
    }
    this.notebook = panel;
    if (panel) {
      panel.context.model.contentChanged.connect(this.schedule, this);
      panel.disposed.connect(this.onNotebookDisposed, this);
      void panel.context.ready.then(() => this.notebook === panel && this.scan());
    }
    this.scan();
  }

  private onNotebookDisposed(panel: NotebookPanel): void {
    if (panel === this.notebook) this.follow(null);
  }

  /** Re-scans once the notebook has been quiet for {@link RESCAN_DELAY_MS}. */
  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.scan(), RESCAN_DELAY_MS);
  }

  private renderTable(): void {
    const rows = this.model.visibleRows();
    const name = this.notebook ? this.notebook.context.localPath.split('/').pop() : undefined;
    const count = this.model.rows.length;
    this.heading.textContent = name ? `${name} · ${count} run${count === 1 ? '' : 's'}` : 'Experiments';
    this.table.render(this.model);
    this.table.node.hidden = count === 0;
    this.filter.hidden = count === 0;
    this.hint.hidden = count === 0;
    this.message.textContent = !this.notebook
      ? 'Open a notebook to see its runs.'
      : count === 0
        ? 'No run records in this notebook yet: run an experiment magic (%%adapter, %%sweep, …) to add one.'
        : rows.length === 0
          ? `No run matches “${this.model.filter.trim()}”.`
          : '';
    this.message.hidden = !this.message.textContent;
  }

  private renderSelection(): void {
    const selected = this.model.selectedRows();
    this.detail.show(selected);
    void this.chart.show(selected);
    void this.diff.show(selected.length === 2 ? [selected[0], selected[1]] : undefined);
  }

  /** Brings the run's notebook to the front and makes the run's cell active, scrolled into view. */
  private async openRun(row: RunRow): Promise<void> {
    const panel = this.notebook;
    if (!panel) return;
    const cells = panel.context.model.cells;
    let index = row.cellIndex;
    for (let i = 0; i < cells.length; i++) {
      if (cells.get(i).id === row.cellId) {
        index = i;
        break;
      }
    }
    if (index >= cells.length) return;
    this.activateNotebook(panel);
    panel.content.activeCellIndex = index;
    await panel.content.scrollToItem(index, 'center');
  }
}
