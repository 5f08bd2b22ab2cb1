/** Sample pools: concatenating them and drawing random subsets. */
import type { Rng } from '../../random.js';
import type { SamplePool } from '../rows.js';

/** The pools' entries one after another. */
export function concatPools(pools: SamplePool[]): SamplePool {
  const size = pools.reduce((n, p) => n + p.indices.length, 0);
  const out: SamplePool = { experiences: new Int32Array(size), indices: new Int32Array(size) };
  let offset = 0;
  for (const p of pools) {
    out.experiences.set(p.experiences, offset);
    out.indices.set(p.indices, offset);
    offset += p.indices.length;
  }
  return out;
}

/** `count` distinct positions in `[0, size)` (all of them, shuffled, when count ≥ size), by a partial Fisher–Yates. */
export function samplePositions(size: number, count: number, rng: Rng): Int32Array {
  const k = Math.min(count, size);
  const order = Int32Array.from({ length: size }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(size - i);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order.slice(0, k);
}

/** The entries of `pool` at `positions`, as a pool. */
export function pickFromPool(pool: SamplePool, positions: ArrayLike<number>): SamplePool {
  return { experiences: Int32Array.from(positions, (p) => pool.experiences[p]), indices: Int32Array.from(positions, (p) => pool.indices[p]) };
}

/**
 * Positions of `steps` minibatches of a pool of `size` entries, as van de Ven's data loaders
 * (`drop_last=True`, reshuffled each pass): each pass a permutation from `rng`, cut into full
 * batches; a pool smaller than one batch gives all of it each time.
 */
export function* minibatchPositions(size: number, batchSize: number, steps: number, rng: Rng): Generator<Int32Array> {
  if (size === 0) throw new Error('continual: nothing to train on (an empty training pool)');
  let done = 0;
  while (done < steps) {
    const order = rng.permutation(size);
    const count = Math.max(1, Math.floor(size / batchSize));
    for (let b = 0; b < count && done < steps; b++, done++) yield order.slice(b * batchSize, Math.min(size, (b + 1) * batchSize));
  }
}
