/**
 * What the experiments panel's table shows, with no DOM: one row per run record (a sweep's trials
 * as rows under it, shown when it is expanded), the columns (fixed ones plus one per metric, the
 * union over runs), sorting, filtering, expansion and the selection.
 */
import { experimentKind, experimentMethod, type ExperimentKind } from '../experiments/kind';
import { sweepSummary, type SweepSummary } from '../experiments/sweep-outcome';
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
  /** Which magic wrote it ({@link experimentKind}). */
  kind: ExperimentKind;
  /** The method column's text ({@link experimentMethod}: `lora`, `ewc`, `asha · adapter`…). */
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
  /** The record itself (for a trial: made from its compacted record and the sweep's `trial/<id>/…` curves). */
  record: RunRecord;
  /** A sweep's outcome and its trials' rows (in trial-id order). */
  sweep?: { summary: SweepSummary; trials: RunRow[] };
  /** A trial's sweep: the sweep row's key, the trial's id, and whether it is the sweep's best. */
  trial?: { parent: string; trialId: string; best: boolean };
}

/** A table column. */
export interface Column {
  /** `name`, `cell`, `kind`, `method`, `metric:<name>`, `seed`, `backend` or `hash`. */
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

/** A record as a row (`key` already made unique). */
function rowOf(key: string, cellIndex: number, cellId: string, record: RunRecord): RunRow {
  const metrics: Record<string, number> = {};
  for (const [name, value] of Object.entries(record.metrics ?? {})) metrics[name] = decodeNumber(value);
  return {
    key,
    name: recordName(record),
    cellIndex,
    cellId,
    kind: experimentKind(record),
    method: experimentMethod(record),
    metrics,
    seed: record.seed === undefined ? '' : String(record.seed),
    backend: record.backend?.name ?? '',
    hash: record.contentHash ?? '',
    configJson: JSON.stringify(record.config ?? {}),
    record,
  };
}

/** A sweep's trial as a record: its compacted record and seed, the sweep's backend and environment, its curves. */
function trialRecord(sweep: RunRecord, trial: SweepSummary['trials'][number]): RunRecord {
  const prefix = `trial/${trial.trialId}/`;
  const curves: RunRecord['curves'] = {};
  for (const [name, curve] of Object.entries(sweep.curves ?? {})) if (name.startsWith(prefix)) curves[name.slice(prefix.length)] = curve;
  const seed = trial.seed ?? sweep.seed;
  return { ...sweep, id: `${sweep.id}/${trial.trialId}`, name: trial.name, seed, config: trial.config, metrics: trial.metrics, curves, contentHash: trial.contentHash, data: [], outcome: undefined };
}

/** Table rows for the records found in a notebook, in notebook order (a sweep's trials under it). */
export function toRows(found: FoundRecord[]): RunRow[] {
  const seen = new Map<string, number>();
  return found.map(({ cellIndex, cellId, record }) => {
    const base = record.id || `${cellIndex}`;
    const count = (seen.get(base) ?? 0) + 1;
    seen.set(base, count);
    const row = rowOf(count === 1 ? base : `${base}#${count}`, cellIndex, cellId, record);
    const summary = row.kind === 'sweep' ? sweepSummary(record) : undefined;
    if (summary) {
      const trials = summary.trials.map((t) => ({
        ...rowOf(`${row.key}/${t.trialId}`, cellIndex, cellId, trialRecord(record, t)),
        trial: { parent: row.key, trialId: t.trialId, best: t.trialId === summary.bestTrialId },
      }));
      row.sweep = { summary, trials };
    }
    return row;
  });
}

/** The rows and, after each sweep, its trials. */
export function withTrials(rows: RunRow[]): RunRow[] {
  return rows.flatMap((row) => [row, ...(row.sweep?.trials ?? [])]);
}

/**
 * Metrics that repeat others and would only widen the table: Avalanche's names for ACC, BWT, FWT
 * and forgetting (`StreamBWT/eval_phase/test_stream`, the same values as `bwt`), a sweep's
 * `best/<metric>` (its best trial's metrics, on that trial's row) and its `scaling/*` fit (in the
 * run card). They stay in the record, the run card and the filter.
 */
export function isAliasMetric(name: string): boolean {
  return name.includes('/eval_phase/') || name.startsWith('best/') || name.startsWith('scaling/');
}

/** Column headers for metrics with a conventional short name. */
const METRIC_LABELS: Record<string, string> = { acc: 'ACC', bwt: 'BWT', fwt: 'FWT', compressionRatio: 'compression' };

/** Metric names over all rows and their trials, in order of first appearance (aliases left out). */
export function metricNames(rows: RunRow[]): string[] {
  const names = new Set<string>();
  for (const row of withTrials(rows)) for (const name of Object.keys(row.metrics)) if (!isAliasMetric(name)) names.add(name);
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

/** The columns for these rows: name, cell, kind, method, one per metric, seed, backend, hash. */
export function columnsFor(rows: RunRow[]): Column[] {
  const text = (id: string, label: string, get: (row: RunRow) => string): Column => ({ id, label, numeric: false, value: get, text: get });
  const metrics = metricNames(rows).map(
    (name): Column => ({
      id: `metric:${name}`,
      label: METRIC_LABELS[name] ?? name,
      numeric: true,
      value: (row) => row.metrics[name] ?? NaN,
      text: (row) => formatMetric(row.metrics[name]),
    }),
  );
  return [
    text('name', 'run', (row) => row.name),
    { id: 'cell', label: 'cell', numeric: true, value: (row) => row.cellIndex + 1, text: (row) => String(row.cellIndex + 1) },
    text('kind', 'kind', (row) => row.kind),
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

/** The trials to show under a sweep: all when the sweep itself matches the filter, else those that do. */
function trialsShown(row: RunRow, filter: string, sweepMatches: boolean): RunRow[] {
  const trials = row.sweep?.trials ?? [];
  return sweepMatches ? trials : filterRows(trials, filter);
}

/**
 * The table's state: rows, sort, filter, expanded sweeps and selection. The selection is kept by
 * row key (the record's id; a trial's is `<sweep key>/<trialId>`), so it survives re-scans and moved
 * cells, and only rows present count as selected.
 */
export class RunTableModel {
  private allRows: RunRow[] = [];
  private flat: RunRow[] = [];
  private cols: Column[] = columnsFor([]);
  private selected = new Set<string>();
  private expandedKeys = new Set<string>();
  private sortState: SortState | undefined;
  private filterText = '';

  /** The top-level rows (one per record), in notebook order. */
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
   * Replaces the rows (a re-scan, or another notebook). The selection and the expanded sweeps are
   * remembered by key, so a run comes back as it was when its record does (switching back to a
   * notebook, undoing a clear).
   */
  setRows(rows: RunRow[]): void {
    this.allRows = rows;
    this.flat = withTrials(rows);
    this.cols = columnsFor(rows);
  }

  /** Sorts by a column: ascending first, then toggling. A sweep's trials sort among themselves. */
  toggleSort(column: string): void {
    this.sortState = this.sortState?.column === column ? { column, direction: this.sortState.direction === 'asc' ? 'desc' : 'asc' } : { column, direction: 'asc' };
  }

  /** Sets the filter text. */
  setFilter(text: string): void {
    this.filterText = text;
  }

  /** Whether a sweep's trials are shown. */
  isExpanded(key: string): boolean {
    return this.expandedKeys.has(key);
  }

  /** Shows or hides a sweep's trials. */
  setExpanded(key: string, on: boolean): void {
    if (on) this.expandedKeys.add(key);
    else this.expandedKeys.delete(key);
  }

  /**
   * The rows to show: the top-level rows filtered (a sweep stays when one of its trials matches),
   * then sorted; each expanded sweep followed by its trials, sorted the same way.
   */
  visibleRows(): RunRow[] {
    const shown: RunRow[] = [];
    const matching = new Set(filterRows(this.allRows, this.filterText));
    for (const row of sortRows(this.allRows, this.cols, this.sortState)) {
      const trials = trialsShown(row, this.filterText, matching.has(row));
      if (!matching.has(row) && trials.length === 0) continue;
      shown.push(row);
      if (this.expandedKeys.has(row.key)) shown.push(...sortRows(trials, this.cols, this.sortState));
    }
    return shown;
  }

  /** Whether a row (or trial) is selected. */
  isSelected(key: string): boolean {
    return this.selected.has(key) && this.flat.some((r) => r.key === key);
  }

  /** Selects or deselects a row (or trial). */
  setSelected(key: string, on: boolean): void {
    if (on && this.flat.some((r) => r.key === key)) this.selected.add(key);
    else this.selected.delete(key);
  }

  /** The selected rows, in notebook order (a sweep's trials after it; hidden by the filter or not). */
  selectedRows(): RunRow[] {
    return this.flat.filter((r) => this.selected.has(r.key));
  }
}
