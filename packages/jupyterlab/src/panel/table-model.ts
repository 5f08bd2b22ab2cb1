/**
 * What the experiments panel's table shows, with no DOM: one row per run record, the columns
 * (fixed ones plus one per metric, the union over runs), sorting, filtering and the selection.
 */
import { decodeNumber, recordName, type FoundRecord, type RunRecord } from '../records';

/** One run record as a table row. */
export interface RunRow {
  /** Stable across re-scans: the record's id (suffixed `#2`, `#3`… when copies share one). */
  key: string;
  /** The run's name ({@link recordName}). */
  name: string;
  /** Index of the cell holding the record (0-based). */
  cellIndex: number;
  /** The cell's id (to find the cell again after cells move). */
  cellId: string;
  /** `config.adapter.method`, else `config.magic`, else ''. */
  method: string;
  /** The metrics as numbers (non-finite values decoded). */
  metrics: Record<string, number>;
  /** The seed as shown. */
  seed: string;
  /** The backend's name. */
  backend: string;
  /** The full content hash. */
  hash: string;
  /** The config as JSON (what the filter searches). */
  configJson: string;
  /** The record itself. */
  record: RunRecord;
}

/** A table column. */
export interface Column {
  /** `name`, `cell`, `method`, `metric:<name>`, `seed`, `backend` or `hash`. */
  id: string;
  /** The header text. */
  label: string;
  /** Whether values are numbers (right-aligned, compared numerically). */
  numeric: boolean;
  /** The value to sort by. */
  value(row: RunRow): string | number;
  /** The text shown in the cell. */
  text(row: RunRow): string;
}

/** Sort direction. */
export type SortDirection = 'asc' | 'desc';

/** The current sort. */
export interface SortState {
  column: string;
  direction: SortDirection;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The method of a run: `config.adapter.method`, else `config.magic`. */
export function runMethod(config: Record<string, unknown>): string {
  const adapter = config.adapter;
  if (isObject(adapter) && typeof adapter.method === 'string') return adapter.method;
  return typeof config.magic === 'string' ? config.magic : '';
}

/** Table rows for the records found in a notebook, in notebook order. */
export function toRows(found: FoundRecord[]): RunRow[] {
  const seen = new Map<string, number>();
  return found.map(({ cellIndex, cellId, record }) => {
    const base = record.id || `${cellIndex}`;
    const count = (seen.get(base) ?? 0) + 1;
    seen.set(base, count);
    const metrics: Record<string, number> = {};
    for (const [name, value] of Object.entries(record.metrics ?? {})) metrics[name] = decodeNumber(value);
    return {
      key: count === 1 ? base : `${base}#${count}`,
      name: recordName(record),
      cellIndex,
      cellId,
      method: runMethod(record.config ?? {}),
      metrics,
      seed: record.seed === undefined ? '' : String(record.seed),
      backend: record.backend?.name ?? '',
      hash: record.contentHash ?? '',
      configJson: JSON.stringify(record.config ?? {}),
      record,
    };
  });
}

/** Metric names over all rows, in order of first appearance. */
export function metricNames(rows: RunRow[]): string[] {
  const names = new Set<string>();
  for (const row of rows) for (const name of Object.keys(row.metrics)) names.add(name);
  return [...names];
}

/** How a metric value is shown: integers as they are, others to 4 significant digits. */
export function formatMetric(value: number | undefined): string {
  if (value === undefined) return '';
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '−∞';
  if (Number.isInteger(value)) return String(value);
  const abs = Math.abs(value);
  return abs !== 0 && (abs < 1e-3 || abs >= 1e6) ? value.toExponential(3) : String(Number(value.toPrecision(4)));
}

/** The columns for these rows: name, cell, method, one per metric, seed, backend, hash. */
export function columnsFor(rows: RunRow[]): Column[] {
  const text = (id: string, label: string, get: (row: RunRow) => string): Column => ({ id, label, numeric: false, value: get, text: get });
  const metrics = metricNames(rows).map(
    (name): Column => ({
      id: `metric:${name}`,
      label: name,
      numeric: true,
      value: (row) => row.metrics[name] ?? NaN,
      text: (row) => formatMetric(row.metrics[name]),
    }),
  );
  return [
    text('name', 'run', (row) => row.name),
    { id: 'cell', label: 'cell', numeric: true, value: (row) => row.cellIndex + 1, text: (row) => String(row.cellIndex + 1) },
    text('method', 'method', (row) => row.method),
    ...metrics,
    text('seed', 'seed', (row) => row.seed),
    text('backend', 'backend', (row) => row.backend),
    text('hash', 'hash', (row) => row.hash.slice(0, 10)),
  ];
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

/**
 * Compares two values: numbers numerically, strings with digits compared as numbers
 * (`run2` < `run10`), and missing values (NaN, '') last whatever the direction.
 */
export function compareValues(a: string | number, b: string | number, direction: SortDirection): number {
  const missing = (v: string | number) => (typeof v === 'number' ? Number.isNaN(v) : v === '');
  if (missing(a) || missing(b)) return missing(a) === missing(b) ? 0 : missing(a) ? 1 : -1;
  const order = typeof a === 'number' && typeof b === 'number' ? (a < b ? -1 : a > b ? 1 : 0) : collator.compare(String(a), String(b));
  return direction === 'asc' ? order : -order;
}

/** The rows sorted by a column (stable; unknown columns keep notebook order). */
export function sortRows(rows: RunRow[], columns: Column[], sort: SortState | undefined): RunRow[] {
  const column = sort && columns.find((c) => c.id === sort.column);
  if (!sort || !column) return [...rows];
  return rows
    .map((row, index) => ({ row, index }))
    .sort((x, y) => compareValues(column.value(x.row), column.value(y.row), sort.direction) || x.index - y.index)
    .map((x) => x.row);
}

/** The rows whose name, method or config JSON contains the text (case-insensitive; blank keeps all). */
export function filterRows(rows: RunRow[], text: string): RunRow[] {
  const needle = text.trim().toLowerCase();
  if (!needle) return [...rows];
  return rows.filter((row) => [row.name, row.method, row.configJson].some((s) => s.toLowerCase().includes(needle)));
}

/** Curve names over the rows, sorted. */
export function curveNames(rows: RunRow[]): string[] {
  const names = new Set<string>();
  for (const row of rows) for (const name of Object.keys(row.record.curves ?? {})) names.add(name);
  return [...names].sort();
}

/** The curve to show first: `test/accuracy` when there is one, else the first. */
export function defaultCurve(names: string[]): string | undefined {
  return names.includes('test/accuracy') ? 'test/accuracy' : names[0];
}

/**
 * The table's state: rows, sort, filter and selection. The selection is kept by row key (the
 * record's id), so it survives re-scans and moved cells, and only rows present count as selected.
 */
export class RunTableModel {
  private allRows: RunRow[] = [];
  private cols: Column[] = columnsFor([]);
  private selected = new Set<string>();
  private sortState: SortState | undefined;
  private filterText = '';

  /** All rows, in notebook order. */
  get rows(): RunRow[] {
    return this.allRows;
  }

  /** The columns for the current rows. */
  get columns(): Column[] {
    return this.cols;
  }

  /** The current sort, if any. */
  get sort(): SortState | undefined {
    return this.sortState;
  }

  /** The filter text. */
  get filter(): string {
    return this.filterText;
  }

  /**
   * Replaces the rows (a re-scan, or another notebook). The selection is remembered by key, so a
   * run comes back selected when its record does (switching back to a notebook, undoing a clear).
   */
  setRows(rows: RunRow[]): void {
    this.allRows = rows;
    this.cols = columnsFor(rows);
  }

  /** Sorts by a column: ascending first, then toggling. */
  toggleSort(column: string): void {
    this.sortState = this.sortState?.column === column ? { column, direction: this.sortState.direction === 'asc' ? 'desc' : 'asc' } : { column, direction: 'asc' };
  }

  /** Sets the filter text. */
  setFilter(text: string): void {
    this.filterText = text;
  }

  /** The rows to show: filtered, then sorted. */
  visibleRows(): RunRow[] {
    return sortRows(filterRows(this.allRows, this.filterText), this.cols, this.sortState);
  }

  /** Whether a row is selected. */
  isSelected(key: string): boolean {
    return this.selected.has(key) && this.allRows.some((r) => r.key === key);
  }

  /** Selects or deselects a row. */
  setSelected(key: string, on: boolean): void {
    if (on && this.allRows.some((r) => r.key === key)) this.selected.add(key);
    else this.selected.delete(key);
  }

  /** The selected rows, in notebook order (hidden by the filter or not). */
  selectedRows(): RunRow[] {
    return this.allRows.filter((r) => this.selected.has(r.key));
  }
}
