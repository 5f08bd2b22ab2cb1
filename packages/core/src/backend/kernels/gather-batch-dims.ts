/**
 * `GatherV2` with `batchDims > 0` for the WASM backend. tfjs-backend-wasm 4.22's own kernel gives
 * wrong forward values when `batchDims` is not 0 (gather of [2, 3, 2] by [[0, 2, 2], [1, 1, 0]] on
 * axis 1 with batchDims 1 differs from the CPU backend and TensorFlow). HyperLab wraps the kernel:
 * `batchDims = 0` still runs the native kernel; other cases are computed here on the heap, with
 * TensorFlow's semantics: `out[b, o, i, s] = x[b, o, indices[b, i], s]`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { WasmBackend } from './wasm-util.js';

const product = (dims: number[]): number => dims.reduce((a, b) => a * b, 1);

/** Wraps the registered WASM `GatherV2` (idempotent); returns true when it installed the wrapper. */
export function installGatherBatchDimsFix(): boolean {
  const native = tf.getKernel(tf.GatherV2, 'wasm');
  if (native == null || (native.kernelFunc as { hyperlab?: boolean }).hyperlab) return false;
  const nativeFunc = native.kernelFunc;
  const kernelFunc = ((args: { inputs: tf.NamedTensorInfoMap; backend: WasmBackend; attrs: tf.NamedAttrMap }) => {
    const { x, indices } = args.inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
    const rank = x.shape.length;
    const rawBatchDims = Number(args.attrs.batchDims ?? 0);
    const batchDims = rawBatchDims < 0 ? rawBatchDims + indices.shape.length : rawBatchDims;
    if (batchDims === 0) return nativeFunc(args as unknown as Parameters<tf.KernelFunc>[0]);
    const rawAxis = Number(args.attrs.axis ?? 0);
    const axis = rawAxis < 0 ? rawAxis + rank : rawAxis;
    if (axis < batchDims) throw new Error(`gather: axis (${axis}) must be >= batchDims (${batchDims})`);
    for (let d = 0; d < batchDims; d++) {
      if (x.shape[d] !== indices.shape[d]) throw new Error(`gather: x.shape[${d}] = ${x.shape[d]} must equal indices.shape[${d}] = ${indices.shape[d]} for batchDims ${batchDims}`);
    }
    const batch = product(x.shape.slice(0, batchDims));
    const outer = product(x.shape.slice(batchDims, axis));
    const dimSize = x.shape[axis];
    const slice = product(x.shape.slice(axis + 1));
    const perBatch = product(indices.shape.slice(batchDims));
    const outShape = [...x.shape.slice(0, axis), ...indices.shape.slice(batchDims), ...x.shape.slice(axis + 1)];
    const { backend } = args;
    const out = backend.makeOutput(outShape, x.dtype);
    // Views only after the allocation, which may grow (and detach) the heap.
    const source = backend.typedArrayFromHeap(x);
    const ids = backend.typedArrayFromHeap(indices);
    const target = backend.typedArrayFromHeap(out);
    for (let b = 0; b < batch; b++) {
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < perBatch; i++) {
          const index = ids[b * perBatch + i];
          if (index < 0 || index >= dimSize) throw new Error(`gather: index ${index} at batch ${b} is outside [0, ${dimSize})`);
          const from = ((b * outer + o) * dimSize + index) * slice;
          const to = ((b * outer + o) * perBatch + i) * slice;
          for (let s = 0; s < slice; s++) target[to + s] = source[from + s];
        }
      }
    }
    return out;
  }) as unknown as tf.KernelFunc & { hyperlab?: boolean };
  kernelFunc.hyperlab = true;
  tf.unregisterKernel(tf.GatherV2, 'wasm');
  tf.registerKernel({ ...native, kernelFunc });
  return true;
}
