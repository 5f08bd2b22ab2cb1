/**
 * A lazily transformed image dataset: every example's pixels rearranged by one index map
 * (`out[p] = in[sourceIndex[p]]`, or 0 where the index is −1). Permuted MNIST (a permutation) and
 * Rotated MNIST (a nearest-neighbour rotation) are such maps. Rows are transformed on demand
 * ({@link PixelMapDataset.readRow}, what the continual runner's batcher uses), so ten permuted
 * copies of MNIST cost no memory until something asks for the whole `features` array, which is
 * then built once and kept.
 *
 * The fingerprint is derived from the base view's fingerprint and a SHA-256 of the map, without
 * building the features: the view is a deterministic function of the two.
 */
import { createHash } from 'node:crypto';
import type { Dataset } from '../data/dataset.js';
import { sortedKeysJson } from '../data/fingerprint.js';

/** SHA-256 (hex) of an index map, as recorded in benchmark descriptions. */
export function indexMapFingerprint(sourceIndex: Int32Array): string {
  return createHash('sha256').update(new Uint8Array(sourceIndex.buffer, sourceIndex.byteOffset, sourceIndex.byteLength)).digest('hex');
}

/** A dataset whose rows are a base dataset's rows with their features rearranged by an index map. */
export class PixelMapDataset implements Dataset {
  readonly size: number;
  readonly featureShape: number[];
  readonly labels: Int32Array | Float32Array;
  readonly labelShape: number[];
  readonly params: Readonly<Record<string, unknown>>;
  readonly numClasses?: number;
  private built?: Float32Array;
  private hash?: string;

  /**
   * @param base the untransformed view
   * @param sourceIndex for each output feature, the input feature it copies (−1: zero)
   * @param name the view's name
   * @param params what defines the transform (recorded; the map itself enters the fingerprint)
   */
  constructor(
    readonly base: Dataset,
    readonly sourceIndex: Int32Array,
    readonly name: string,
    params: Record<string, unknown>,
  ) {
    const width = base.featureShape.reduce((a, b) => a * b, 1);
    if (sourceIndex.length !== width) throw new Error(`${name}: an index map of ${sourceIndex.length} entries for ${width} features`);
    for (const s of sourceIndex) if (s < -1 || s >= width || !Number.isInteger(s)) throw new Error(`${name}: index map entry ${s} out of range [−1, ${width})`);
    this.size = base.size;
    this.featureShape = [...base.featureShape];
    this.labels = base.labels;
    this.labelShape = [...base.labelShape];
    this.params = Object.freeze({ ...(base.params ?? {}), ...params, base: base.name });
    if (base.numClasses !== undefined) this.numClasses = base.numClasses;
  }

  /** Writes example `i`'s transformed features into `out` at `offset`. */
  readRow(i: number, out: Float32Array, offset: number): void {
    const map = this.sourceIndex;
    const width = map.length;
    const src = this.base.features;
    const start = i * width;
    for (let p = 0; p < width; p++) {
      const s = map[p];
      out[offset + p] = s < 0 ? 0 : src[start + s];
    }
  }

  /** All transformed features (built on first access, then kept). */
  get features(): Float32Array {
    if (!this.built) {
      const width = this.sourceIndex.length;
      const out = new Float32Array(this.size * width);
      for (let i = 0; i < this.size; i++) this.readRow(i, out, i * width);
      this.built = out;
    }
    return this.built;
  }

  /** SHA-256 of the base view's fingerprint, the params and the index map. */
  fingerprint(): string {
    this.hash ??= createHash('sha256')
      .update(sortedKeysJson({ format: 'hyperlab-pixel-map-dataset/1', name: this.name, params: this.params, base: this.base.fingerprint(), map: indexMapFingerprint(this.sourceIndex) }))
      .digest('hex');
    return this.hash;
  }
}

/** Writes example `i` of any dataset into `out` at `offset` (transforming on the fly where the view can). */
export function readFeatures(dataset: Dataset, i: number, out: Float32Array, offset: number): void {
  if (dataset instanceof PixelMapDataset) {
    dataset.readRow(i, out, offset);
    return;
  }
  const width = dataset.featureShape.reduce((a, b) => a * b, 1);
  out.set(dataset.features.subarray(i * width, (i + 1) * width), offset);
}
