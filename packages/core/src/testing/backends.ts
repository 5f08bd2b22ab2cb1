/**
 * Test helper: run a test body on each backend — WASM, CPU, and TensorFlow's native library
 * (`tensorflow`, through tfjs-node) where its addon is built (`bash scripts/setup-native.sh`) —
 * so every test that matters is checked on all of them. Importing this module registers the
 * backends, the extra kernels and the gradients, as `setBackend()` does.
 *
 * `HYPERLAB_REQUIRE_NATIVE=1` makes a missing native backend an error instead of a note, for
 * machines where it is expected.
 */
import * as tf from '@tensorflow/tfjs-core';
import { test, type TestContext } from 'node:test';
import { nativeBackendProblem, registerBackends } from '../backend/backend.js';

// The backends, HyperLab's WASM kernels and the gradients tfjs-core's Node bundle omits: tests see
// exactly what `setBackend()` gives users.
registerBackends();

/** Every backend a core test can run on (tfjs names). */
export const ALL_TEST_BACKENDS = ['wasm', 'cpu', 'tensorflow'] as const;
export type TestBackend = (typeof ALL_TEST_BACKENDS)[number];

/** Why the native backend is not tested here (undefined when it is). */
export const NATIVE_PROBLEM: string | undefined = nativeBackendProblem();

if (NATIVE_PROBLEM !== undefined) {
  if (process.env.HYPERLAB_REQUIRE_NATIVE === '1') throw new Error(`HYPERLAB_REQUIRE_NATIVE=1 but the native backend is unavailable: ${NATIVE_PROBLEM}`);
  process.emitWarning(`core tests run on wasm and cpu only: ${NATIVE_PROBLEM}`, { code: 'HYPERLAB_NO_NATIVE' });
}

/** The backends every core test runs on here: wasm, cpu, and tensorflow where tfjs-node loads. */
export const TEST_BACKENDS: readonly TestBackend[] = ALL_TEST_BACKENDS.filter((b) => b !== 'tensorflow' || NATIVE_PROBLEM === undefined);

/** Switches to a backend and waits until it is ready. */
export async function useBackend(name: TestBackend): Promise<void> {
  if (tf.getBackend() !== name) {
    const ok = await tf.setBackend(name);
    if (!ok) throw new Error(`backend ${name} failed to initialise`);
  }
  await tf.ready();
}

/** Declares `name [wasm]`, `name [cpu]` (and `name [tensorflow]`) tests running `body` on each backend. */
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
