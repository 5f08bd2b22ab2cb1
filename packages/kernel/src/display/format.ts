/**
 * Turning JavaScript values into Jupyter MIME bundles.
 *
 * This module runs inside the executor worker, where user cells run. It depends on no package:
 * tensors (tfjs and look-alikes), record arrays and custom displays are recognised by duck
 * typing, and built-in types through `util.types`, so values made in another realm (a `vm`
 * context) format the same as local ones. Nothing here throws on a user's value.
 */
import { inspect, types, type InspectOptions } from 'node:util';
import { escapeHtml } from './html.js';

/** A Jupyter MIME bundle: MIME type → data, e.g. `{ 'text/plain': '42', 'text/html': '<b>42</b>' }`. */
export type MimeBundle = Record<string, unknown>;

/** The content of a Jupyter `display_data` / `execute_result` message: a bundle and its metadata. */
export interface DisplayData {
  /** MIME type → data; `text/plain` is always present in what {@link toDisplayData} returns. */
  data: MimeBundle;
  /** MIME type → metadata for that type (e.g. `{ 'image/png': { width: 320 } }`). */
  metadata: Record<string, unknown>;
}

/**
 * The symbol under which an object may provide its own bundle: `obj[MIMEBUNDLE]()` returns a
 * {@link MimeBundle}, or a {@link DisplayData} when the result has a `data` key. It is
 * `Symbol.for('jupyter.mimebundle')`, so libraries can implement it without importing anything.
 *
 * @example
 * ```ts
 * class Celsius {
 *   constructor(readonly degrees: number) {}
 *   [Symbol.for('jupyter.mimebundle')]() {
 *     return { 'text/html': `<b>${this.degrees} °C</b>` };
 *   }
 * }
 * ```
 */
export const MIMEBUNDLE: unique symbol = Symbol.for('jupyter.mimebundle');

/** Options for `util.inspect` used for every `text/plain` rendering. */
const INSPECT_OPTIONS: InspectOptions = { maxArrayLength: 100, breakLength: 100, depth: 4, colors: false };
/** `text/plain` longer than this is cut (inspect is already bounded, except for huge key sets). */
const MAX_TEXT = 100_000;
/** Tensors with more values than this are summarised numpy-style. */
const SUMMARY_THRESHOLD = 1000;
/** Values kept at each end of a summarised axis. */
const EDGE_ITEMS = 3;
/** No tensor printout shows more values than this, whatever its shape. */
const MAX_TENSOR_VALUES = 1000;
/** Line width at which the innermost axis of a tensor printout wraps. */
const LINE_WIDTH = 100;
/** Rank-1/rank-2 tensors get an HTML table when no axis is longer than this. */
const MAX_TENSOR_TABLE_AXIS = 20;
/** Rows and columns shown in a records table. */
const MAX_RECORD_ROWS = 200;
const MAX_RECORD_COLUMNS = 50;
/** Characters shown in one cell of a records table. */
const MAX_CELL_TEXT = 200;

// ---------------------------------------------------------------------------------------------
// Small safe helpers

function errorSummary(error: unknown): string {
  try {
    if (error !== null && typeof error === 'object' && 'message' in error) {
      const e = error as { name?: unknown; message?: unknown };
      const name = typeof e.name === 'string' && e.name ? e.name : 'Error';
      return `${name}: ${String(e.message)}`;
    }
    return typeof error === 'string' ? error : inspect(error, { colors: false, depth: 1, breakLength: Infinity });
  } catch {
    return 'unknown error';
  }
}

function capText(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}\n… (${text.length - MAX_TEXT} more characters)` : text;
}

/** `util.inspect` with the kernel's options; never throws (falls back to `Object.prototype.toString`). */
function safeInspect(value: unknown): string {
  try {
    return capText(inspect(value, INSPECT_OPTIONS));
  } catch {
    try {
      return Object.prototype.toString.call(value);
    } catch {
      return '[object]';
    }
  }
}

function isObjectLike(value: unknown): value is object {
  return value !== null && (typeof value === 'object' || typeof value === 'function');
}

/** A plain object (`{…}` or `Object.create(null)`), from any realm. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  try {
    const proto = Object.getPrototypeOf(value) as object | null;
    return proto === null || Object.getPrototypeOf(proto) === null;
  } catch {
    return false;
  }
}

function setKey(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/**
 * A copy of `value` that survives JSON and structured cloning: typed arrays become arrays, Maps
 * objects, Sets arrays, Dates ISO strings, tensors nested arrays, non-finite numbers `null`,
 * bigints numbers (or strings when unsafe); functions and symbols are dropped, cycles become
 * `'[Circular]'`, and throwing getters become an `'[Error: …]'` string.
 */
function toJsonSafe(value: unknown, stack: object[] = []): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'bigint':
      return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null) return null;
  const obj = value as object;
  if (stack.includes(obj)) return '[Circular]';
  if (stack.length >= 100) return '[Too deep]';
  try {
    if (types.isTypedArray(obj)) return Array.from(obj as unknown as ArrayLike<unknown>, (x) => toJsonSafe(x, stack) ?? null);
    if (types.isArrayBuffer(obj) || types.isSharedArrayBuffer(obj)) return Array.from(new Uint8Array(obj));
    if (types.isDataView(obj)) return Array.from(new Uint8Array(obj.buffer, obj.byteOffset, obj.byteLength));
    if (types.isDate(obj)) return Number.isNaN(obj.getTime()) ? null : obj.toISOString();
    stack.push(obj);
    try {
      const tensor = asTensor(obj);
      if (tensor && tensor.isDisposed !== true) {
        const flat = tensor.shape.length <= 1 && typeof tensor.dataSync === 'function';
        const nested = flat ? tensor.dataSync!() : typeof tensor.arraySync === 'function' ? tensor.arraySync() : tensor.dataSync!();
        return toJsonSafe(nested, stack);
      }
      const toJSON = (obj as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') return toJsonSafe(toJSON.call(obj), stack);
      if (Array.isArray(obj)) {
        const out: unknown[] = new Array(obj.length);
        for (let i = 0; i < obj.length; i++) out[i] = toJsonSafe(obj[i], stack) ?? null;
        return out;
      }
      if (types.isMap(obj)) {
        const out: Record<string, unknown> = {};
        for (const [k, v] of obj) {
          const safe = toJsonSafe(v, stack);
          if (safe !== undefined) setKey(out, typeof k === 'string' ? k : safeInspect(k), safe);
        }
        return out;
      }
      if (types.isSet(obj)) return Array.from(obj, (v) => toJsonSafe(v, stack) ?? null);
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(obj)) {
        let safe: unknown;
        try {
          safe = toJsonSafe((obj as Record<string, unknown>)[key], stack);
        } catch (error) {
          safe = `[Error: ${errorSummary(error)}]`;
        }
        if (safe !== undefined) setKey(out, key, safe);
      }
      return out;
    } finally {
      stack.pop();
    }
  } catch (error) {
    return `[Unserializable: ${errorSummary(error)}]`;
  }
}

// ---------------------------------------------------------------------------------------------
// Tensors

/** What a tfjs tensor looks like, as far as display goes. */
interface TensorLike {
  shape: number[];
  dtype: string;
  rank: number;
  dataSync?: () => ArrayLike<unknown>;
  arraySync?: () => unknown;
  isDisposed?: boolean;
}

/** The value as a tensor when it quacks like one (numeric `shape`, string `dtype`, `rank`, `dataSync`/`arraySync`). */
function asTensor(value: unknown): TensorLike | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  try {
    const v = value as Record<string, unknown>;
    const shape = v.shape;
    if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 0)) return undefined;
    if (typeof v.dtype !== 'string' || typeof v.rank !== 'number') return undefined;
    if (typeof v.dataSync !== 'function' && typeof v.arraySync !== 'function') return undefined;
    return v as unknown as TensorLike;
  } catch {
    return undefined;
  }
}

/** A number with at most 6 significant digits: `1`, `0.333333`, `1.23457e+6`, `NaN`. */
function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const rounded = Number(x.toPrecision(6));
  const abs = Math.abs(rounded);
  if (abs >= 1e6 || abs < 1e-4) {
    const [mantissa, exponent] = rounded.toExponential(5).split('e');
    return `${mantissa!.replace(/\.?0+$/, '')}e${exponent}`;
  }
  return String(rounded);
}

const decoder = new TextDecoder();

/** One tensor element as text, by dtype. */
function formatElement(value: unknown, dtype: string): string {
  if (dtype === 'bool') return value ? 'true' : 'false';
  if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'number' && typeof value[1] === 'number') {
    const [re, im] = value as [number, number];
    const sign = im < 0 || Object.is(im, -0) ? '-' : '+';
    return `${formatNumber(re)}${sign}${formatNumber(Math.abs(im))}j`;
  }
  if (typeof value === 'number') return /^u?int/.test(dtype) ? String(value) : formatNumber(value);
  if (typeof value === 'bigint') return String(value);
  if (typeof value === 'string') return inspect(value, { colors: false, maxStringLength: 80 });
  if (types.isUint8Array(value)) return inspect(decoder.decode(value), { colors: false, maxStringLength: 80 });
  try {
    return inspect(value, { colors: false, depth: 0, breakLength: Infinity });
  } catch {
    return '?';
  }
}

/** Reads elements by multi-index, from `dataSync()` when it has the values, else `arraySync()`. */
function tensorAccessor(tensor: TensorLike, shape: number[], size: number): (index: number[]) => unknown {
  const complex = tensor.dtype === 'complex64';
  if (typeof tensor.dataSync === 'function') {
    const data = tensor.dataSync();
    if (data && typeof data.length === 'number' && data.length >= (complex ? 2 * size : size)) {
      const strides = new Array<number>(shape.length);
      let stride = 1;
      for (let d = shape.length - 1; d >= 0; d--) {
        strides[d] = stride;
        stride *= shape[d]!;
      }
      return (index) => {
        let offset = 0;
        for (let d = 0; d < index.length; d++) offset += index[d]! * strides[d]!;
        return complex ? [data[2 * offset], data[2 * offset + 1]] : data[offset];
      };
    }
  }
  if (typeof tensor.arraySync === 'function') {
    const nested = tensor.arraySync();
    return (index) => {
      let current: unknown = nested;
      for (const i of index) current = (current as ArrayLike<unknown> | null | undefined)?.[i];
      return current;
    };
  }
  throw new Error('dataSync() returned fewer values than the shape holds');
}

const ELLIPSIS: unique symbol = Symbol('ellipsis');
type TensorNode = string | typeof ELLIPSIS | TensorNode[];

/** Positions shown along an axis of length `n` (`undefined` marks the `...`). */
function shownIndices(n: number, summarise: boolean): Array<number | undefined> {
  if (summarise && n > 2 * EDGE_ITEMS + 1) {
    const head = Array.from({ length: EDGE_ITEMS }, (_, i) => i);
    const tail = Array.from({ length: EDGE_ITEMS }, (_, i) => n - EDGE_ITEMS + i);
    return [...head, undefined, ...tail];
  }
  return Array.from({ length: n }, (_, i) => i);
}

/** The text of a tensor's values, numpy-style: aligned columns, `...` where summarised. */
function formatTensorValues(shape: number[], size: number, dtype: string, get: (index: number[]) => unknown): string {
  const rank = shape.length;
  if (rank === 0) return formatElement(get([]), dtype);
  if (size === 0) return '[]';
  const summarise = size > SUMMARY_THRESHOLD;
  let budget = MAX_TENSOR_VALUES;
  let width = 0;
  const collect = (dim: number, prefix: number[]): TensorNode[] => {
    const nodes: TensorNode[] = [];
    for (const i of shownIndices(shape[dim]!, summarise)) {
      if (i === undefined || budget <= 0) {
        nodes.push(ELLIPSIS);
        if (budget <= 0) break;
        continue;
      }
      const index = [...prefix, i];
      if (dim === rank - 1) {
        const text = formatElement(get(index), dtype);
        width = Math.max(width, text.length);
        budget--;
        nodes.push(text);
      } else {
        nodes.push(collect(dim + 1, index));
      }
    }
    return nodes;
  };
  const render = (nodes: TensorNode[], dim: number): string => {
    if (dim === rank - 1) {
      const lines: string[] = [];
      let line = '';
      nodes.forEach((node, i) => {
        const text = node === ELLIPSIS ? '...' : (node as string).padStart(width);
        const piece = i < nodes.length - 1 ? `${text},` : text;
        if (line === '') line = piece;
        else if (dim + 1 + line.length + 1 + piece.length + 1 > LINE_WIDTH) {
          lines.push(line);
          line = piece;
        } else line += ` ${piece}`;
      });
      lines.push(line);
      return `[${lines.join(`\n${' '.repeat(dim + 1)}`)}]`;
    }
    const separator = `,${'\n'.repeat(rank - dim - 1)}${' '.repeat(dim + 1)}`;
    return `[${nodes.map((node) => (node === ELLIPSIS ? '...' : render(node as TensorNode[], dim + 1))).join(separator)}]`;
  };
  return render(collect(0, []), 0);
}

/** A small HTML table of a rank-1 or rank-2 tensor with at most 20 values along each axis. */
function tensorTable(header: string, shape: number[], dtype: string, get: (index: number[]) => unknown): string | undefined {
  if ((shape.length !== 1 && shape.length !== 2) || shape.some((d) => d === 0 || d > MAX_TENSOR_TABLE_AXIS)) return undefined;
  const [rows, cols] = shape.length === 1 ? [1, shape[0]!] : [shape[0]!, shape[1]!];
  const cell = (r: number, c: number): string =>
    `<td>${escapeHtml(formatElement(get(shape.length === 1 ? [c] : [r, c]), dtype))}</td>`;
  const head = `<tr>${shape.length === 2 ? '<th></th>' : ''}${Array.from({ length: cols }, (_, c) => `<th>${c}</th>`).join('')}</tr>`;
  const body = Array.from({ length: rows }, (_, r) => {
    const cells = Array.from({ length: cols }, (_, c) => cell(r, c)).join('');
    return `<tr>${shape.length === 2 ? `<th>${r}</th>` : ''}${cells}</tr>`;
  }).join('');
  return `<table class="hyperlab-tensor"><caption>${escapeHtml(header)}</caption><thead>${head}</thead><tbody>${body}</tbody></table>`;
}

/** `text/plain` (and `text/html` when small) for a tensor-like value. */
function formatTensor(tensor: TensorLike): MimeBundle {
  const shape = [...tensor.shape];
  const dtype = tensor.dtype;
  const header = `Tensor ${dtype} [${shape.join(', ')}]`;
  let disposed = false;
  try {
    disposed = tensor.isDisposed === true;
  } catch {
    // a throwing getter counts as not disposed; reading values below reports any problem
  }
  if (disposed) return { 'text/plain': `${header} (disposed)` };
  const size = shape.reduce((a, b) => a * b, 1);
  let get: (index: number[]) => unknown;
  try {
    get = tensorAccessor(tensor, shape, size);
  } catch (error) {
    return { 'text/plain': `${header} (values unavailable: ${errorSummary(error)})` };
  }
  const data: MimeBundle = { 'text/plain': `${header}\n${formatTensorValues(shape, size, dtype, get)}` };
  const html = tensorTable(header, shape, dtype, get);
  if (html) data['text/html'] = html;
  return data;
}

// ---------------------------------------------------------------------------------------------
// Records (arrays of plain objects) as HTML tables

function cellText(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' || value === null || value === undefined) {
    text = String(value);
  } else if (typeof value === 'symbol') text = value.toString();
  else if (types.isDate(value)) text = Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  else {
    try {
      text = inspect(value, { colors: false, depth: 1, breakLength: Infinity, maxArrayLength: 10, maxStringLength: MAX_CELL_TEXT });
    } catch {
      text = Object.prototype.toString.call(value);
    }
  }
  return text.length > MAX_CELL_TEXT ? `${text.slice(0, MAX_CELL_TEXT)}…` : text;
}

/** An HTML table when `value` is a non-empty array of plain objects that share keys. */
function recordsTable(value: unknown): string | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  const total = value.length;
  for (let i = 0; i < total; i++) if (!isPlainObject(value[i])) return undefined;
  const shown = Math.min(total, MAX_RECORD_ROWS);
  const rows = value.slice(0, shown) as Array<Record<string, unknown>>;
  const firstKeys = new Set(Object.keys(rows[0]!));
  if (firstKeys.size === 0) return undefined;
  const columns: string[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    const keys = Object.keys(row);
    if (!keys.some((key) => firstKeys.has(key))) return undefined;
    for (const key of keys) {
      if (!seen.has(key)) {
        seen.add(key);
        columns.push(key);
      }
    }
  }
  const shownColumns = columns.slice(0, MAX_RECORD_COLUMNS);
  const cell = (row: Record<string, unknown>, key: string): string => {
    if (!Object.prototype.hasOwnProperty.call(row, key)) return '<td></td>';
    try {
      return `<td>${escapeHtml(cellText(row[key]))}</td>`;
    } catch (error) {
      return `<td><i>${escapeHtml(`<${errorSummary(error)}>`)}</i></td>`;
    }
  };
  const head = `<tr><th></th>${shownColumns.map((key) => `<th>${escapeHtml(key)}</th>`).join('')}</tr>`;
  const body = rows.map((row, i) => `<tr><th>${i}</th>${shownColumns.map((key) => cell(row, key)).join('')}</tr>`).join('');
  const notes: string[] = [];
  if (shown < total) notes.push(`Showing the first ${shown} of ${total} rows.`);
  if (shownColumns.length < columns.length) notes.push(`Showing ${shownColumns.length} of ${columns.length} columns.`);
  const note = notes.length ? `<p class="hyperlab-table-note">${escapeHtml(notes.join(' '))}</p>` : '';
  return `<table class="hyperlab-records"><thead>${head}</thead><tbody>${body}</tbody></table>${note}`;
}

// ---------------------------------------------------------------------------------------------
// toDisplayData

/** Methods an object may define to provide one representation (IPython's `_repr_*_` and `toHTML`). */
const REPR_METHODS: Array<[method: string, mime: string]> = [
  ['_repr_html_', 'text/html'],
  ['toHTML', 'text/html'],
  ['_repr_markdown_', 'text/markdown'],
  ['_repr_svg_', 'image/svg+xml'],
  ['_repr_latex_', 'text/latex'],
];

function reprMethods(value: unknown): MimeBundle {
  const data: MimeBundle = {};
  if (!isObjectLike(value)) return data;
  for (const [method, mime] of REPR_METHODS) {
    if (mime in data) continue;
    try {
      const fn = (value as Record<string, unknown>)[method];
      if (typeof fn !== 'function') continue;
      const result: unknown = fn.call(value);
      if (typeof result === 'string') data[mime] = result;
    } catch {
      // a failing optional representation is left out; text/plain still shows the value
    }
  }
  return data;
}

/** The normal formatting, without the MIMEBUNDLE hook. */
function formatValue(value: unknown): DisplayData {
  const tensor = asTensor(value);
  if (tensor) {
    try {
      return { data: formatTensor(tensor), metadata: {} };
    } catch {
      // fall through to the generic formatting
    }
  }
  const data: MimeBundle = { 'text/plain': safeInspect(value) };
  const reprs = reprMethods(value);
  for (const [mime, content] of Object.entries(reprs)) data[mime] = content;
  if (!('text/html' in data)) {
    try {
      const table = recordsTable(value);
      if (table) data['text/html'] = table;
    } catch {
      // no table then
    }
  }
  return { data, metadata: {} };
}

function isBinary(value: unknown): value is ArrayBufferView | ArrayBuffer | SharedArrayBuffer {
  return types.isArrayBufferView(value) || types.isArrayBuffer(value) || types.isSharedArrayBuffer(value);
}

/** Bundle data made safe to send: strings kept, binary images base64, other values JSON-safe. */
function sanitizeBundle(data: object): MimeBundle {
  const out: MimeBundle = {};
  for (const mime of Object.keys(data)) {
    let value: unknown;
    try {
      value = (data as Record<string, unknown>)[mime];
    } catch (error) {
      value = `[Error: ${errorSummary(error)}]`;
    }
    if (value === undefined) continue;
    if (typeof value === 'string') setKey(out, mime, value);
    else if (mime.startsWith('image/') && mime !== 'image/svg+xml' && isBinary(value)) setKey(out, mime, bytesToBase64(value));
    else if (mime.startsWith('text/') || mime === 'image/svg+xml') setKey(out, mime, typeof value === 'object' ? safeInspect(value) : String(value));
    else {
      const safe = toJsonSafe(value);
      if (safe !== undefined) setKey(out, mime, safe);
    }
  }
  return out;
}

type OwnBundle = { kind: 'none' } | { kind: 'ok'; display: DisplayData } | { kind: 'error'; note: string };

/** Calls `value[MIMEBUNDLE]()` when there is one and checks what it returned. */
function ownBundle(value: unknown): OwnBundle {
  if (!isObjectLike(value)) return { kind: 'none' };
  const failed = (why: string): OwnBundle => ({ kind: 'error', note: `[Symbol.for('jupyter.mimebundle')] ${why}` });
  let method: unknown;
  try {
    method = (value as Record<symbol, unknown>)[MIMEBUNDLE];
  } catch (error) {
    return failed(`could not be read: ${errorSummary(error)}`);
  }
  if (typeof method !== 'function') return { kind: 'none' };
  try {
    const result: unknown = method.call(value);
    if (result === null || typeof result !== 'object') return failed(`returned ${safeInspect(result)} instead of a MIME bundle`);
    if (typeof (result as { then?: unknown }).then === 'function') return failed('returned a Promise; it must return the bundle synchronously');
    let data: unknown = result;
    let metadata: unknown = {};
    if ('data' in result) {
      data = (result as DisplayData).data;
      metadata = (result as DisplayData).metadata ?? {};
    }
    if (data === null || typeof data !== 'object' || Array.isArray(data)) return failed(`returned data ${safeInspect(data)}, not a MIME bundle`);
    if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) return failed(`returned metadata ${safeInspect(metadata)}, not an object`);
    const bundle = sanitizeBundle(data);
    if (typeof bundle['text/plain'] !== 'string') bundle['text/plain'] = safeInspect(value);
    return { kind: 'ok', display: { data: bundle, metadata: (toJsonSafe(metadata) as Record<string, unknown>) ?? {} } };
  } catch (error) {
    return failed(`threw ${errorSummary(error)}`);
  }
}

/**
 * The display bundle for a cell's value or a `display(value)` call. Never throws; `text/plain`
 * is always present.
 *
 * - An object with a `[MIMEBUNDLE]()` method shows what that returns (a bare bundle or a
 *   `{ data, metadata }`), with `text/plain` from `util.inspect` added if missing. When the method
 *   throws or returns something unusable, the value is formatted normally and a note of the
 *   problem is appended to `text/plain`.
 * - A tensor (duck-typed: numeric-array `shape`, string `dtype`, `rank`, `dataSync`/`arraySync`)
 *   prints as `Tensor float32 [2, 3]` followed by its values numpy-style (at most 6 significant
 *   digits; tensors over 1000 values show the first and last 3 along each axis with `...`), plus an
 *   HTML table for rank-1/rank-2 tensors of at most 20×20. A disposed tensor prints
 *   `Tensor float32 [2, 3] (disposed)`.
 * - Anything else prints with `util.inspect` (`maxArrayLength: 100`, `breakLength: 100`,
 *   `depth: 4`, no colors); strings are quoted as in the Node REPL. An array of plain objects
 *   sharing keys also gets an HTML table (at most 200 rows), and objects with `toHTML()` or
 *   `_repr_html_()` (also `_repr_markdown_`, `_repr_svg_`, `_repr_latex_`) get those types.
 *
 * @param value - Any JavaScript value, from any realm.
 * @returns The bundle and its metadata, safe to post to the main thread and to send as JSON.
 */
export function toDisplayData(value: unknown): DisplayData {
  try {
    const own = ownBundle(value);
    if (own.kind === 'ok') return own.display;
    const display = formatValue(value);
    if (own.kind === 'error') display.data['text/plain'] = `${String(display.data['text/plain'])}\n${own.note}`;
    return display;
  } catch {
    return { data: { 'text/plain': safeInspect(value) }, metadata: {} };
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers for display.html/markdown/…

/**
 * A {@link DisplayData} from the helpers. It also carries a non-enumerable `[MIMEBUNDLE]` method
 * returning itself, so passing it to {@link toDisplayData} (e.g. `display(bundles.html(…))`)
 * shows the bundle rather than the object. Structured cloning drops the symbol.
 */
function made(data: MimeBundle, metadata: Record<string, unknown> = {}): DisplayData {
  const display: DisplayData = { data, metadata };
  Object.defineProperty(display, MIMEBUNDLE, { value: () => display, enumerable: false, configurable: true, writable: true });
  return display;
}

function bytesToBase64(bytes: ArrayBufferView | ArrayBuffer | SharedArrayBuffer): string {
  if (types.isArrayBuffer(bytes) || types.isSharedArrayBuffer(bytes)) return Buffer.from(bytes).toString('base64');
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Bytes of a `data:` URL's percent-encoded (non-base64) payload. */
function percentDecode(payload: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < payload.length; i++) {
    const ch = payload[i]!;
    if (ch === '%' && /^[0-9a-fA-F]{2}$/.test(payload.slice(i + 1, i + 3))) {
      bytes.push(parseInt(payload.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(ch, 'utf8'));
    }
  }
  return Buffer.from(bytes);
}

/** Base64 (no `data:` prefix, no whitespace) of bytes, a base64 string or a `data:` URL. */
function imageBase64(data: unknown, helper: string): string {
  if (typeof data === 'string') {
    const text = data.trim();
    const url = /^data:([^,]*),(.*)$/is.exec(text);
    if (!url) return text.replace(/\s+/g, '');
    const [, meta, payload] = url as unknown as [string, string, string];
    if (/;base64$/i.test(meta)) return (payload.includes('%') ? decodeURIComponent(payload) : payload).replace(/\s+/g, '');
    return percentDecode(payload).toString('base64');
  }
  if (isBinary(data)) return bytesToBase64(data);
  throw new TypeError(`display.${helper}() expects a Uint8Array, a base64 string or a data: URL, not ${safeInspect(data)}`);
}

/** Width × height read from a PNG's IHDR chunk, when the data is a PNG. */
function pngSize(base64: string): string {
  const head = Buffer.from(base64.slice(0, 44), 'base64');
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (head.length < 24 || signature.some((byte, i) => head[i] !== byte)) return '';
  return ` ${head.readUInt32BE(16)}x${head.readUInt32BE(20)}`;
}

/** Options of the image helpers: the size to show the image at, in CSS pixels. */
export interface ImageOptions {
  width?: number;
  height?: number;
}

function image(mime: 'image/png' | 'image/jpeg', data: Uint8Array | string, options?: ImageOptions): DisplayData {
  const helper = mime === 'image/png' ? 'png' : 'jpeg';
  const base64 = imageBase64(data, helper);
  const size: Record<string, number> = {};
  if (typeof options?.width === 'number' && Number.isFinite(options.width)) size.width = options.width;
  if (typeof options?.height === 'number' && Number.isFinite(options.height)) size.height = options.height;
  const label = mime === 'image/png' ? `<PNG image${pngSize(base64)}>` : '<JPEG image>';
  return made({ [mime]: base64, 'text/plain': label }, Object.keys(size).length ? { [mime]: size } : {});
}

/** A plotly figure as the helper accepts it. */
export interface PlotlyFigure {
  data: unknown[];
  layout?: object;
  config?: object;
  frames?: unknown[];
}

/**
 * Makers of {@link DisplayData} for explicit representations; the kernel exposes them as
 * `display.html(…)`, `display.markdown(…)` and so on. Each result includes a `text/plain`
 * fallback.
 */
export const bundles = {
  /** HTML, shown as `text/html`. */
  html(html: string): DisplayData {
    return made({ 'text/html': String(html), 'text/plain': '<HTML output>' });
  },
  /** Markdown, shown as `text/markdown` (the source is the `text/plain` fallback). */
  markdown(md: string): DisplayData {
    return made({ 'text/markdown': String(md), 'text/plain': String(md) });
  },
  /** An SVG document, shown as `image/svg+xml`. */
  svg(svg: string): DisplayData {
    return made({ 'image/svg+xml': String(svg), 'text/plain': '<SVG image>' });
  },
  /**
   * A PNG image from bytes, a base64 string or a `data:` URL; sent as base64 without any
   * prefix. `width`/`height` (display size) go to `metadata['image/png']`.
   * @throws TypeError when `data` is neither bytes nor a string.
   */
  png(data: Uint8Array | string, options?: ImageOptions): DisplayData {
    return image('image/png', data, options);
  },
  /** A JPEG image; like {@link bundles.png} with `image/jpeg`. */
  jpeg(data: Uint8Array | string, options?: ImageOptions): DisplayData {
    return image('image/jpeg', data, options);
  },
  /**
   * A JSON tree view (`application/json`). The value is made JSON-safe first (typed arrays to
   * arrays, cycles to `'[Circular]'`, …). `expanded` goes to `metadata['application/json']`.
   */
  json(value: unknown, options?: { expanded?: boolean }): DisplayData {
    const metadata = typeof options?.expanded === 'boolean' ? { 'application/json': { expanded: options.expanded } } : {};
    return made({ 'application/json': toJsonSafe(value) ?? null, 'text/plain': safeInspect(value) }, metadata);
  },
  /**
   * LaTeX as `text/latex`. Text without math delimiters (`$`, `\[`, `\(`, `\begin{…}`) is
   * wrapped in `$$…$$` so that the front end typesets it.
   */
  latex(tex: string): DisplayData {
    const source = String(tex);
    const delimited = /\$|\\\[|\\\(|\\begin\{/.test(source);
    return made({ 'text/latex': delimited ? source : `$$${source}$$`, 'text/plain': source });
  },
  /** Plain text, shown as is (not quoted). */
  text(text: string): DisplayData {
    return made({ 'text/plain': String(text) });
  },
  /**
   * A plotly figure (`application/vnd.plotly.v1+json` with `{ data, layout, config }`, plus
   * `frames` when given) from a figure object or an array of traces. `layout` is merged over the
   * figure's own layout (its `id`/`update` keys are the kernel's display options and are left
   * out). Typed arrays and tensors in traces become plain arrays. The `text/plain` fallback is
   * `<Plotly figure: N traces>`.
   * @throws TypeError when `figure` is neither an array of traces nor an object with a `data` array.
   */
  plotly(figure: PlotlyFigure | unknown[], layout?: object): DisplayData {
    let traces: unknown[];
    let ownLayout: unknown;
    let config: unknown;
    let frames: unknown;
    if (Array.isArray(figure)) traces = figure;
    else if (figure !== null && typeof figure === 'object' && Array.isArray((figure as PlotlyFigure).data)) {
      ({ data: traces, layout: ownLayout, config, frames } = figure as PlotlyFigure);
    } else {
      throw new TypeError(`display.plotly() expects a figure { data, layout?, config? } or an array of traces, not ${safeInspect(figure)}`);
    }
    const extra: Record<string, unknown> = {};
    if (layout !== null && typeof layout === 'object') {
      for (const [key, value] of Object.entries(layout)) if (key !== 'id' && key !== 'update') setKey(extra, key, value);
    }
    const mergedLayout = { ...(ownLayout !== null && typeof ownLayout === 'object' ? ownLayout : {}), ...extra };
    const spec: Record<string, unknown> = {
      data: toJsonSafe(traces),
      layout: toJsonSafe(mergedLayout),
      config: toJsonSafe(config !== null && typeof config === 'object' ? config : {}),
    };
    if (Array.isArray(frames)) spec.frames = toJsonSafe(frames);
    const n = traces.length;
    return made({ 'application/vnd.plotly.v1+json': spec, 'text/plain': `<Plotly figure: ${n} trace${n === 1 ? '' : 's'}>` });
  },
};
