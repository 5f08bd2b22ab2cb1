/**
 * The runs table's DOM, drawn from a {@link RunTableModel}: sortable headers, a checkbox per row,
 * run names that go to their cells, and sweeps that expand to their trials. Hooks:
 * `tr.hl-run-row[data-run][data-kind]`, `input.hl-run-select`, `th[data-column]` (with
 * `aria-sort`), `button.hl-expand[aria-expanded]` on a sweep, `tr.hl-trial-row[data-sweep][data-trial]`
 * (`[data-best]` and `.hl-best` on the best trial).
 */
import type { RunRow, RunTableModel } from './table-model';

/** What the table reports. */
export interface RunsTableEvents {
  /** A header was clicked. */
  sort(column: string): void;
  /** A row's checkbox changed. */
  select(row: RunRow, on: boolean): void;
  /** A run name was clicked. */
  open(row: RunRow): void;
  /** A sweep's expander was clicked. */
  expand(row: RunRow, on: boolean): void;
}

/** The table, re-drawn whole on every change (notebooks hold tens of runs, not thousands). */
export class RunsTable {
  readonly node: HTMLTableElement;

  constructor(private readonly events: RunsTableEvents) {
    this.node = document.createElement('table');
    this.node.className = 'hl-runs-table';
  }

  /** Draws the model's visible rows. */
  render(model: RunTableModel): void {
    const head = document.createElement('thead');
    const headRow = head.insertRow();
    headRow.appendChild(document.createElement('th')).className = 'hl-select-column';
    for (const column of model.columns) {
      const th = document.createElement('th');
      th.dataset.column = column.id;
      th.textContent = column.label;
      th.title = column.id === 'cell' ? 'cell number (1-based); click to sort' : `sort by ${column.label}`;
      if (column.numeric) th.classList.add('hl-numeric');
      const sorted = model.sort?.column === column.id ? model.sort.direction : undefined;
      th.setAttribute('aria-sort', sorted === 'asc' ? 'ascending' : sorted === 'desc' ? 'descending' : 'none');
      if (sorted) th.dataset.sorted = sorted;
      th.addEventListener('click', () => this.events.sort(column.id));
      headRow.appendChild(th);
    }
    const body = document.createElement('tbody');
    const names = new Map(model.rows.map((r) => [r.key, r.name]));
    for (const row of model.visibleRows()) {
      const tr = body.insertRow();
      tr.className = 'hl-run-row';
      tr.dataset.run = row.name;
      tr.dataset.key = row.key;
      tr.dataset.kind = row.kind;
      tr.dataset.cell = String(row.cellIndex);
      if (row.trial) {
        tr.classList.add('hl-trial-row');
        tr.dataset.sweep = names.get(row.trial.parent) ?? row.trial.parent;
        tr.dataset.trial = row.trial.trialId;
        if (row.trial.best) tr.dataset.best = 'true';
      }
      const selected = model.isSelected(row.key);
      tr.classList.toggle('hl-selected', selected);
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.className = 'hl-run-select';
      box.checked = selected;
      box.title = `select ${row.name}`;
      box.addEventListener('change', () => this.events.select(row, box.checked));
      tr.insertCell().appendChild(box);
      for (const column of model.columns) {
        const td = tr.insertCell();
        if (column.numeric) td.classList.add('hl-numeric');
        if (column.id === 'name') {
          this.nameCell(td, row, model);
        } else {
          td.textContent = column.text(row);
          if (column.id === 'hash') td.title = row.hash;
        }
      }
    }
    this.node.replaceChildren(head, body);
  }

  /** The name cell: a sweep's expander, the name (a link to the cell), a trial's best mark. */
  private nameCell(td: HTMLTableCellElement, row: RunRow, model: RunTableModel): void {
    if (row.sweep) {
      const open = model.isExpanded(row.key);
      const expander = document.createElement('button');
      expander.type = 'button';
      expander.className = 'hl-expand';
      expander.textContent = open ? '▾' : '▸';
      expander.setAttribute('aria-expanded', String(open));
      const n = row.sweep.trials.length;
      expander.title = `${open ? 'hide' : 'show'} the ${n} trial${n === 1 ? '' : 's'}`;
      expander.addEventListener('click', () => this.events.expand(row, !open));
      td.appendChild(expander);
    }
    const link = document.createElement('button');
    link.type = 'button';
    link.className = 'hl-run-name';
    link.textContent = row.trial ? row.trial.trialId : row.name;
    link.title = row.trial ? `${row.name}: go to the sweep's cell ${row.cellIndex + 1}` : `go to cell ${row.cellIndex + 1}`;
    link.addEventListener('click', () => this.events.open(row));
    td.appendChild(link);
    if (row.trial?.best) {
      const star = document.createElement('span');
      star.className = 'hl-best';
      star.textContent = '★';
      star.title = 'best trial';
      td.appendChild(star);
    }
  }
}
