#!/usr/bin/env node
/**
 * The `hyperlab` CLI. Implemented so far: `hyperlab runs NB [--format table|csv|json]`, which lists
 * the run records stored in a notebook's outputs. Bad input (unreadable file, invalid JSON, not
 * nbformat 4, bad arguments) prints a message naming the file and the problem on stderr and exits
 * with code 2. The notebook is only read, never written.
 */
import { readNotebook, runRecords, NotebookReadError, type FoundRunRecord } from './nbformat.js';

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

const USAGE = 'usage: hyperlab runs NOTEBOOK [--format table|csv|json]';

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
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((s, i) => (i === c.length - 1 ? s : s.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n') + '\n';
}

/** Runs the CLI on `argv` (without node and script); returns the exit code. */
export function main(argv: string[], out: (s: string) => void = (s) => process.stdout.write(s), err: (s: string) => void = (s) => process.stderr.write(s)): number {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h') {
    (command ? out : err)(USAGE + '\n');
    return command ? 0 : 2;
  }
  if (command !== 'runs') {
    err(`hyperlab: unknown command ${JSON.stringify(command)} (only "runs" exists so far)\n${USAGE}\n`);
    return 2;
  }
  let format: RunsFormat = 'table';
  const files: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === '--format' || a.startsWith('--format=')) {
      const v = a === '--format' ? rest[++i] : a.slice('--format='.length);
      if (v !== 'table' && v !== 'csv' && v !== 'json') {
        err(`hyperlab runs: --format must be table, csv or json, got ${v === undefined ? 'nothing' : JSON.stringify(v)}\n`);
        return 2;
      }
      format = v;
    } else if (a.startsWith('-')) {
      err(`hyperlab runs: unknown option ${JSON.stringify(a)}\n${USAGE}\n`);
      return 2;
    } else files.push(a);
  }
  if (files.length !== 1) {
    err(`hyperlab runs: expected one notebook, got ${files.length}\n${USAGE}\n`);
    return 2;
  }
  try {
    out(formatRuns(runSummaries(runRecords(readNotebook(files[0]))), format));
    return 0;
  } catch (e) {
    if (e instanceof NotebookReadError) {
      err(`hyperlab runs: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
