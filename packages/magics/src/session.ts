/**
 * What the magics remember in one kernel session: the seed `%seed` set, how often live outputs may
 * update, and every run so far by name (for `%runs`, `%compare` and `model: <run>` references).
 */
import type { RunRecord } from '@hyperlab/core/runs';

/** A run the session remembers. */
export interface SessionRun {
  /** Its name (`--as NAME`, or `<magic>-<n>`). */
  name: string;
  /** The magic that made it (`adapter`, `experiment`, …). */
  magic: string;
  /** Its record. */
  record: RunRecord;
  /** What the notebook variable of the same name holds. */
  value: Record<string, unknown>;
}

/** Session state of the magics. */
export class MagicSession {
  /** The seed runs use unless their config sets one (`%seed N`). */
  seed = 0;
  /** Live output updates per second at most. */
  liveRate = 2;
  /** Runs by name, in the order they finished. */
  readonly runs = new Map<string, SessionRun>();
  private counters = new Map<string, number>();

  /** A fresh default name for a run of `magic`: `adapter-1`, `adapter-2`, … (skipping taken names). */
  nextName(magic: string): string {
    let n = this.counters.get(magic) ?? 0;
    let name: string;
    do name = `${magic}-${++n}`;
    while (this.runs.has(name));
    this.counters.set(magic, n);
    return name;
  }

  /** Adds (or replaces, moving it last) a run. */
  add(run: SessionRun): void {
    this.runs.delete(run.name);
    this.runs.set(run.name, run);
  }
}

/** The session of this kernel (one realm, one session). */
export const session = new MagicSession();

let backendReady: Promise<void> | undefined;

/** The compute core, loaded on first use (registering the magics must not load TensorFlow.js). */
export function loadCore(): typeof import('@hyperlab/core') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@hyperlab/core') as typeof import('@hyperlab/core');
}

/**
 * Makes sure a tfjs backend is active before a magic computes: the one `%backend` chose, else the
 * core's automatic choice (tfjs-node when installed, else WASM, else CPU), set up once.
 */
export function ensureBackend(core: typeof import('@hyperlab/core')): Promise<void> {
  backendReady ??= core.setBackend().then(() => undefined);
  return backendReady;
}

/** Records that `%backend` set the backend (so {@link ensureBackend} keeps it); undefined forgets a failed choice. */
export function backendChosen(ready: Promise<void> | undefined): void {
  backendReady = ready;
}
