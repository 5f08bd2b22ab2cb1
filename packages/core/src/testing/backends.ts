/**
 * Test helper: run a test body on each embedded backend (WASM, then CPU), so every test that
 * matters is checked on both. Importing this module registers both backends, the extra kernels and
 * the gradients, as `setBackend()` does.
 */
import * as tf from '@tensorflow/tfjs-core';
import { test, type TestContext } from 'node:test';
import { registerBackends } from '../backend/backend.js';

// The backends, HyperLab's WASM kernels and the gradients tfjs-core's Node bundle omits: tests see
// exactly what `setBackend()` gives users.
registerBackends();

/** The backends every core test runs on. */
export const TEST_BACKENDS = ['wasm', 'cpu'] as const;
export type TestBackend = (typeof TEST_BACKENDS)[number];

/** Switches to a backend and waits until it is ready. */
export async function useBackend(name: TestBackend): Promise<void> {
  if (tf.getBackend() !== name) {
    const ok = await tf.setBackend(name);
    if (!ok) throw new Error(`backend ${name} failed to initialise`);
  }
  await tf.ready();
}

/** Declares `name [wasm]` and `name [cpu]` tests running `body` on each backend. */
export function testOnBackends(name: string, body: (backend: TestBackend, t: TestContext) => void | Promise<void>): void {
  for (const backend of TEST_BACKENDS) {
    test(`${name} [${backend}]`, async (t) => {
      await useBackend(backend);
      await body(backend, t);
    });
  }
}

/** Max absolute difference between two tensors (or arrays), for numeric assertions. */
export function maxAbsDiff(a: tf.Tensor | ArrayLike<number>, b: tf.Tensor | ArrayLike<number>): number {
  const x = a instanceof tf.Tensor ? a.dataSync() : a;
  const y = b instanceof tf.Tensor ? b.dataSync() : b;
  if (x.length !== y.length) throw new Error(`maxAbsDiff: lengths ${x.length} and ${y.length} differ`);
  let max = 0;
  for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i] - y[i]));
  return max;
}
