/**
 * Small helpers for kernels written for the WASM backend in TypeScript: run one of the backend's
 * own (C++) kernels on `TensorInfo`s, and free intermediates.
 *
 * Heap views (`backend.typedArrayFromHeap`) point into the WASM memory; any allocation
 * (`makeOutput`, running a kernel) may grow that memory and detach them. Kernels here therefore
 * allocate first and take views afterwards, and never hold a view across a kernel call.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** The WASM backend instance a kernel receives. */
export type WasmBackend = BackendWasm;

/** Runs the kernel registered for `wasm` under `name`; the caller owns (and must free) the result. */
export function runWasmKernel(
  backend: WasmBackend,
  name: string,
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap = {},
): tf.TensorInfo {
  const kernel = tf.getKernel(name, 'wasm');
  if (kernel == null) throw new Error(`The WASM backend has no ${name} kernel`);
  const out = kernel.kernelFunc({ inputs, backend, attrs });
  if (Array.isArray(out)) throw new Error(`WASM kernel ${name} returned several outputs; expected one`);
  return out;
}

/** Frees an intermediate `TensorInfo` made inside a kernel. */
export function disposeIntermediate(backend: WasmBackend, info: tf.TensorInfo): void {
  backend.disposeData(info.dataId);
}

/** A reshaped alias of `x` (shares memory; free it with {@link disposeIntermediate}). */
export function reshapeInfo(backend: WasmBackend, x: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  return runWasmKernel(backend, tf.Reshape, { x }, { shape });
}

/** A transposed copy of `x`, or an alias when `perm` is the identity. */
export function transposeInfo(backend: WasmBackend, x: tf.TensorInfo, perm: number[]): tf.TensorInfo {
  if (perm.every((axis, i) => axis === i)) return reshapeInfo(backend, x, x.shape.slice());
  return runWasmKernel(backend, tf.Transpose, { x }, { perm });
}

/** A copy of `x` in a new buffer (with a new id), reshaped to `shape`. */
export function copyInfo(backend: WasmBackend, x: tf.TensorInfo, shape: number[] = x.shape): tf.TensorInfo {
  const out = backend.makeOutput(shape, x.dtype);
  backend.typedArrayFromHeap(out).set(backend.typedArrayFromHeap(x));
  return out;
}

/**
 * The `b` operand for the WASM `BatchMatMul`: `b` itself, or a copy when `b` shares its buffer
 * with `source` (a caller's tensor). The kernel's XNNPACK path caches packed weights under the
 * buffer id of `b` regardless of shape, so the same buffer later multiplied under another shape
 * (a reshape of the caller's tensor) reads stale packed weights — out-of-bounds heap access in
 * tfjs-backend-wasm 4.22. A HyperLab kernel must not seed that cache with a caller's buffer.
 */
export function privateMatMulOperand(backend: WasmBackend, b: tf.TensorInfo, source: tf.TensorInfo): tf.TensorInfo {
  if (b.dataId !== source.dataId) return reshapeInfo(backend, b, b.shape.slice());
  return copyInfo(backend, b);
}

/** Checks that a tensor has a dtype this family of kernels computes on. */
export function assertNumeric(kernel: string, x: tf.TensorInfo): void {
  if (x.dtype !== 'float32' && x.dtype !== 'int32') {
    throw new Error(`${kernel} on WASM supports float32 and int32 tensors, got ${x.dtype}`);
  }
}

/** Per-matrix work (multiply-adds) from which {@link batchMatMulFast} multiplies batch by batch. */
export const PER_MATRIX_LOOP_THRESHOLD = 16384;

/**
 * `[batch, m, k] · [batch, k, n] → [batch, m, n]` on the WASM backend, the fast way. Its
 * `BatchMatMul` kernel is fast (XNNPACK) only for one matrix without transposes; with a batch
 * or `transposeA/B` it falls back to loops about 10× slower. So: one matrix → one call; a batch
 * of matrices worth it → one call per matrix on copied slices; tiny matrices → the batched call.
 * Measured (ms, batched call vs per-matrix): 64×(128·64·128) 43.6 vs 5.6; 8×128³ 10.2 vs 1.1;
 * 2×512³ 336 vs 15; 256×16³ 0.95 vs 2.2 (hence the threshold).
 */
export function batchMatMulFast(backend: WasmBackend, a: tf.TensorInfo, b: tf.TensorInfo): tf.TensorInfo {
  const [batch, m, k] = a.shape;
  const n = b.shape[2];
  if (batch === 1 || m * k * n < PER_MATRIX_LOOP_THRESHOLD) {
    return runWasmKernel(backend, tf.BatchMatMul, { a, b }, { transposeA: false, transposeB: false });
  }
  const out = backend.makeOutput([batch, m, n], 'float32');
  for (let i = 0; i < batch; i++) {
    // Fresh slices every time: the XNNPACK path caches packed weights by the id of `b`, so
    // refilling one slice tensor would reuse the first matrix. Fresh views too: allocations may
    // grow the heap and detach earlier ones.
    const aSlice = backend.makeOutput([1, m, k], 'float32');
    const bSlice = backend.makeOutput([1, k, n], 'float32');
    (backend.typedArrayFromHeap(aSlice) as Float32Array).set((backend.typedArrayFromHeap(a) as Float32Array).subarray(i * m * k, (i + 1) * m * k));
    (backend.typedArrayFromHeap(bSlice) as Float32Array).set((backend.typedArrayFromHeap(b) as Float32Array).subarray(i * k * n, (i + 1) * k * n));
    const product = runWasmKernel(backend, tf.BatchMatMul, { a: aSlice, b: bSlice }, { transposeA: false, transposeB: false });
    (backend.typedArrayFromHeap(out) as Float32Array).set(backend.typedArrayFromHeap(product) as Float32Array, i * m * n);
    disposeIntermediate(backend, product);
    disposeIntermediate(backend, aSlice);
    disposeIntermediate(backend, bSlice);
  }
  return out;
}
