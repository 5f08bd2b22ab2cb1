/**
 * Test helpers for kernels: run the same computation on WASM and CPU and compare, check that a
 * computation leaves no tensor and no backend buffer behind, and seeded random inputs.
 */
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import type { Rng } from '../../random.js';
import { useBackend, type TestBackend } from '../../testing/backends.js';

/** One output of a computation, read back. */
export interface Computed {
  shape: number[];
  dtype: tf.DataType;
  values: ArrayLike<number>;
}

/** Runs `fn` on `backend` inside `tf.tidy` and returns its outputs, read back and disposed. */
export async function computeOn(backend: TestBackend, fn: () => tf.Tensor | tf.Tensor[]): Promise<Computed[]> {
  await useBackend(backend);
  const outs = tf.tidy(() => {
    const result = fn();
    return Array.isArray(result) ? result : [result];
  });
  const read = outs.map((t) => ({ shape: t.shape.slice(), dtype: t.dtype, values: t.dataSync().slice() as ArrayLike<number> }));
  tf.dispose(outs);
  return read;
}

/** The largest `|a − b| / (1 + |b|)` over two equally long arrays. */
export function maxScaledDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'lengths differ');
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i]));
    if (!(d <= max)) max = Number.isNaN(d) ? Infinity : d;
  }
  return max;
}

/**
 * Runs `fn` on CPU and on WASM and asserts equal shapes, dtypes and values within `tolerance`
 * (absolute for values below 1, relative above). Returns the WASM outputs.
 */
export async function assertSameOnBackends(label: string, fn: () => tf.Tensor | tf.Tensor[], tolerance = 1e-5): Promise<Computed[]> {
  const cpu = await computeOn('cpu', fn);
  const wasm = await computeOn('wasm', fn);
  assert.equal(wasm.length, cpu.length, `${label}: number of outputs`);
  for (let i = 0; i < cpu.length; i++) {
    assert.deepEqual(wasm[i].shape, cpu[i].shape, `${label}: shape of output ${i}`);
    assert.equal(wasm[i].dtype, cpu[i].dtype, `${label}: dtype of output ${i}`);
    const diff = maxScaledDiff(wasm[i].values, cpu[i].values);
    assert.ok(diff <= tolerance, `${label}: output ${i} differs by ${diff} (> ${tolerance})`);
  }
  return wasm;
}

/**
 * Asserts that `fn`, run in `tf.tidy` on `backend`, leaves the number of tensors and of backend
 * buffers unchanged (the latter catches intermediates a kernel forgot to free).
 */
export async function assertNoLeaks(backend: TestBackend, fn: () => unknown): Promise<void> {
  await useBackend(backend);
  tf.tidy(() => void fn()); // warm-up: first calls may allocate caches
  const tensors = tf.memory().numTensors;
  const buffers = tf.backend().numDataIds();
  tf.tidy(() => void fn());
  assert.equal(tf.memory().numTensors, tensors, 'tensors leaked');
  assert.equal(tf.backend().numDataIds(), buffers, 'backend buffers leaked');
}

/** Uniform values in [low, high). */
export function randomValues(rng: Rng, shape: number[], low = -1, high = 1): Float32Array {
  return rng.fillUniform(new Float32Array(shape.reduce((a, b) => a * b, 1)), low, high);
}

/** `size` integers in [low, high). */
export function randomInts(rng: Rng, size: number, low: number, high: number): Int32Array {
  const out = new Int32Array(size);
  for (let i = 0; i < size; i++) out[i] = low + rng.int(high - low);
  return out;
}
