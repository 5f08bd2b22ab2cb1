/**
 * Run records as the extension sees them: the `application/vnd.hyperlab.run.v1+json` outputs of a
 * notebook's code cells (written by `@hyperlab/magics`; schema `hyperlab.run/v1` in
 * `packages/core/schema/run-record.v1.schema.json`).
 */
import type { INotebookModel } from '@jupyterlab/notebook';

/** The MIME type of a run record. */
export const RUN_RECORD_MIME = 'application/vnd.hyperlab.run.v1+json';

/** Plotly's MIME type. */
export const PLOTLY_MIME = 'application/vnd.plotly.v1+json';

/** A stored number: finite, or a non-finite value spelled as a string. */
export type JsonNumber = number | 'NaN' | 'Infinity' | '-Infinity';

/** The parts of a run record the extension reads. */
export interface RunRecord {
  schema: string;
  id: string;
  name?: string;
  createdAt: string;
  config: Record<string, unknown>;
  seed: number | string;
  backend: { name: string; reason: string; simd?: boolean; threads?: number; steps?: 'compiled' | 'eager' };
  environment: { node: string; platform: string; arch: string; packages: Record<string, string> };
  data: Array<{ name: string; fingerprint: string; size: number }>;
  metrics: Record<string, JsonNumber>;
  curves: Record<string, { step: number[]; value: JsonNumber[] }>;
  timings: { totalMs: number; [name: string]: number | undefined };
  /** Structured results beyond metrics and curves: a `%%sweep`'s trials, decisions and best trial (hashed). */
  outcome?: Record<string, unknown>;
  contentHash: string;
}

/** A record found in a notebook, with where it is. */
export interface FoundRecord {
  /** Index of the cell in the notebook. */
  cellIndex: number;
  /** The cell's id (nbformat 4.5). */
  cellId: string;
  /** Index of the output in the cell. */
  outputIndex: number;
  record: RunRecord;
}

/** Whether a value looks like a run record (enough to show it). */
export function isRunRecord(value: unknown): value is RunRecord {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Partial<RunRecord>;
  return typeof r.schema === 'string' && typeof r.contentHash === 'string' && typeof r.metrics === 'object' && r.metrics !== null && typeof r.config === 'object';
}

/** A stored number as a JavaScript number. */
export function decodeNumber(value: JsonNumber | undefined): number {
  if (value === undefined) return NaN;
  if (typeof value === 'number') return value;
  return value === 'Infinity' ? Infinity : value === '-Infinity' ? -Infinity : NaN;
}

/** The display name of a record. */
export function recordName(record: RunRecord): string {
  return record.name ?? record.id.slice(0, 8);
}

/** Every run record in the notebook's outputs, in cell then output order. */
export function findRunRecords(model: INotebookModel): FoundRecord[] {
  const found: FoundRecord[] = [];
  for (let cellIndex = 0; cellIndex < model.cells.length; cellIndex++) {
    const cell = model.cells.get(cellIndex);
    if (cell.type !== 'code') continue;
    const outputs = (cell as unknown as { outputs: { length: number; get(i: number): { data: Record<string, unknown> } } }).outputs;
    for (let outputIndex = 0; outputIndex < outputs.length; outputIndex++) {
      const value = outputs.get(outputIndex).data[RUN_RECORD_MIME];
      if (isRunRecord(value)) found.push({ cellIndex, cellId: cell.id, outputIndex, record: value });
    }
  }
  return found;
}
