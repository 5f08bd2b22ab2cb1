/**
 * An nbformat 4.x notebook model: types, HyperLab's built-in validation, Jupyter-style
 * serialisation, atomic writes, and finding HyperLab run records.
 *
 * Reading a file (`read.ts`) validates against the official nbformat JSON schema when a Python
 * `nbformat` package is found; {@link validateNotebook} here is the built-in fallback. It checks
 * the parts of the format HyperLab relies on, following the v4.5 schema's rules:
 *
 * - top level: `nbformat` = 4, `nbformat_minor` an integer ≥ 0, `metadata` an object, `cells` an array;
 * - each cell: `cell_type` one of `code` / `markdown` / `raw`, `metadata` an object, `source` a
 *   string or an array of strings, and (nbformat_minor ≥ 5) `id` matching `^[a-zA-Z0-9-_]+$`, 1–64
 *   characters, unique in the notebook;
 * - code cells: `outputs` an array, `execution_count` an integer ≥ 0 or null;
 * - outputs: `output_type` one of `stream` (`name` stdout|stderr, `text` multiline string),
 *   `display_data` (`data`, `metadata` objects), `execute_result` (as display_data plus
 *   `execution_count`), `error` (`ename`, `evalue` strings, `traceback` string array).
 *
 * Not checked by the fallback: additional-property rules, metadata sub-schemas (kernelspec,
 * language_info, …), attachments, and MIME-bundle value shapes. Errors carry a JSON Pointer
 * (`/cells/2/outputs/0/name`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The MIME type of a serialised HyperLab run record (as in `@hyperlab/core`'s `runs/record.ts`). */
export const RUN_RECORD_MIME = 'application/vnd.hyperlab.run.v1+json';

/** A multiline string as nbformat stores it: one string, or lines to concatenate. */
export type MultilineString = string | string[];

/** A MIME bundle: MIME type → value. */
export type MimeBundle = { [mime: string]: unknown };

/** A `stream` output. */
export interface StreamOutput {
  output_type: 'stream';
  name: 'stdout' | 'stderr';
  text: MultilineString;
}

/** A `display_data` output. */
export interface DisplayDataOutput {
  output_type: 'display_data';
  data: MimeBundle;
  metadata: { [key: string]: unknown };
  transient?: { [key: string]: unknown };
}

/** An `execute_result` output. */
export interface ExecuteResultOutput {
  output_type: 'execute_result';
  execution_count: number | null;
  data: MimeBundle;
  metadata: { [key: string]: unknown };
}

/** An `error` output. */
export interface ErrorOutput {
  output_type: 'error';
  ename: string;
  evalue: string;
  traceback: string[];
}

/** Any code-cell output. */
export type Output = StreamOutput | DisplayDataOutput | ExecuteResultOutput | ErrorOutput;

/** Fields every cell has. */
interface BaseCell {
  /** Cell id (required from nbformat 4.5). */
  id?: string;
  metadata: { [key: string]: unknown };
  source: MultilineString;
}

/** A code cell. */
export interface CodeCell extends BaseCell {
  cell_type: 'code';
  execution_count: number | null;
  outputs: Output[];
}

/** A markdown cell. */
export interface MarkdownCell extends BaseCell {
  cell_type: 'markdown';
  attachments?: { [name: string]: MimeBundle };
}

/** A raw cell. */
export interface RawCell extends BaseCell {
  cell_type: 'raw';
  attachments?: { [name: string]: MimeBundle };
}

/** Any cell. */
export type Cell = CodeCell | MarkdownCell | RawCell;

/** An nbformat 4.x notebook. */
export interface Notebook {
  nbformat: 4;
  nbformat_minor: number;
  metadata: { [key: string]: unknown };
  cells: Cell[];
}

/** A validation problem: a JSON Pointer into the notebook ('' is the whole notebook) and what is wrong. */
export interface NotebookError {
  /** JSON Pointer of the offending value (`/cells/2/outputs/0/name`); '' is the whole notebook. */
  path: string;
  /** What is wrong there. */
  message: string;
  /** 1-based line in the file of the value (or, when it is missing, of its nearest parent), when known. */
  line?: number;
  /** 1-based column, with `line`. */
  column?: number;
}

/** Reading a notebook failed: `file` is the path given, `errors` the validation problems (if any). */
export class NotebookReadError extends Error {
  override readonly name = 'NotebookReadError';
  constructor(
    readonly file: string,
    message: string,
    readonly errors: NotebookError[] = [],
  ) {
    super(`${file}: ${message}`);
  }
}

const isObject = (v: unknown): v is { [key: string]: unknown } => typeof v === 'object' && v !== null && !Array.isArray(v);
const isMultiline = (v: unknown): boolean => typeof v === 'string' || (Array.isArray(v) && v.every((s) => typeof s === 'string'));
const isCount = (v: unknown): boolean => v === null || (Number.isInteger(v) && (v as number) >= 0);
const CELL_ID = /^[a-zA-Z0-9-_]+$/;

/** A short description of a JSON value for error messages: `null`, `an array`, `the string "x"`, `number 3`. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

function validateOutput(o: unknown, at: string, errors: NotebookError[]): void {
  const err = (p: string, message: string) => errors.push({ path: at + p, message });
  if (!isObject(o)) return void err('', `output must be an object, got ${describeValue(o)}`);
  const t = o.output_type;
  switch (t) {
    case 'stream':
      if (o.name !== 'stdout' && o.name !== 'stderr') err('/name', `stream name must be "stdout" or "stderr", got ${describeValue(o.name)}`);
      if (!isMultiline(o.text)) err('/text', `stream text must be a string or an array of strings, got ${describeValue(o.text)}`);
      return;
    case 'execute_result':
    case 'display_data':
      if (t === 'execute_result' && (!('execution_count' in o) || !isCount(o.execution_count))) err('/execution_count', `execute_result needs execution_count: an integer ≥ 0 or null, got ${describeValue(o.execution_count)}`);
      if (!isObject(o.data)) err('/data', `${t} needs data: an object (MIME bundle), got ${describeValue(o.data)}`);
      if (!isObject(o.metadata)) err('/metadata', `${t} needs metadata: an object, got ${describeValue(o.metadata)}`);
      return;
    case 'error':
      if (typeof o.ename !== 'string') err('/ename', `error output needs ename: a string, got ${describeValue(o.ename)}`);
      if (typeof o.evalue !== 'string') err('/evalue', `error output needs evalue: a string, got ${describeValue(o.evalue)}`);
      if (!Array.isArray(o.traceback) || !o.traceback.every((s) => typeof s === 'string')) err('/traceback', `error output needs traceback: an array of strings, got ${describeValue(o.traceback)}`);
      return;
    default:
      err('/output_type', `output_type must be one of stream, display_data, execute_result, error; got ${describeValue(t)}`);
  }
}

function validateCell(c: unknown, at: string, minor: number, errors: NotebookError[], ids: Map<string, number>, index: number): void {
  const err = (p: string, message: string) => errors.push({ path: at + p, message });
  if (!isObject(c)) return void err('', `cell must be an object, got ${describeValue(c)}`);
  const t = c.cell_type;
  if (t !== 'code' && t !== 'markdown' && t !== 'raw') err('/cell_type', `cell_type must be "code", "markdown" or "raw", got ${describeValue(t)}`);
  if (!isObject(c.metadata)) err('/metadata', `cell metadata must be an object, got ${describeValue(c.metadata)}`);
  if (!isMultiline(c.source)) err('/source', `cell source must be a string or an array of strings, got ${describeValue(c.source)}`);
  if (minor >= 5 || 'id' in c) {
    if (!('id' in c)) err('/id', `cell id is required from nbformat 4.5 (this notebook is 4.${minor})`);
    else if (typeof c.id !== 'string' || c.id.length < 1 || c.id.length > 64 || !CELL_ID.test(c.id)) err('/id', `cell id must be 1–64 characters of [a-zA-Z0-9-_], got ${describeValue(c.id)}`);
    else if (ids.has(c.id)) err('/id', `cell id ${JSON.stringify(c.id)} is not unique (also cell ${ids.get(c.id)})`);
    else ids.set(c.id, index);
  }
  if (t === 'code') {
    if (!('execution_count' in c) || !isCount(c.execution_count)) err('/execution_count', `code cell needs execution_count: an integer ≥ 0 or null, got ${describeValue(c.execution_count)}`);
    if (!Array.isArray(c.outputs)) err('/outputs', `code cell needs outputs: an array, got ${describeValue(c.outputs)}`);
    else c.outputs.forEach((o, j) => validateOutput(o, `${at}/outputs/${j}`, errors));
  }
}

/**
 * Checks that `nb` is an nbformat 4.x notebook (see the module documentation for exactly what is
 * checked). Returns every problem found, each with a JSON Pointer; empty when valid.
 */
export function validateNotebook(nb: unknown): NotebookError[] {
  const errors: NotebookError[] = [];
  if (!isObject(nb)) return [{ path: '', message: `a notebook must be a JSON object, got ${describeValue(nb)}` }];
  if (nb.nbformat !== 4) {
    errors.push({ path: '/nbformat', message: `nbformat must be 4, got ${'nbformat' in nb ? describeValue(nb.nbformat) : 'nothing (missing)'}` });
    return errors; // the rest of the rules are v4's; checking them on another version only adds noise
  }
  const minor = nb.nbformat_minor;
  if (!Number.isInteger(minor) || (minor as number) < 0) errors.push({ path: '/nbformat_minor', message: `nbformat_minor must be an integer ≥ 0, got ${describeValue(minor)}` });
  if (!isObject(nb.metadata)) errors.push({ path: '/metadata', message: `notebook metadata must be an object, got ${describeValue(nb.metadata)}` });
  if (!Array.isArray(nb.cells)) errors.push({ path: '/cells', message: `cells must be an array, got ${describeValue(nb.cells)}` });
  else {
    const ids = new Map<string, number>();
    const m = Number.isInteger(minor) ? (minor as number) : 0;
    nb.cells.forEach((c, i) => validateCell(c, `/cells/${i}`, m, errors, ids, i));
  }
  return errors;
}

/**
 * Serialises a notebook as Jupyter's `nbformat.write` does: keys sorted, 1-space indent, non-ASCII
 * kept as is, trailing newline — so a notebook saved by Jupyter and by HyperLab diffs cleanly.
 * Throws (TypeError) on values JSON cannot hold, such as a BigInt.
 */
export function serializeNotebook(nb: Notebook): string {
  const sorted = (_key: string, v: unknown): unknown =>
    isObject(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v;
  return JSON.stringify(splitMultilineStrings(nb), sorted, 1) + '\n';
}

/** Lines of `text`, each keeping its `\n` (joining them gives `text` back). */
function lines(text: string): string[] {
  return text.split(/(?<=\n)/).filter((line) => line !== '');
}

const SPLIT_MIMES = new Set(['application/javascript', 'image/svg+xml']);

function splitBundle(data: unknown): unknown {
  if (!isObject(data)) return data;
  return Object.fromEntries(Object.entries(data).map(([mime, value]) => [mime, typeof value === 'string' && (mime.startsWith('text/') || SPLIT_MIMES.has(mime)) ? lines(value) : value]));
}

function joinBundle(data: unknown): unknown {
  if (!isObject(data)) return data;
  return Object.fromEntries(
    Object.entries(data).map(([mime, value]) => [mime, Array.isArray(value) && !isJsonMime(mime) && value.every((line) => typeof line === 'string') ? value.join('') : value]),
  );
}

const isJsonMime = (mime: string): boolean => mime === 'application/json' || (mime.startsWith('application/') && mime.endsWith('+json'));

/**
 * The notebook with every multi-line string as one string (nbformat's `rejoin_lines`): what
 * {@link splitMultilineStrings} undoes. Changes `nb` in place and returns it.
 */
export function joinMultilineStrings(nb: Notebook): Notebook {
  for (const cell of nb.cells as unknown as Array<Record<string, unknown>>) {
    if (Array.isArray(cell.source)) cell.source = cell.source.join('');
    if (isObject(cell.attachments)) cell.attachments = Object.fromEntries(Object.entries(cell.attachments).map(([name, bundle]) => [name, joinBundle(bundle)]));
    if (Array.isArray(cell.outputs)) {
      for (const output of cell.outputs as Array<Record<string, unknown>>) {
        if (!isObject(output)) continue;
        if (output.output_type === 'stream' && Array.isArray(output.text)) output.text = output.text.join('');
        if ('data' in output) output.data = joinBundle(output.data);
      }
    }
  }
  return nb;
}

/**
 * A copy with multi-line strings stored as lists of lines, as Jupyter writes notebooks (nbformat's
 * `split_lines`): cell sources, stream text, and the `text/*`, JavaScript and SVG members of output
 * and attachment bundles. JSON members are left alone. Files written by HyperLab and by Jupyter
 * then diff cleanly.
 */
export function splitMultilineStrings(nb: Notebook): Notebook {
  const cells = nb.cells.map((cell) => {
    const out: Record<string, unknown> = { ...cell };
    if (typeof out.source === 'string') out.source = lines(out.source);
    if (isObject(out.attachments)) out.attachments = Object.fromEntries(Object.entries(out.attachments).map(([name, bundle]) => [name, splitBundle(bundle)]));
    if (Array.isArray(out.outputs)) {
      out.outputs = out.outputs.map((output: unknown) => {
        if (!isObject(output)) return output;
        const copy: Record<string, unknown> = { ...output };
        if (copy.output_type === 'stream' && typeof copy.text === 'string') copy.text = lines(copy.text);
        if ((copy.output_type === 'display_data' || copy.output_type === 'execute_result') && 'data' in copy) copy.data = splitBundle(copy.data);
        return copy;
      });
    }
    return out;
  });
  return { ...nb, cells } as unknown as Notebook;
}

/**
 * Writes `text` to `file` atomically: a temporary file in the same directory, fsync, then rename
 * over `file`. On any error the original file is untouched and the temporary file removed; the
 * error is rethrown.
 */
export function writeFileAtomic(file: string, text: string): void {
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'wx', 0o644);
    fs.writeFileSync(fd, text, 'utf8');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, file);
  } catch (e) {
    if (fd !== undefined) {
      try { fs.closeSync(fd); } catch { /* already failing */ }
    }
    try { fs.rmSync(tmp, { force: true }); } catch { /* nothing to remove */ }
    throw e;
  }
}

/**
 * Writes `nb` to `file` atomically (see {@link writeFileAtomic}), serialised first, so a value
 * JSON cannot hold (a BigInt) throws before anything touches the disk.
 */
export function writeNotebookAtomic(file: string, nb: Notebook): void {
  writeFileAtomic(file, serializeNotebook(nb));
}

/** A cell's source as one string. */
export function cellSource(cell: Cell): string {
  return Array.isArray(cell.source) ? cell.source.join('') : cell.source;
}

/** A run record found in a notebook's outputs. */
export interface FoundRunRecord {
  /** Index of the cell in `cells`. */
  cellIndex: number;
  /** The cell's id, if it has one. */
  cellId?: string;
  /** Index of the output in the cell's `outputs`. */
  outputIndex: number;
  /** The record as stored (not validated against the run-record schema here). */
  record: unknown;
}

/** Every output (display_data or execute_result) carrying a {@link RUN_RECORD_MIME} value, in notebook order. */
export function runRecords(nb: Notebook): FoundRunRecord[] {
  const found: FoundRunRecord[] = [];
  nb.cells.forEach((cell, cellIndex) => {
    if (cell.cell_type !== 'code') return;
    cell.outputs.forEach((o, outputIndex) => {
      if ((o.output_type === 'display_data' || o.output_type === 'execute_result') && RUN_RECORD_MIME in o.data) {
        let record = o.data[RUN_RECORD_MIME];
        if (typeof record === 'string') {
          try { record = JSON.parse(record); } catch { /* keep the string as stored */ }
        }
        found.push({ cellIndex, ...(cell.id !== undefined ? { cellId: cell.id } : {}), outputIndex, record });
      }
    });
  });
  return found;
}
