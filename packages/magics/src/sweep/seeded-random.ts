/**
 * The sweep's own seeded randomness: a tiny PRNG in plain 32-bit arithmetic, so the search
 * algorithms never load `@hyperlab/core` (and with it TensorFlow). Each consumer takes its own
 * stream with {@link SweepRandom.fork}, so adding a consumer never shifts another's numbers.
 *
 * The generator is a 32-bit counter passed through a strong integer mixer (Weyl sequence +
 * finaliser, the construction of SplitMix): period 2^32 per stream, which is far more than a
 * sweep draws, and streams for different labels start from unrelated states.
 */

/** FNV-1a hash of a string (32-bit). */
export function hashText(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The 32-bit finaliser that turns a counter into a well-mixed output. */
function mix32(x: number): number {
  let z = x >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x7feb352d) >>> 0;
  z = Math.imul(z ^ (z >>> 15), 0x846ca68b) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** A deterministic random stream. */
export class SweepRandom {
  private state: number;
  private spare: number | undefined;

  /** @param seed a number (its low 32 bits are used) or a text, hashed. */
  constructor(readonly seed: number | string = 0) {
    this.state = mix32(typeof seed === 'string' ? hashText(seed) : seed >>> 0);
  }

  /** The next 32-bit unsigned integer. */
  nextUint32(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    return mix32(this.state);
  }

  /** Uniform in [0, 1), with 53 bits of resolution. */
  uniform(): number {
    const high = this.nextUint32() >>> 5; // 27 bits
    const low = this.nextUint32() >>> 6; // 26 bits
    return (high * 67108864 + low) / 9007199254740992;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    if (!(n > 0) || !Number.isInteger(n)) throw new RangeError(`SweepRandom.int: n must be a positive integer, got ${n}`);
    return Math.min(n - 1, Math.floor(this.uniform() * n));
  }

  /** One element of a non-empty array, uniformly. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('SweepRandom.pick: empty array');
    return items[this.int(items.length)];
  }

  /** Standard normal (Box–Muller, the second value kept for the next call). */
  normal(): number {
    if (this.spare !== undefined) {
      const value = this.spare;
      this.spare = undefined;
      return value;
    }
    const u = 1 - this.uniform(); // (0, 1]
    const v = this.uniform();
    const radius = Math.sqrt(-2 * Math.log(u));
    this.spare = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  }

  /** An independent stream for one consumer, derived from this stream's seed and a label. */
  fork(label: string): SweepRandom {
    return new SweepRandom(hashText(`${String(this.seed)}/${label}`));
  }
}

/**
 * A trial's seed: a deterministic function of the sweep's seed and the trial id (a non-negative
 * 31-bit integer, as `%seed` and run records take), so a trial gets the same seed however many
 * trials run at once and in whatever order they finish.
 */
export function trialSeed(sweepSeed: number, trialId: string): number {
  return mix32(hashText(`${sweepSeed >>> 0}:${trialId}`) ^ Math.imul(sweepSeed >>> 0, 0x9e3779b1)) >>> 1;
}

/** The id of the `index`-th trial: `t000`, `t001`, …, `t999`, `t1000`, … (sortable as text up to 999). */
export function trialIdOf(index: number): string {
  return `t${String(index).padStart(3, '0')}`;
}

/** Orders trial ids by their number (`t999` before `t1000`), then as text. */
export function compareTrialIds(a: string, b: string): number {
  const na = /^t(\d+)$/.exec(a);
  const nb = /^t(\d+)$/.exec(b);
  if (na && nb) return Number(na[1]) - Number(nb[1]);
  return a < b ? -1 : a > b ? 1 : 0;
}
