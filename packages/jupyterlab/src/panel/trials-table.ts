/**
 * A sweep's trials as a sortable table (click a header: ascending, again: descending), the best
 * trial marked. Hooks: `table.hl-trials-table[data-sweep]`, `th[data-column][aria-sort]`,
 * `tr.hl-trial[data-trial]` (`[data-best]`, `.hl-best`).
 */
import type { SweepSummary } from '../experiments/sweep-outcome';
import type { SortState } from './table-model';
import { defaultTrialSort, sortTrials, trialColumns } from './trials-model';

/** One sweep's trials table; it keeps its own sort. */
export class TrialsTable {
  readonly node: HTMLTableElement;
  private sort: SortState;

  constructor(private readonly sweep: SweepSummary) {
    this.node = document.createElement('table');
    this.node.className = 'hl-trials-table';
    this.node.dataset.sweep = sweep.sweepId;
    this.sort = defaultTrialSort(sweep);
    this.render();
  }

  /** Sorts by a column: ascending first, then toggling. */
  toggleSort(column: string): void {
    this.sort = this.sort.column === column ? { column, direction: this.sort.direction === 'asc' ? 'desc' : 'asc' } : { column, direction: 'asc' };
    this.render();
  }

  private render(): void {
    const columns = trialColumns(this.sweep);
    const head = this.node.createTHead();
    head.replaceChildren();
    const headRow = head.insertRow();
    for (const column of columns) {
      const th = document.createElement('th');
      th.dataset.column = column.id;
      th.textContent = column.label;
      th.title = `sort by ${column.label}`;
      if (column.numeric) th.classList.add('hl-numeric');
      const sorted = this.sort.column === column.id ? this.sort.direction : undefined;
      th.setAttribute('aria-sort', sorted === 'asc' ? 'ascending' : sorted === 'desc' ? 'descending' : 'none');
      if (sorted) th.dataset.sorted = sorted;
      th.addEventListener('click', () => this.toggleSort(column.id));
      headRow.appendChild(th);
    }
    const body = document.createElement('tbody');
    for (const trial of sortTrials(this.sweep, this.sort)) {
      const tr = body.insertRow();
      tr.className = 'hl-trial';
      tr.dataset.trial = trial.trialId;
      tr.dataset.status = trial.status;
      const best = trial.trialId === this.sweep.bestTrialId;
      if (best) tr.dataset.best = 'true';
      for (const column of columns) {
        const td = tr.insertCell();
        td.textContent = column.text(trial);
        if (column.numeric) td.classList.add('hl-numeric');
        if (column.id === 'trial' && best) {
          const star = document.createElement('span');
          star.className = 'hl-best';
          star.textContent = ' ★';
          star.title = `best ${this.sweep.objective.metric} (${this.sweep.objective.mode})`;
          td.appendChild(star);
        }
      }
    }
    this.node.tBodies[0]?.remove();
    this.node.appendChild(body);
  }
}
