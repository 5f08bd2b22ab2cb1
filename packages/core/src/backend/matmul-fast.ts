/**
 * Fast training kernels for matrix products, registered as kernels of their own (with gradients
 * registered at the kernel level) so that:
 *
 * - **gradients are lazy**: tfjs's tape asks a kernel-level gradient only for the inputs on a path
 *   to what is differentiated (`tf.customGrad` computes every input's gradient), so a frozen
 *   weight gets no `dW` and a model's input gets no `dx`;
 * - **the WASM backend stays on XNNPACK**: its `BatchMatMul` is fast only for one matrix without
 *   transpose flags. Transposes are done here in JavaScript (a 4-row strip loop, ~5× faster than
 *   the backend's `Transpose` at these sizes), bias gradients are a JavaScript column sum (the
 *   backend's `Sum` over axis 0 transposes first: 19 ms for [2048, 1024] against ~2 ms), and a
 *   batch of matrices is multiplied one XNNPACK call per matrix;
 * - **frozen weights are prepared once**: for a weight the caller marks frozen, the transposed copy
 *   (forward) and a private copy (input gradient) are cached under the weight's data id, so
 *   XNNPACK's packed-weights operator (cached by tfjs-backend-wasm under the operand's buffer id)
 *   is built once instead of every step.
 *
 * Kernels (float32):
 * - `HyperLabLinear` {x [n, in], weight [out, in], bias? [out]} → x·Wᵀ + b; attr `frozenWeight`.
 * - `HyperLabLinearGradInput` {dy [n, out], weight [out, in]} → dy·W; attr `frozenWeight`.
 * - `HyperLabLinearGradWeight` {dy [n, out], x [n, in]} → dyᵀ·x.
 * - `HyperLabColumnSum` {x [n, c]} → Σₙ x (the bias gradient).
 * - `HyperLabBatchMatMul` {a, b} rank 3, equal batch, attrs `transposeA`, `transposeB`.
 *
 * Each is registered for `wasm` (the fast path), `cpu` and `tensorflow` (tfjs-node) — the last two
 * by delegating to the backend's own `BatchMatMul`, `Add`, `Sum` kernels, so results are the
 * backend's usual ones. {@link fastKernelsAvailable} tells callers whether the active backend has
 * them (another backend falls back to plain tfjs ops).
 *
 * Caution kept from `kernels/wasm-util.ts`: tfjs-backend-wasm caches XNNPACK operators by the `b`
 * buffer id regardless of shape, so the `b` operand given to `BatchMatMul` here is always a buffer
 * this module owns (a copy or a transpose), never a caller's tensor.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export const LINEAR = 'HyperLabLinear';
export const LINEAR_GRAD_INPUT = 'HyperLabLinearGradInput';
export const LINEAR_GRAD_WEIGHT = 'HyperLabLinearGradWeight';
export const COLUMN_SUM = 'HyperLabColumnSum';
export const BATCH_MATMUL = 'HyperLabBatchMatMul';

/** Backends the kernels are registered for. */
export const FAST_KERNEL_BACKENDS = ['wasm', 'cpu', 'tensorflow'] as const;

/** Per-matrix multiply-adds below which a batch goes to the backend's batched kernel in one call. */
export const PER_MATRIX_THRESHOLD = 16384;

type Info = tf.TensorInfo;
type AnyBackend = tf.KernelBackend;

// ---------------------------------------------------------------------------------------------
// Helpers.

function run(backend: AnyBackend, backendName: string, name: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap = {}): Info {
  const kernel = tf.getKernel(name, backendName);
  if (kernel == null) throw new Error(`backend ${backendName} has no ${name} kernel`);
  const out = kernel.kernelFunc({ inputs, backend, attrs });
  if (Array.isArray(out)) throw new Error(`${name} returned several outputs`);
  return out;
}

/** Frees a kernel's intermediate output. tfjs-node's kernels return engine-tracked `Tensor`s, which must be disposed as tensors. */
function free(backend: AnyBackend, info: Info): void {
  if (info instanceof tf.Tensor) info.dispose();
  else backend.disposeData(info.dataId);
}

function heap(backend: BackendWasm, info: Info): Float32Array {
  return backend.typedArrayFromHeap(info) as Float32Array;
}

/**
 * `dst` (rows × cols of the transpose, i.e. [c, r]) ← transpose of `src` [r, c]. Reads four source
 * rows at a time so each write lands four contiguous floats; ~0.9 ns/element where the backend's
 * Transpose takes 4–8.
 */
export function transposeInto(src: Float32Array, srcOffset: number, r: number, c: number, dst: Float32Array, dstOffset: number): void {
  let i = 0;
  for (; i + 4 <= r; i += 4) {
    const o0 = srcOffset + i * c;
    const o1 = o0 + c;
    const o2 = o1 + c;
    const o3 = o2 + c;
    let d = dstOffset + i;
    for (let j = 0; j < c; j++, d += r) {
      dst[d] = src[o0 + j];
      dst[d + 1] = src[o1 + j];
      dst[d + 2] = src[o2 + j];
      dst[d + 3] = src[o3 + j];
    }
  }
  for (; i < r; i++) {
    const o = srcOffset + i * c;
    let d = dstOffset + i;
    for (let j = 0; j < c; j++, d += r) dst[d] = src[o + j];
  }
}

/** Column sums of `src` [r, c] into `dst` [c] (float32 accumulation, 4 rows per pass). */
export function columnSumInto(src: Float32Array, r: number, c: number, dst: Float32Array): void {
  const acc = new Float32Array(c);
  let i = 0;
  for (; i + 4 <= r; i += 4) {
    const o0 = i * c;
    const o1 = o0 + c;
    const o2 = o1 + c;
    const o3 = o2 + c;
    for (let j = 0; j < c; j++) acc[j] += src[o0 + j] + src[o1 + j] + (src[o2 + j] + src[o3 + j]);
  }
  for (; i < r; i++) {
    const o = i * c;
    for (let j = 0; j < c; j++) acc[j] += src[o + j];
  }
  dst.set(acc);
}

/** A transposed copy of a 2-D `x` [r, c] → [c, r] in a new buffer. */
function transposeWasm(backend: BackendWasm, x: Info): Info {
  const [r, c] = x.shape;
  const out = backend.makeOutput([c, r], 'float32');
  transposeInto(heap(backend, x), 0, r, c, heap(backend, out), 0);
  return out;
}

/** A copy of `x` in a new buffer, with `shape`. */
function copyWasm(backend: BackendWasm, x: Info, shape: number[] = x.shape): Info {
  const out = backend.makeOutput(shape, 'float32');
  heap(backend, out).set(heap(backend, x));
  return out;
}

function matMulWasm(backend: BackendWasm, a: Info, b: Info): Info {
  return run(backend, 'wasm', tf.BatchMatMul, { a, b }, { transposeA: false, transposeB: false });
}

// ---------------------------------------------------------------------------------------------
// Cache of prepared frozen weights (WASM): transposed copy and private copy, keyed by data id.

interface Prepared {
  /** The weight's shape when prepared (a reshape shares the data id). */
  shape: string;
  transposed?: Info;
  copy?: Info;
}

const preparedCaches = new WeakMap<object, Map<tf.DataId, Prepared>>();

/** Frees prepared copies whose source buffer has been disposed. */
function preparedFor(backend: BackendWasm, weight: Info): Prepared | undefined {
  let cache = preparedCaches.get(backend);
  if (cache === undefined) preparedCaches.set(backend, (cache = new Map()));
  for (const [dataId, entry] of cache) {
    if (!backend.dataIdMap.has(dataId)) {
      if (entry.transposed) free(backend, entry.transposed);
      if (entry.copy) free(backend, entry.copy);
      cache.delete(dataId);
    }
  }
  const shape = weight.shape.join(',');
  let entry = cache.get(weight.dataId);
  if (entry === undefined) cache.set(weight.dataId, (entry = { shape }));
  return entry.shape === shape ? entry : undefined;
}

/** Number of frozen weights with prepared copies held for the WASM backend (for tests). */
export function preparedWeightCount(): number {
  const backend = tf.engine().backendName === 'wasm' ? (tf.backend() as BackendWasm) : undefined;
  if (!backend) return 0;
  const cache = preparedCaches.get(backend);
  if (!cache) return 0;
  const probe = { dataId: {}, shape: [], dtype: 'float32' } as Info;
  preparedFor(backend, probe); // sweeps
  cache.delete(probe.dataId);
  return cache.size;
}

// ---------------------------------------------------------------------------------------------
// Kernels: WASM.

function linearWasm({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): Info {
  const be = backend as BackendWasm;
  const { x, weight, bias } = inputs as { x: Info; weight: Info; bias?: Info };
  const frozen = Boolean(attrs?.frozenWeight);
  const entry = frozen ? preparedFor(be, weight) : undefined;
  if (entry) {
    entry.transposed ??= transposeWasm(be, weight);
    const y = matMulWasm(be, x, entry.transposed);
    if (bias == null) return y;
    const out = run(be, 'wasm', tf.Add, { a: y, b: bias });
    free(be, y);
    return out;
  }
  const wT = transposeWasm(be, weight);
  // Fused bias: XNNPACK adds it while writing the output. wT is ours and freed right after, which
  // also deletes the XNNPACK operator cached under its id.
  if (bias == null) {
    const y = matMulWasm(be, x, wT);
    free(be, wT);
    return y;
  }
  // The WASM _FusedMatMul takes rank-3 operands (tfjs-core's op reshapes before calling it).
  const a3 = run(be, 'wasm', tf.Reshape, { x }, { shape: [1, ...x.shape] });
  const b3 = run(be, 'wasm', tf.Reshape, { x: wT }, { shape: [1, ...wT.shape] });
  const y3 = run(be, 'wasm', tf._FusedMatMul, { a: a3, b: b3, bias }, { transposeA: false, transposeB: false, activation: 'linear', leakyreluAlpha: 0 } as unknown as tf.NamedAttrMap);
  const y = run(be, 'wasm', tf.Reshape, { x: y3 }, { shape: y3.shape.slice(1) });
  for (const t of [a3, b3, y3, wT]) free(be, t);
  return y;
}

function linearGradInputWasm({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): Info {
  const be = backend as BackendWasm;
  const { dy, weight } = inputs as { dy: Info; weight: Info };
  const entry = attrs?.frozenWeight ? preparedFor(be, weight) : undefined;
  if (entry) {
    entry.copy ??= copyWasm(be, weight);
    return matMulWasm(be, dy, entry.copy);
  }
  const w = copyWasm(be, weight);
  const dx = matMulWasm(be, dy, w);
  free(be, w);
  return dx;
}

function linearGradWeightWasm({ inputs, backend }: { inputs: tf.NamedTensorInfoMap; backend: unknown }): Info {
  const be = backend as BackendWasm;
  const { dy, x } = inputs as { dy: Info; x: Info };
  const dyT = transposeWasm(be, dy);
  const xs = copyWasm(be, x);
  const dw = matMulWasm(be, dyT, xs);
  free(be, dyT);
  free(be, xs);
  return dw;
}

function columnSumWasm({ inputs, backend }: { inputs: tf.NamedTensorInfoMap; backend: unknown }): Info {
  const be = backend as BackendWasm;
  const x = inputs.x as Info;
  const [r, c] = x.shape;
  const out = be.makeOutput([c], 'float32');
  columnSumInto(heap(be, x), r, c, heap(be, out));
  return out;
}

/** Copies matrix `index` of `src` ([batch, r, c]) into `dst` at 0, transposed when `transpose`. */
function sliceInto(src: Float32Array, index: number, r: number, c: number, transpose: boolean, dst: Float32Array): void {
  const offset = index * r * c;
  if (transpose) transposeInto(src, offset, r, c, dst, 0);
  else dst.set(src.subarray(offset, offset + r * c));
}

function batchMatMulWasm({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): Info {
  const be = backend as BackendWasm;
  const { a, b } = inputs as { a: Info; b: Info };
  const transposeA = Boolean(attrs?.transposeA);
  const transposeB = Boolean(attrs?.transposeB);
  const [batch, ar, ac] = a.shape;
  const [, br, bc] = b.shape;
  const m = transposeA ? ac : ar;
  const k = transposeA ? ar : ac;
  const n = transposeB ? br : bc;
  if (m * k * n < PER_MATRIX_THRESHOLD) {
    return run(be, 'wasm', tf.BatchMatMul, { a, b }, { transposeA, transposeB });
  }
  const out = be.makeOutput([batch, m, n], 'float32');
  const aSlice = be.makeOutput([1, m, k], 'float32');
  for (let i = 0; i < batch; i++) {
    // b must be a fresh buffer each time: XNNPACK's operator (packed b) is cached by its id.
    const bSlice = be.makeOutput([1, k, n], 'float32');
    // Views taken after every allocation: growing the heap detaches older ones.
    sliceInto(heap(be, a), i, ar, ac, transposeA, heap(be, aSlice));
    sliceInto(heap(be, b), i, br, bc, transposeB, heap(be, bSlice));
    const product = matMulWasm(be, aSlice, bSlice);
    heap(be, out).set(heap(be, product), i * m * n);
    free(be, product);
    free(be, bSlice);
  }
  free(be, aSlice);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Kernels: any other backend, through its own kernels.

function generic(backendName: string) {
  const linear = ({ inputs, backend }: { inputs: tf.NamedTensorInfoMap; backend: unknown }): Info => {
    const be = backend as AnyBackend;
    const { x, weight, bias } = inputs as { x: Info; weight: Info; bias?: Info };
    const y = run(be, backendName, tf.BatchMatMul, { a: x, b: weight }, { transposeA: false, transposeB: true });
    if (bias == null) return y;
    const out = run(be, backendName, tf.Add, { a: y, b: bias });
    free(be, y);
    return out;
  };
  const gradInput = ({ inputs, backend }: { inputs: tf.NamedTensorInfoMap; backend: unknown }): Info =>
    run(backend as AnyBackend, backendName, tf.BatchMatMul, { a: inputs.dy, b: inputs.weight }, { transposeA: false, transposeB: false });
  const gradWeight = ({ inputs, backend }: { inputs: tf.NamedTensorInfoMap; backend: unknown }): Info =>
    run(backend as AnyBackend, backendName, tf.BatchMatMul, { a: inputs.dy, b: inputs.x }, { transposeA: true, transposeB: false });
  const columnSum = ({ inputs, backend }: { inputs: tf.NamedTensorInfoMap; backend: unknown }): Info =>
    run(backend as AnyBackend, backendName, tf.Sum, { x: inputs.x }, { axis: [0], keepDims: false });
  const batchMatMul = ({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): Info =>
    run(backend as AnyBackend, backendName, tf.BatchMatMul, { a: inputs.a, b: inputs.b }, { transposeA: Boolean(attrs?.transposeA), transposeB: Boolean(attrs?.transposeB) });
  return { linear, gradInput, gradWeight, columnSum, batchMatMul };
}

// ---------------------------------------------------------------------------------------------
// Gradients.

function runKernel(name: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap = {}): tf.Tensor {
  return tf.engine().runKernel(name, inputs, attrs) as tf.Tensor;
}

const linearGrad: tf.GradConfig = {
  kernelName: LINEAR,
  inputsToSave: ['x', 'weight'],
  gradFunc: (dy, saved, attrs) => {
    const g = dy as tf.Tensor;
    const [x, weight] = saved;
    const frozenWeight = Boolean((attrs as tf.NamedAttrMap | undefined)?.frozenWeight);
    return {
      x: () => runKernel(LINEAR_GRAD_INPUT, { dy: g, weight }, { frozenWeight }),
      weight: () => runKernel(LINEAR_GRAD_WEIGHT, { dy: g, x }),
      bias: () => runKernel(COLUMN_SUM, { x: g }),
    };
  },
};

// dy·W is linear in both: d(dy) = g·Wᵀ, dW = gᵀ·dy.
const linearGradInputGrad: tf.GradConfig = {
  kernelName: LINEAR_GRAD_INPUT,
  inputsToSave: ['dy', 'weight'],
  gradFunc: (g, [dy, weight]) => ({
    dy: () => runKernel(LINEAR, { x: g as tf.Tensor, weight }),
    weight: () => runKernel(LINEAR_GRAD_WEIGHT, { dy, x: g as tf.Tensor }),
  }),
};

// dyᵀ·x: d(dy) = x·gᵀ, dx = dy·g.
const linearGradWeightGrad: tf.GradConfig = {
  kernelName: LINEAR_GRAD_WEIGHT,
  inputsToSave: ['dy', 'x'],
  gradFunc: (g, [dy, x]) => ({
    dy: () => runKernel(LINEAR, { x, weight: g as tf.Tensor }),
    x: () => runKernel(LINEAR_GRAD_INPUT, { dy, weight: g as tf.Tensor }),
  }),
};

const columnSumGrad: tf.GradConfig = {
  kernelName: COLUMN_SUM,
  inputsToSave: ['x'],
  gradFunc: (g, [x]) => ({ x: () => tf.mul(tf.onesLike(x), g as tf.Tensor) }),
};

function bmm(a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean): tf.Tensor {
  return runKernel(BATCH_MATMUL, { a, b }, { transposeA, transposeB });
}

// As tfjs's BatchMatMul gradient, with every product through the fast kernel.
const batchMatMulGrad: tf.GradConfig = {
  kernelName: BATCH_MATMUL,
  inputsToSave: ['a', 'b'],
  gradFunc: (dy, [a, b], attrs) => {
    const g = dy as tf.Tensor;
    const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
    if (!transposeA && !transposeB) return { a: () => bmm(g, b, false, true), b: () => bmm(a, g, true, false) };
    if (!transposeA && transposeB) return { a: () => bmm(g, b, false, false), b: () => bmm(g, a, true, false) };
    if (transposeA && !transposeB) return { a: () => bmm(b, g, false, true), b: () => bmm(a, g, false, false) };
    return { a: () => bmm(b, g, true, true), b: () => bmm(g, a, true, true) };
  },
};

// ---------------------------------------------------------------------------------------------
// Registration.

let registered = false;

/** Registers the kernels (for wasm, cpu, tensorflow) and their gradients. Idempotent. */
export function registerFastKernels(): void {
  if (registered) return;
  registered = true;
  const wasm: Record<string, tf.KernelFunc> = {
    [LINEAR]: linearWasm as unknown as tf.KernelFunc,
    [LINEAR_GRAD_INPUT]: linearGradInputWasm as unknown as tf.KernelFunc,
    [LINEAR_GRAD_WEIGHT]: linearGradWeightWasm as unknown as tf.KernelFunc,
    [COLUMN_SUM]: columnSumWasm as unknown as tf.KernelFunc,
    [BATCH_MATMUL]: batchMatMulWasm as unknown as tf.KernelFunc,
  };
  for (const backendName of FAST_KERNEL_BACKENDS) {
    const g = generic(backendName);
    const funcs: Record<string, tf.KernelFunc> =
      backendName === 'wasm'
        ? wasm
        : {
            [LINEAR]: g.linear as unknown as tf.KernelFunc,
            [LINEAR_GRAD_INPUT]: g.gradInput as unknown as tf.KernelFunc,
            [LINEAR_GRAD_WEIGHT]: g.gradWeight as unknown as tf.KernelFunc,
            [COLUMN_SUM]: g.columnSum as unknown as tf.KernelFunc,
            [BATCH_MATMUL]: g.batchMatMul as unknown as tf.KernelFunc,
          };
    for (const [kernelName, kernelFunc] of Object.entries(funcs)) {
      if (tf.getKernel(kernelName, backendName) == null) tf.registerKernel({ kernelName, backendName, kernelFunc });
    }
  }
  for (const grad of [linearGrad, linearGradInputGrad, linearGradWeightGrad, columnSumGrad, batchMatMulGrad]) {
    if (tf.getGradient(grad.kernelName) == null) tf.registerGradient(grad);
  }
}

let enabled = true;

/**
 * Turns HyperLab's fast training paths (this module's kernels and the fused Adam of
 * `train/adam-fused.ts`) off or on; off restores the previous code paths exactly (custom-gradient
 * linear, `tf.matMul` attention, op-by-op Adam). For benchmarks and bisecting. Returns the previous.
 */
export function setFastKernelsEnabled(on: boolean): boolean {
  const previous = enabled;
  enabled = on;
  return previous;
}

/** Whether the fast paths are enabled ({@link setFastKernelsEnabled}). */
export function fastKernelsEnabled(): boolean {
  return enabled;
}

/** Whether the fast kernels are enabled and the active backend has them (registering them first). */
export function fastKernelsAvailable(): boolean {
  registerFastKernels();
  return enabled && tf.getKernel(LINEAR, tf.getBackend()) != null;
}

/** `x·Wᵀ + b` for 2-D `x` [n, in] through {@link LINEAR}; `frozenWeight` enables the prepared-weight cache. */
export function linearKernel(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor | undefined, frozenWeight: boolean): tf.Tensor {
  const inputs: tf.NamedTensorMap = bias === undefined ? { x, weight } : { x, weight, bias };
  return runKernel(LINEAR, inputs, { frozenWeight });
}

/** Rank-3 batched product with optional transposes through {@link BATCH_MATMUL}. */
export function batchMatMulKernel(a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false): tf.Tensor {
  return bmm(a, b, transposeA, transposeB);
}

/** Debug: shapes of prepared entries (for tests). */
export function preparedWeightShapes(): string[] {
  const backend = tf.engine().backendName === 'wasm' ? (tf.backend() as BackendWasm) : undefined;
  const cache = backend ? preparedCaches.get(backend) : undefined;
  return cache ? [...cache.entries()].map(([id, e]) => `${e.shape} t=${Boolean(e.transposed)} c=${Boolean(e.copy)} live=${backend!.dataIdMap.has(id)}`) : [];
}
