/** When a Plotly output needs a (new) PNG snapshot. Pure, for tests. */

/** Output metadata key holding the hash of the figure the stored PNG shows. */
export const SNAPSHOT_KEY = 'hyperlab/snapshot-of';

/** FNV-1a 32-bit hash of a string, as 8 hex digits. */
export function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

/** True unless the output already carries a PNG taken from the figure with this hash. */
export function snapshotNeeded(data: Readonly<Record<string, unknown>>, metadata: Readonly<Record<string, unknown>>, figureHash: string): boolean {
  return !(typeof data['image/png'] === 'string' && metadata[SNAPSHOT_KEY] === figureHash);
}
