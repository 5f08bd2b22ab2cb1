/**
 * The safetensors format, by hand: an 8-byte little-endian header length `N`, `N` bytes of JSON
 * (`{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}`, padded with
 * spaces to a multiple of 8), then the raw little-endian byte buffer, tensors contiguous and
 * non-overlapping, offsets relative to the start of that buffer.
 *
 * Files written here are byte-for-byte what Python's `safetensors` writes for the same tensors
 * (same data order, same header layout and padding), and every file it writes for the dtypes below
 * can be read here. TensorFlow.js has only float32, int32 and bool numeric dtypes, so wider or
 * narrower types are converted on read (see {@link decodeSafetensors}).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { flatten, unflatten, variable, type Params } from '../params/params.js';

/** The safetensors dtype names this module reads. */
export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U64' | 'U32' | 'U16' | 'U8' | 'BOOL';

/** One entry of a safetensors header. */
export interface SafetensorsEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  data_offsets: [number, number];
}

/** A decoded file: tensors in file (data) order, and the free-form string metadata. */
export interface DecodedSafetensors {
  tensors: Map<string, tf.Tensor>;
  metadata: Record<string, string>;
}

/** Bytes per element of each dtype. */
const ITEM_SIZE: Record<SafetensorsDtype, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
};

/**
 * Rank of each dtype in the Rust library's `Dtype` enum, whose *descending* order (then the name)
 * is the order tensors are laid out in: wider types first, so every tensor stays aligned.
 */
const DTYPE_RANK: Record<string, number> = { BOOL: 0, U8: 1, I8: 2, I16: 3, U16: 4, F16: 5, BF16: 6, I32: 7, U32: 8, F32: 9, F64: 10, I64: 11, U64: 12 };

/** The largest header the Rust library accepts (100 MB); a larger length means a corrupt file. */
export const MAX_HEADER_BYTES = 100_000_000;

const METADATA_KEY = '__metadata__';
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function assertLittleEndianHost(): void {
  if (!LITTLE_ENDIAN) throw new Error('safetensors: this implementation needs a little-endian host');
}

function product(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function byteCompare(a: string, b: string): number {
  // Rust compares names as UTF-8 bytes; JS `<` compares UTF-16 units, which differs above U+FFFF.
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function safetensorsDtypeOf(name: string, tensor: tf.Tensor): 'F32' | 'I32' | 'BOOL' {
  switch (tensor.dtype) {
    case 'float32':
      return 'F32';
    case 'int32':
      return 'I32';
    case 'bool':
      return 'BOOL';
    default:
      throw new Error(`safetensors: tensor "${name}" has dtype ${tensor.dtype}, which cannot be saved (float32, int32 and bool can)`);
  }
}

/**
 * Encodes tensors (and optional string metadata) as a safetensors file.
 *
 * float32 → `F32`, int32 → `I32`, bool → `BOOL` (one byte, 0/1). Data are laid out as the Python
 * library does (by dtype width, then by name as UTF-8 bytes) and the header lists `__metadata__`
 * (keys sorted) and then the tensors in data order, so the output matches Python's byte for byte.
 * Values are read with `dataSync`. Throws, naming the tensor, for other dtypes and for the reserved
 * name `__metadata__`.
 */
export function encodeSafetensors(tensors: Map<string, tf.Tensor> | Record<string, tf.Tensor>, metadata?: Record<string, string>): Uint8Array {
  assertLittleEndianHost();
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const items = entries.map(([name, tensor]) => {
    if (name === METADATA_KEY) throw new Error(`safetensors: "${METADATA_KEY}" is reserved and cannot name a tensor`);
    if (!(tensor instanceof tf.Tensor)) throw new Error(`safetensors: "${name}" is not a tensor`);
    if (tensor.isDisposed) throw new Error(`safetensors: tensor "${name}" is disposed`);
    return { name, tensor, dtype: safetensorsDtypeOf(name, tensor) };
  });
  items.sort((a, b) => DTYPE_RANK[b.dtype] - DTYPE_RANK[a.dtype] || byteCompare(a.name, b.name));

  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    const sorted: Record<string, string> = {};
    for (const key of Object.keys(metadata).sort(byteCompare)) {
      const value = metadata[key];
      if (typeof value !== 'string') throw new Error(`safetensors: metadata "${key}" must be a string, got ${typeof value}`);
      sorted[key] = value;
    }
    header[METADATA_KEY] = sorted;
  }
  let offset = 0;
  const layout: Array<{ tensor: tf.Tensor; begin: number; end: number }> = [];
  for (const { name, tensor, dtype } of items) {
    const end = offset + tensor.size * ITEM_SIZE[dtype];
    header[name] = { dtype, shape: tensor.shape, data_offsets: [offset, end] };
    layout.push({ tensor, begin: offset, end });
    offset = end;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const padding = (8 - (json.length % 8)) % 8;
  if (padding > 0) json = Buffer.concat([json, Buffer.alloc(padding, 0x20)]);

  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  const base = 8 + json.length;
  for (const { tensor, begin, end } of layout) {
    const data = tensor.dataSync() as Float32Array | Int32Array | Uint8Array;
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (bytes.length !== end - begin) throw new Error(`safetensors: tensor data has ${bytes.length} bytes, expected ${end - begin}`);
    if (tensor.dtype === 'bool') {
      for (let i = 0; i < bytes.length; i++) out[base + begin + i] = bytes[i] ? 1 : 0;
    } else {
      out.set(bytes, base + begin);
    }
  }
  return out;
}

/** A plain Uint8Array view of the same bytes (a Node Buffer's `slice` and `subarray` differ from Uint8Array's). */
function plainBytes(bytes: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(bytes) === Uint8Array.prototype ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Reads and validates the header of a safetensors file; exported for inspection tools. */
export function readSafetensorsHeader(bytes: Uint8Array): { entries: Map<string, SafetensorsEntry>; metadata: Record<string, string>; dataStart: number } {
  bytes = plainBytes(bytes);
  if (bytes.length < 8) throw new Error(`safetensors: file has ${bytes.length} bytes, too short for the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(bytes.length - 8)) throw new Error(`safetensors: header length ${n} exceeds the ${bytes.length - 8} bytes after the length field (truncated or not a safetensors file)`);
  if (n > BigInt(MAX_HEADER_BYTES)) throw new Error(`safetensors: header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const headerLength = Number(n);
  if (headerLength < 2) throw new Error(`safetensors: header length ${headerLength} is too small for a JSON object`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength));
  } catch {
    throw new Error('safetensors: header is not valid UTF-8');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`safetensors: header is not valid JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('safetensors: header is not a JSON object');

  const metadata: Record<string, string> = {};
  const entries = new Map<string, SafetensorsEntry>();
  for (const [name, raw] of Object.entries(parsed as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      if (raw === null) continue;
      if (typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`safetensors: "${METADATA_KEY}" must be an object of strings`);
      for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof value !== 'string') throw new Error(`safetensors: metadata "${key}" must be a string, got ${JSON.stringify(value)}`);
        metadata[key] = value;
      }
      continue;
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error(`safetensors: tensor "${name}": entry is not an object`);
    const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
    if (typeof dtype !== 'string' || !(dtype in ITEM_SIZE)) {
      throw new Error(`safetensors: tensor "${name}": unsupported dtype ${JSON.stringify(dtype)} (supported: ${Object.keys(ITEM_SIZE).join(', ')})`);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new Error(`safetensors: tensor "${name}": shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw new Error(`safetensors: tensor "${name}": data_offsets ${JSON.stringify(offsets)} is not a pair of non-negative integers`);
    }
    const [begin, end] = offsets as [number, number];
    if (end < begin) throw new Error(`safetensors: tensor "${name}": data_offsets [${begin}, ${end}] end before they begin`);
    const expected = product(shape as number[]) * ITEM_SIZE[dtype as SafetensorsDtype];
    if (end - begin !== expected) {
      throw new Error(`safetensors: tensor "${name}": ${end - begin} bytes in data_offsets [${begin}, ${end}], but shape [${(shape as number[]).join(', ')}] of ${dtype} needs ${expected}`);
    }
    entries.set(name, { dtype: dtype as SafetensorsDtype, shape: shape as number[], data_offsets: [begin, end] });
  }

  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const ordered = [...entries.entries()].sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0] || a[1].data_offsets[1] - b[1].data_offsets[1]);
  let cursor = 0;
  let previous = '(start of the data buffer)';
  for (const [name, { data_offsets: [begin, end] }] of ordered) {
    if (end > dataLength) throw new Error(`safetensors: tensor "${name}": data_offsets [${begin}, ${end}] run past the end of the ${dataLength}-byte data buffer (truncated file?)`);
    if (begin < cursor) throw new Error(`safetensors: tensor "${name}": data_offsets [${begin}, ${end}] overlap "${previous}", which ends at ${cursor}`);
    if (begin > cursor) throw new Error(`safetensors: tensor "${name}": data_offsets [${begin}, ${end}] leave a gap of ${begin - cursor} bytes after ${previous === '(start of the data buffer)' ? previous : `"${previous}"`} (tensors must be contiguous)`);
    cursor = end;
    previous = name;
  }
  if (cursor !== dataLength) {
    throw new Error(`safetensors: ${dataLength - cursor} trailing bytes after the last tensor${ordered.length ? ` ("${previous}", ending at ${cursor})` : ''}; the data buffer has ${dataLength}`);
  }
  return { entries, metadata, dataStart };
}

function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >>> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** Converts raw little-endian bytes of one tensor into a typed array TF.js accepts. */
function convert(name: string, dtype: SafetensorsDtype, raw: Uint8Array, count: number): { values: Float32Array | Int32Array | Uint8Array; tfDtype: 'float32' | 'int32' | 'bool' } {
  // Copy into a fresh ArrayBuffer (offset 0, so aligned for every width). Not `raw.slice()`:
  // on a Node Buffer that is a view of the same, possibly pooled, memory.
  const copy = new Uint8Array(raw.length);
  copy.set(raw);
  const buffer = copy.buffer;
  switch (dtype) {
    case 'F32':
      return { values: new Float32Array(buffer, 0, count), tfDtype: 'float32' };
    case 'F64':
      return { values: Float32Array.from(new Float64Array(buffer, 0, count)), tfDtype: 'float32' };
    case 'F16': {
      const src = new Uint16Array(buffer, 0, count);
      const lut = f16Table();
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = lut[src[i]];
      return { values: out, tfDtype: 'float32' };
    }
    case 'BF16': {
      const src = new Uint16Array(buffer, 0, count);
      const bits = new Uint32Array(count);
      for (let i = 0; i < count; i++) bits[i] = src[i] << 16;
      return { values: new Float32Array(bits.buffer), tfDtype: 'float32' };
    }
    case 'I32':
      return { values: new Int32Array(buffer, 0, count), tfDtype: 'int32' };
    case 'I16':
      return { values: Int32Array.from(new Int16Array(buffer, 0, count)), tfDtype: 'int32' };
    case 'I8':
      return { values: Int32Array.from(new Int8Array(buffer, 0, count)), tfDtype: 'int32' };
    case 'U16':
      return { values: Int32Array.from(new Uint16Array(buffer, 0, count)), tfDtype: 'int32' };
    case 'U8':
      return { values: Int32Array.from(new Uint8Array(buffer, 0, count)), tfDtype: 'int32' };
    case 'U32': {
      const src = new Uint32Array(buffer, 0, count);
      for (let i = 0; i < count; i++) {
        if (src[i] > 0x7fffffff) throw new Error(`safetensors: tensor "${name}": U32 value ${src[i]} at index ${i} does not fit in int32`);
      }
      return { values: new Int32Array(buffer, 0, count), tfDtype: 'int32' };
    }
    case 'I64':
    case 'U64': {
      const words = new Int32Array(buffer, 0, 2 * count);
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const low = words[2 * i];
        const high = words[2 * i + 1];
        // In int32 range exactly when the high word is the sign extension of the low word
        // (and, unsigned, both are non-negative).
        if (high !== low >> 31 || (dtype === 'U64' && low < 0)) {
          const value = dtype === 'I64' ? new BigInt64Array(buffer, 8 * i, 1)[0] : new BigUint64Array(buffer, 8 * i, 1)[0];
          const beyond = value > 2n ** 53n || value < -(2n ** 53n);
          throw new Error(
            `safetensors: tensor "${name}": ${dtype} value ${value} at index ${i} ${beyond ? 'is beyond 2^53 and ' : ''}does not fit in int32, the integer dtype it is read as`,
          );
        }
        out[i] = low;
      }
      return { values: out, tfDtype: 'int32' };
    }
    case 'BOOL': {
      const out = new Uint8Array(buffer, 0, count);
      for (let i = 0; i < count; i++) out[i] = out[i] ? 1 : 0;
      return { values: out, tfDtype: 'bool' };
    }
  }
}

let f16Lut: Float32Array | undefined;
function f16Table(): Float32Array {
  if (!f16Lut) {
    f16Lut = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) f16Lut[h] = f16ToF32(h);
  }
  return f16Lut;
}

/**
 * Decodes a safetensors file into tensors (on the current backend) and metadata.
 *
 * Reads `F32`, `F16` and `BF16` (as float32, exactly), `F64` (rounded to float32: TF.js has no
 * float64), `I32`, `I16`, `I8`, `U16`, `U8` (as int32, exactly), `I64`, `U64` and `U32` (as
 * int32; a value outside int32, in particular one beyond 2^53, is an error naming the tensor) and
 * `BOOL`. The header is validated first: the header length against the file size, the JSON, every
 * entry's dtype, shape and offsets, that `end - begin` equals the shape's element count times the
 * item size, and that the tensors tile the data buffer exactly (no gap, overlap or trailing bytes).
 * Every error names the tensor and the problem. Tensors come back in data order.
 */
export function decodeSafetensors(bytes: Uint8Array): DecodedSafetensors {
  assertLittleEndianHost();
  bytes = plainBytes(bytes);
  const { entries, metadata, dataStart } = readSafetensorsHeader(bytes);
  const ordered = [...entries.entries()].sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0]);
  const tensors = new Map<string, tf.Tensor>();
  try {
    for (const [name, { dtype, shape, data_offsets: [begin, end] }] of ordered) {
      const { values, tfDtype } = convert(name, dtype, bytes.subarray(dataStart + begin, dataStart + end), product(shape));
      tensors.set(name, tf.tensor(values, shape, tfDtype));
    }
  } catch (error) {
    for (const tensor of tensors.values()) tensor.dispose();
    throw error;
  }
  return { tensors, metadata };
}

/**
 * Writes `bytes` to `file` atomically: into a temporary file beside it (flushed to disk), then
 * renamed over the target. On any error the temporary file is removed and an existing `file` is
 * left untouched.
 */
export function writeFileAtomic(file: string, bytes: Uint8Array): void {
  const dir = path.dirname(path.resolve(file));
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}.tmp`);
  let fd: number | undefined;
  try {
    fd = fs.openSync(temp, 'wx');
    let written = 0;
    while (written < bytes.length) written += fs.writeSync(fd, bytes, written, bytes.length - written);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(temp, file);
  } catch (error) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        /* already failing */
      }
    }
    fs.rmSync(temp, { force: true });
    throw error;
  }
}

/**
 * Saves a Params tree as a safetensors file, one tensor per leaf under its dotted path
 * (`encoder.0.weight`), the way PyTorch state dicts are named. The write is atomic (temporary
 * file, then rename): if encoding or writing fails, an existing file is left as it was.
 */
export function saveParams(params: Params, file: string, metadata?: Record<string, string>): void {
  const bytes = encodeSafetensors(flatten(params), metadata);
  writeFileAtomic(file, bytes);
}

function readFileBytes(file: string): Uint8Array {
  return plainBytes(fs.readFileSync(file));
}

/**
 * Loads a safetensors file as a Params tree: every tensor becomes a trainable `tf.Variable`,
 * placed by its dotted name (`encoder.0.weight` → `params.encoder['0'].weight`). Throws if one name
 * is a prefix path of another (`a` and `a.b`).
 */
export function loadParams(file: string): Params {
  const { tensors } = decodeSafetensors(readFileBytes(file));
  try {
    const leaves: Array<[string, tf.Variable]> = [];
    for (const [name, tensor] of tensors) leaves.push([name, variable(tensor, name.replace(/[^A-Za-z0-9_.\-/]/g, '_'))]);
    return unflatten(leaves);
  } catch (error) {
    for (const tensor of tensors.values()) tensor.dispose();
    throw new Error(`loadParams ${file}: ${(error as Error).message}`);
  }
}

/** Options of {@link loadInto}. */
export interface LoadIntoOptions {
  /**
   * With `true` (the default) every leaf of the tree must be in the file and every tensor of the
   * file must be in the tree. With `false`, missing and unexpected keys are reported, not errors.
   * Shape and dtype mismatches are errors either way.
   */
  strict?: boolean;
}

/** What {@link loadInto} did. */
export interface LoadIntoReport {
  /** Paths whose values were copied from the file. */
  loaded: string[];
  /** Paths of the tree that the file does not have (left unchanged). */
  missing: string[];
  /** Names in the file that the tree does not have (ignored). */
  unexpected: string[];
  /** The file's metadata. */
  metadata: Record<string, string>;
}

/**
 * Copies the values of a safetensors file into an existing Params tree (assigning each leaf in
 * place, keeping its `trainable` flag). Everything is checked before anything is assigned: one
 * error names every missing, unexpected (when `strict`), shape-mismatched and dtype-mismatched key,
 * and then the tree is unchanged.
 */
export function loadInto(params: Params, file: string, options: LoadIntoOptions = {}): LoadIntoReport {
  const strict = options.strict ?? true;
  const flat = flatten(params);
  const { tensors, metadata } = decodeSafetensors(readFileBytes(file));
  try {
    const missing = [...flat.keys()].filter((key) => !tensors.has(key));
    const unexpected = [...tensors.keys()].filter((key) => !flat.has(key));
    const mismatched: string[] = [];
    for (const [key, target] of flat) {
      const source = tensors.get(key);
      if (!source) continue;
      if (!tf.util.arraysEqual(source.shape, target.shape)) mismatched.push(`${key} (file [${source.shape.join(', ')}], params [${target.shape.join(', ')}])`);
      else if (source.dtype !== target.dtype) mismatched.push(`${key} (file ${source.dtype}, params ${target.dtype})`);
    }
    const problems: string[] = [];
    if (strict && missing.length) problems.push(`missing from the file: ${missing.join(', ')}`);
    if (strict && unexpected.length) problems.push(`unexpected in the file: ${unexpected.join(', ')}`);
    if (mismatched.length) problems.push(`mismatched: ${mismatched.join('; ')}`);
    if (problems.length) throw new Error(`loadInto ${file}: ${problems.join('. ')}`);
    const loaded: string[] = [];
    for (const [key, target] of flat) {
      const source = tensors.get(key);
      if (!source) continue;
      target.assign(source);
      loaded.push(key);
    }
    return { loaded, missing, unexpected, metadata };
  } finally {
    for (const tensor of tensors.values()) tensor.dispose();
  }
}

