/**
 * `LocalEngine`, the embedded default {@link SweepEngine}: trials run in a pool of forked Node
 * child processes on this machine (`local-worker.js`, one trial at a time each), so training never
 * blocks the kernel and `concurrency` trials run in parallel. Children are forked on demand and
 * reused across trials (loading TensorFlow.js costs about a second), inherit the kernel's backend
 * explicitly (`HYPERLAB_BACKEND`), never its stdin, and go away when the kernel does.
 *
 * ```ts
 * const engine = new LocalEngine({ concurrency: 2 });
 * const result = await engine.run(spec, { signal, onReport });
 * await engine.close();
 * ```
 */
import * as os from 'node:os';
import type { BackendName } from '@hyperlab/core';
import type { SweepEngine, TrialReport, TrialResult, TrialSpec } from './engine.js';
import { TrialProcess } from './trial-process.js';
import { ensureBackend, loadCore } from '../session.js';

/** Options of {@link LocalEngine}. */
export interface LocalEngineOptions {
  /** Trials at once, each in its own child process. Default `os.availableParallelism()`. */
  concurrency?: number;
  /**
   * The children's backend. Default: the backend this process uses (the one `%backend` chose, else
   * the automatic choice, selected here once on the first trial), so a trial's numbers match an
   * in-process run of the same config.
   */
  backend?: BackendName | 'auto';
  /** How long an aborted trial's child has between SIGTERM and SIGKILL, in ms. Default 2000. */
  killGraceMs?: number;
  /** Receives every line the children print (prefixed with their pid). Default: dropped. */
  log?: (line: string) => void;
  /** Extra environment variables for the children. */
  env?: NodeJS.ProcessEnv;
}

/** Counters of a {@link LocalEngine}, for diagnostics and tests. */
export interface LocalEngineStats {
  /** Children forked so far (a child that died or was killed is replaced by a new fork). */
  forked: number;
  /** Pids of the children alive now. */
  pids: number[];
  /** Trials running now. */
  running: number;
}

/** The embedded engine; see the module comment. */
export class LocalEngine implements SweepEngine {
  readonly concurrency: number;
  private readonly killGraceMs: number;
  private backend?: Promise<string>;
  private readonly idle: TrialProcess[] = [];
  private readonly children = new Set<TrialProcess>();
  private readonly waiting: Array<{ grant: () => void; refuse: (error: unknown) => void }> = [];
  private running = 0;
  private forked = 0;
  private closed = false;

  constructor(private readonly options: LocalEngineOptions = {}) {
    const concurrency = options.concurrency ?? os.availableParallelism();
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`LocalEngine: concurrency must be an integer ≥ 1, got ${concurrency}`);
    this.concurrency = concurrency;
    this.killGraceMs = options.killGraceMs ?? 2000;
    if (options.backend !== undefined) this.backend = Promise.resolve(options.backend);
  }

  /**
   * Runs `spec` in a child. Waits for a free slot when `concurrency` trials are running. Rejects
   * with a `TrialError` (the trial's own error name and message, e.g. `ConfigError`), with an
   * Error naming the child's pid and exit status when it dies mid-trial (it is replaced for the
   * next trial), or with `signal.reason` once an abort has killed the trial's child.
   */
  async run(spec: TrialSpec, { signal, onReport }: { signal: AbortSignal; onReport?: (report: TrialReport) => void }): Promise<TrialResult> {
    if (this.closed) throw new Error('LocalEngine: closed');
    await this.acquire(signal);
    let child: TrialProcess | undefined;
    try {
      child = this.idle.pop() ?? (await this.fork());
      return await child.run(spec, { signal, ...(onReport ? { onReport } : {}) });
    } finally {
      if (child?.alive && !this.closed) this.idle.push(child);
      this.release();
    }
  }

  /** Kills every child (SIGTERM, then SIGKILL after the grace period) and refuses further trials. */
  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiting.splice(0)) waiter.refuse(new Error('LocalEngine: closed'));
    this.idle.length = 0;
    await Promise.all([...this.children].map((child) => child.kill('the engine was closed')));
  }

  /** Children forked, alive and trials running. */
  stats(): LocalEngineStats {
    return { forked: this.forked, pids: [...this.children].filter((c) => c.alive).map((c) => c.pid), running: this.running };
  }

  private async fork(): Promise<TrialProcess> {
    this.backend ??= (async () => {
      const core = loadCore();
      await ensureBackend(core);
      return core.backendInfo().name;
    })();
    const backend = await this.backend;
    if (this.closed) throw new Error('LocalEngine: closed');
    const log = this.options.log;
    let child: TrialProcess | undefined;
    child = TrialProcess.fork({
      backend,
      killGraceMs: this.killGraceMs,
      ...(log ? { log: (line: string) => log(`[trial process ${child?.pid ?? '?'}] ${line}`) } : {}),
      ...(this.options.env ? { env: this.options.env } : {}),
    });
    this.forked++;
    this.children.add(child);
    const forked = child;
    void forked.exited.then(() => {
      this.children.delete(forked);
      const at = this.idle.indexOf(forked);
      if (at >= 0) this.idle.splice(at, 1);
    });
    return child;
  }

  private acquire(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (this.running < this.concurrency) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        grant: () => {
          signal.removeEventListener('abort', onAbort);
          this.running++;
          resolve();
        },
        refuse: (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      const onAbort = () => {
        const at = this.waiting.indexOf(waiter);
        if (at >= 0) this.waiting.splice(at, 1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  private release(): void {
    this.running--;
    this.waiting.shift()?.grant();
  }
}
