/**
 * `UnsortedSegmentSum` for the WASM backend — the gradient of `tf.gather` (and so of every
 * embedding lookup, soft prompt and prefix), which tfjs-backend-wasm 4.22 lacks.
 *
 * Implementation: one pass in TypeScript over the input, straight on the WASM heap:
 * `out[ids[i], :] += x[i, :]`. That is O(size of x), where the CPU backend's kernel builds one
 * mask, product and sum per segment (O(numSegments × size)); for a 10000-row embedding the
 * difference is several orders of magnitude. The accumulation order per output element is the
 * order of the ids, as on CPU, so float32 results agree to rounding.
 *
 * Semantics follow TensorFlow's `UnsortedSegmentSum`: `segmentIds` indexes the leading
 * `segmentIds.rank` axes of `x`; the output has shape `[numSegments, ...x.shape[segmentIds.rank:]]`;
 * ids outside `[0, numSegments)` are dropped (as on the CPU backend). For 1-D ids (the documented
 * case, and the only one tfjs's gather gradient produces) this equals the CPU backend exactly; the
 * CPU kernel gives a different shape for ids of rank > 1 (it reduces only the first axis).
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertNumeric, type WasmBackend } from './wasm-util.js';

function unsortedSegmentSum({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const { numSegments } = attrs as unknown as tf.UnsortedSegmentSumAttrs;
  const wasm = backend as WasmBackend;
  assertNumeric('UnsortedSegmentSum', x);
  assertNumeric('UnsortedSegmentSum', segmentIds);
  if (!Number.isInteger(numSegments) || numSegments < 0) {
    throw new Error(`UnsortedSegmentSum: numSegments must be a non-negative integer, got ${numSegments}`);
  }
  const idsRank = segmentIds.shape.length;
  const leading = x.shape.slice(0, idsRank);
  if (leading.length !== idsRank || leading.some((d, i) => d !== segmentIds.shape[i])) {
    throw new Error(
      `UnsortedSegmentSum: segmentIds shape [${segmentIds.shape}] must be a prefix of x shape [${x.shape}]`,
    );
  }
  const innerShape = x.shape.slice(idsRank);
  const inner = tf.util.sizeFromShape(innerShape);
  const outer = tf.util.sizeFromShape(segmentIds.shape);

  const out = wasm.makeOutput([numSegments, ...innerShape], x.dtype);
  // Views only after the allocation (it may grow the heap and detach earlier views).
  const o = wasm.typedArrayFromHeap(out);
  const xs = wasm.typedArrayFromHeap(x);
  const ids = wasm.typedArrayFromHeap(segmentIds);
  o.fill(0);
  for (let i = 0; i < outer; i++) {
    const id = ids[i];
    if (!(id >= 0 && id < numSegments) || id !== Math.floor(id)) continue;
    const dst = id * inner;
    const src = i * inner;
    for (let j = 0; j < inner; j++) o[dst + j] += xs[src + j];
  }
  return out;
}

/** Kernel config: `UnsortedSegmentSum` on `wasm`. */
export const unsortedSegmentSumWasmConfig: tf.KernelConfig = {
  kernelName: tf.UnsortedSegmentSum,
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSum,
};
