/**
 * The panel's detail of the selected runs, by kind: a continual run's accuracy matrix as a
 * heatmap, a sweep's trials as a sortable table. Runs of other kinds have no detail (their curves
 * and configs are in the overlay and the diff). Hooks: `.hl-detail[data-run][data-kind]`.
 */
import { accuracyMatrix } from '../experiments/accuracy-matrix';
import { MatrixHeatmap } from '../renderers/matrix-heatmap';
import type { RunRow } from './table-model';
import { TrialsTable } from './trials-table';

/** At most this many details at once (a heatmap each). */
const MAX_DETAILS = 4;

/** The detail section. */
export class RunDetail {
  /** The section (hidden when no selected run has a detail). */
  readonly node: HTMLDivElement;
  private heatmaps: MatrixHeatmap[] = [];
  private shown = '';

  constructor() {
    this.node = document.createElement('div');
    this.node.className = 'hl-detail-section';
    this.node.hidden = true;
  }

  /** Shows the details of these runs (the first {@link MAX_DETAILS} that have one). */
  show(rows: RunRow[]): void {
    const withDetail = rows.filter((row) => row.sweep || accuracyMatrix(row.record)).slice(0, MAX_DETAILS);
    const key = withDetail.map((row) => `${row.key}:${row.hash}`).join(',');
    if (key === this.shown) return;
    this.shown = key;
    this.clear();
    this.node.hidden = withDetail.length === 0;
    for (const row of withDetail) {
      const section = document.createElement('section');
      section.className = 'hl-detail';
      section.dataset.run = row.name;
      section.dataset.kind = row.kind;
      const title = document.createElement('div');
      title.className = 'hl-detail-title';
      section.appendChild(title);
      this.node.appendChild(section);
      if (row.sweep) {
        const { summary } = row.sweep;
        title.textContent = `${row.name}: ${summary.trials.length} trials (${summary.algorithm || 'sweep'}), ${summary.objective.metric} ${summary.objective.mode === 'max' ? '↑' : '↓'}`;
        const scroll = document.createElement('div');
        scroll.className = 'hl-trials-scroll';
        scroll.appendChild(new TrialsTable(summary).node);
        section.appendChild(scroll);
      } else {
        title.textContent = `${row.name}: accuracy matrix (rows: trained up to, columns: tested on)`;
        const heatmap = new MatrixHeatmap(accuracyMatrix(row.record)!);
        this.heatmaps.push(heatmap);
        section.appendChild(heatmap.node);
        void heatmap.draw();
      }
    }
  }

  /** Resizes the heatmaps. */
  resize(): void {
    for (const heatmap of this.heatmaps) heatmap.resize();
  }

  /** Releases the heatmaps. */
  dispose(): void {
    this.clear();
  }

  private clear(): void {
    for (const heatmap of this.heatmaps) heatmap.dispose();
    this.heatmaps = [];
    this.node.replaceChildren();
  }
}
