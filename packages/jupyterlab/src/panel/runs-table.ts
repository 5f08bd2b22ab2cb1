/**
 * The runs table's DOM, drawn from a {@link RunTableModel}: sortable headers, a checkbox per row,
 * run names that go to their cells. Hooks: `tr.hl-run-row[data-run]`, `input.hl-run-select`,
 * `th[data-column]` (with `aria-sort`).
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
    for (const row of model.visibleRows()) {
      const tr = body.insertRow();
      tr.className = 'hl-run-row';
      tr.dataset.run = row.name;
      tr.dataset.key = row.key;
      tr.dataset.cell = String(row.cellIndex);
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
          const link = document.createElement('button');
          link.type = 'button';
          link.className = 'hl-run-name';
          link.textContent = row.name;
          link.title = `go to cell ${row.cellIndex + 1}`;
          link.addEventListener('click', () => this.events.open(row));
          td.appendChild(link);
        } else {
          td.textContent = column.text(row);
          if (column.id === 'hash') td.title = row.hash;
        }
      }
    }
    this.node.replaceChildren(head, body);
  }
}
