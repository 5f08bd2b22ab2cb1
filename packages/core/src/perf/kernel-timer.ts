/**
 * Per-kernel wall-clock profiler: wraps every kernel registered for a backend so that each call is
 * timed with `performance.now()` and attributed to its kernel name (and input shapes). Meant for
 * synchronous backends (WASM, CPU) where a kernel's time is spent inside its `kernelFunc`; on an
 * asynchronous backend it would measure dispatch only. Not a hot-path API: wrapping costs ~1 µs
 * per call. `stop()` restores the original kernel functions.
 *
 * Nested kernels (a kernel calling another through `tf.getKernel`) are counted in both, with the
 * nested time also included in the outer one; `self` subtracts nested time.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Accumulated time of one kernel (or one kernel at one set of input shapes). */
export interface KernelTime {
  name: string;
  calls: number;
  /** Total wall time in ms including nested kernels. */
  totalMs: number;
  /** Wall time excluding nested kernel calls. */
  selfMs: number;
}

/** A running profiler. */
export interface KernelTimer {
  /** Resets the counters. */
  reset(): void;
  /** Sorted by self time, descending. */
  report(): KernelTime[];
  /** Restores the kernels. */
  stop(): void;
}

/**
 * Starts timing every kernel of `backendName`. With `byShape`, entries are keyed by
 * `name [shape]x[shape] attrs` so the expensive instances stand out.
 */
export function startKernelTimer(backendName: string, options: { byShape?: boolean } = {}): KernelTimer {
  const stats = new Map<string, KernelTime>();
  const restore: Array<() => void> = [];
  let depth = 0;
  const nestedStack: number[] = [];
  for (const config of tf.getKernelsForBackend(backendName)) {
    const original = config.kernelFunc;
    const wrapped: tf.KernelFunc = (args) => {
      let key = config.kernelName;
      if (options.byShape) {
        const shapes = Object.values(args.inputs).map((t) => (t == null ? '-' : `[${(t as tf.TensorInfo).shape.join(',')}]`));
        const attrs = args.attrs ?? {};
        const flags = ['transposeA', 'transposeB', 'perm', 'axis']
          .filter((a) => a in attrs)
          .map((a) => `${a}=${JSON.stringify((attrs as Record<string, unknown>)[a])}`);
        key = `${config.kernelName} ${shapes.join('x')}${flags.length ? ' ' + flags.join(' ') : ''}`;
      }
      depth++;
      nestedStack.push(0);
      const t0 = performance.now();
      try {
        return original(args);
      } finally {
        const dt = performance.now() - t0;
        const nested = nestedStack.pop()!;
        depth--;
        if (nestedStack.length) nestedStack[nestedStack.length - 1] += dt;
        let s = stats.get(key);
        if (!s) stats.set(key, (s = { name: key, calls: 0, totalMs: 0, selfMs: 0 }));
        s.calls++;
        s.totalMs += dt;
        s.selfMs += dt - nested;
      }
    };
    (config as { kernelFunc: tf.KernelFunc }).kernelFunc = wrapped;
    restore.push(() => {
      (config as { kernelFunc: tf.KernelFunc }).kernelFunc = original;
    });
  }
  return {
    reset: () => stats.clear(),
    report: () => [...stats.values()].sort((a, b) => b.selfMs - a.selfMs),
    stop: () => {
      restore.forEach((r) => r());
      void depth;
    },
  };
}
