/**
 * Replay memories of example references (experience, index), never copies of the data:
 *
 * - {@link ReservoirBuffer}: reservoir sampling (Vitter 1985, "Random sampling with a reservoir",
 *   algorithm R) over the stream of every training example seen: after n examples each one is in
 *   the buffer with probability memSize/n.
 * - {@link ClassBalancedBuffer}: Avalanche's `ClassBalancedBuffer` (adaptive size): the slots
 *   are shared equally by the classes seen so far (the first `memSize mod classes` classes get
 *   one more), each class keeping a random subset of its examples that shrinks as classes arrive.
 * - {@link GreedyClassBalancedBuffer}: GDumb's greedy sampler (Prabhu et al. 2020): take every
 *   example while there is room; once full, an example of a class with fewer than
 *   memSize/|classes seen| slots evicts a random example of the largest class.
 *
 * A class is an output unit of the class scenario, so the same digit in two permuted
 * experiences counts as two classes.
 */
import type { Rng } from '../../random.js';
import type { RowFactory, SamplePool } from '../rows.js';

/** A memory of example references. */
export interface ReplayBuffer {
  /** Capacity. */
  readonly memSize: number;
  /** Adds the training examples of experience `experience` (in a random order drawn from `rng`). */
  update(experience: number, rng: Rng): void;
  /** The stored references. */
  pool(): SamplePool;
  /** The class key of each stored example, aligned with {@link pool}. */
  classes(): number[];
}

/** The class key (class-scenario unit) of every training example of an experience, in index order. */
function classKeys(rows: RowFactory, experience: number): Int32Array {
  const data = rows.benchmark.experiences[experience].train;
  const n = rows.benchmark.nClassesPerExperience;
  return Int32Array.from(data.labels, (label) => (rows.benchmark.kind === 'split' ? rows.benchmark.classOrder.indexOf(label) : experience * n + label));
}

interface Entry {
  experience: number;
  index: number;
  key: number;
}

const toPool = (entries: Entry[]): SamplePool => ({ experiences: Int32Array.from(entries, (e) => e.experience), indices: Int32Array.from(entries, (e) => e.index) });

/** Reservoir sampling over all examples seen. */
export class ReservoirBuffer implements ReplayBuffer {
  private readonly entries: Entry[] = [];
  /** Examples seen so far. */
  seen = 0;

  constructor(
    private readonly rows: RowFactory,
    readonly memSize: number,
  ) {}

  update(experience: number, rng: Rng): void {
    const keys = classKeys(this.rows, experience);
    for (const index of rng.permutation(keys.length)) this.offer({ experience, index, key: keys[index] }, rng);
  }

  /** Algorithm R for one example. */
  offer(entry: Entry, rng: Rng): void {
    if (this.entries.length < this.memSize) this.entries.push(entry);
    else {
      const j = rng.int(this.seen + 1);
      if (j < this.memSize) this.entries[j] = entry;
    }
    this.seen++;
  }

  pool(): SamplePool {
    return toPool(this.entries);
  }

  classes(): number[] {
    return this.entries.map((e) => e.key);
  }
}

/** A buffer that keeps its entries per class. */
abstract class PerClassBuffer implements ReplayBuffer {
  protected readonly byClass = new Map<number, Entry[]>();

  constructor(
    protected readonly rows: RowFactory,
    readonly memSize: number,
  ) {}

  abstract update(experience: number, rng: Rng): void;

  pool(): SamplePool {
    return toPool([...this.byClass.values()].flat());
  }

  classes(): number[] {
    return [...this.byClass.values()].flat().map((e) => e.key);
  }
}

/** Equal slots per class seen. */
export class ClassBalancedBuffer extends PerClassBuffer {
  update(experience: number, rng: Rng): void {
    const keys = classKeys(this.rows, experience);
    for (const index of rng.permutation(keys.length)) {
      const list = this.byClass.get(keys[index]) ?? [];
      list.push({ experience, index, key: keys[index] });
      this.byClass.set(keys[index], list);
    }
    const classes = [...this.byClass.keys()];
    const base = Math.floor(this.memSize / classes.length);
    const extra = this.memSize % classes.length;
    classes.forEach((key, rank) => this.byClass.get(key)!.splice(base + (rank < extra ? 1 : 0)));
  }
}

/** GDumb's greedy class-balancing sampler. */
export class GreedyClassBalancedBuffer extends PerClassBuffer {
  private size = 0;

  update(experience: number, rng: Rng): void {
    const keys = classKeys(this.rows, experience);
    for (const index of rng.permutation(keys.length)) {
      const entry = { experience, index, key: keys[index] };
      const list = this.byClass.get(entry.key) ?? [];
      if (!this.byClass.has(entry.key)) this.byClass.set(entry.key, list);
      if (this.size < this.memSize) {
        list.push(entry);
        this.size++;
        continue;
      }
      if (list.length >= this.memSize / this.byClass.size) continue;
      let largest: Entry[] = list;
      for (const other of this.byClass.values()) if (other.length > largest.length) largest = other;
      largest.splice(rng.int(largest.length), 1);
      list.push(entry);
    }
  }
}
