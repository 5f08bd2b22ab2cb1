/**
 * What `hyperlab runs` prints: one row per run record stored in a notebook (name, id, cell, seed,
 * backend, final metrics), as an aligned table, CSV (RFC 4180) or JSON.
 */
import type { FoundRunRecord } from './nbformat.js';
import { formatTable } from './text-table.js';

/** Output formats of `hyperlab runs`. */
export type RunsFormat = 'table' | 'csv' | 'json';

/** One row of `hyperlab runs`. */
export interface RunSummary {
  /** The record's `name`, else its `id`, else ''. */
  name: string;
  /** The record's `id`, or ''. */
  id: string;
  /** Index of the cell holding the output. */
  cell: number;
  /** That cell's id, or ''. */
  cellId: string;
  /** The seed, or '' if absent. */
  seed: string;
  /** The backend's name (`backend.name`, or `backend` if a string), or ''. */
  backend: string;
  /** The record's final metrics, as stored. */
  metrics: Record<string, unknown>;
}

const isObject = (v: unknown): v is { [key: string]: unknown } => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');

/** The summary rows of the records found by `runRecords`. */
export function runSummaries(found: FoundRunRecord[]): RunSummary[] {
  return found.map((f) => {
    const r = isObject(f.record) ? f.record : {};
    const backend = isObject(r.backend) ? str(r.backend.name) : str(r.backend);
    return {
      name: str(r.name) || str(r.id),
      id: str(r.id),
      cell: f.cellIndex,
      cellId: f.cellId ?? '',
      seed: str(r.seed),
      backend,
      metrics: isObject(r.metrics) ? r.metrics : {},
    };
  });
}

const metricsText = (m: Record<string, unknown>): string => Object.entries(m).map(([k, v]) => `${k}=${String(v)}`).join(' ');

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Formats summary rows as an aligned text table, CSV (RFC 4180) or JSON (ending in a newline). */
export function formatRuns(rows: RunSummary[], format: RunsFormat): string {
  if (format === 'json') return JSON.stringify(rows, null, 2) + '\n';
  const header = ['name', 'id', 'cell', 'seed', 'backend', 'metrics'];
  const cells = rows.map((r) => [r.name, r.id, r.cellId ? `${r.cell} (${r.cellId})` : String(r.cell), r.seed, r.backend, metricsText(r.metrics)]);
  if (format === 'csv') return [header, ...cells].map((line) => line.map(csvField).join(',')).join('\n') + '\n';
  if (rows.length === 0) return 'no run records\n';
  return formatTable(header, cells);
}
