/**
 * The Adam/AdamW moment update and parameter step as one kernel, `HyperLabAdam`, for the `wasm`
 * and `cpu` backends: one JavaScript loop over the parameter, gradient and both moments (on the
 * WASM heap, or the CPU backend's arrays) instead of ~12 tensor ops each allocating a full-size
 * intermediate. Arithmetic in double precision, rounded to float32 on store, formula for formula
 * as `adamUpdate` in `optimizers.ts`:
 *
 * ```text
 * m' = β1·m + (1 − β1)·g;   v' = β2·v + (1 − β2)·g²
 * θ' = θ − (lr / bc1) · m' / (√v' / √bc2 + ε)
 * ```
 *
 * Outputs are new buffers `[θ', m', v']` (tensors are immutable: clones share buffers, and the WASM
 * matmul caches packed weights by buffer id, so updating in place would be wrong).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { fastKernelsEnabled } from '../backend/matmul-fast.js';

export const ADAM = 'HyperLabAdam';

/** Attributes of {@link ADAM}. */
export interface AdamAttrs {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** 1 − β1ᵗ. */
  biasCorrection1: number;
  /** 1 − β2ᵗ. */
  biasCorrection2: number;
}

function adamLoop(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, outP: Float32Array, outM: Float32Array, outV: Float32Array, a: AdamAttrs): void {
  const { beta1, beta2, eps } = a;
  const c1 = 1 - beta1;
  const c2 = 1 - beta2;
  const stepSize = a.lr / a.biasCorrection1;
  const invSqrtBc2 = 1 / Math.sqrt(a.biasCorrection2);
  for (let i = 0; i < p.length; i++) {
    const gi = g[i];
    const mi = beta1 * m[i] + c1 * gi;
    const vi = beta2 * v[i] + c2 * gi * gi;
    outM[i] = mi;
    outV[i] = vi;
    outP[i] = p[i] - (stepSize * mi) / (Math.sqrt(vi) * invSqrtBc2 + eps);
  }
}

type Args = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

function adamWasm({ inputs, backend, attrs }: Args): tf.TensorInfo[] {
  const be = backend as BackendWasm;
  const { param, grad, m, v } = inputs as Record<string, tf.TensorInfo>;
  const outs = [be.makeOutput(param.shape, 'float32'), be.makeOutput(param.shape, 'float32'), be.makeOutput(param.shape, 'float32')];
  const view = (t: tf.TensorInfo): Float32Array => be.typedArrayFromHeap(t) as Float32Array; // after all allocations
  adamLoop(view(param), view(grad), view(m), view(v), view(outs[0]), view(outs[1]), view(outs[2]), attrs as unknown as AdamAttrs);
  return outs;
}

function adamCpu({ inputs, backend, attrs }: Args): tf.TensorInfo[] {
  const be = backend as tf.KernelBackend & { data: { get(id: tf.DataId): { values: Float32Array } }; makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo };
  const { param, grad, m, v } = inputs as Record<string, tf.TensorInfo>;
  const view = (t: tf.TensorInfo): Float32Array => be.data.get(t.dataId).values;
  const n = tf.util.sizeFromShape(param.shape);
  const [outP, outM, outV] = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
  adamLoop(view(param), view(grad), view(m), view(v), outP, outM, outV, attrs as unknown as AdamAttrs);
  return [outP, outM, outV].map((values) => be.makeTensorInfo(param.shape, 'float32', values));
}

let registered = false;

function register(): void {
  if (registered) return;
  registered = true;
  if (tf.getKernel(ADAM, 'wasm') == null) tf.registerKernel({ kernelName: ADAM, backendName: 'wasm', kernelFunc: adamWasm as unknown as tf.KernelFunc });
  if (tf.getKernel(ADAM, 'cpu') == null) tf.registerKernel({ kernelName: ADAM, backendName: 'cpu', kernelFunc: adamCpu as unknown as tf.KernelFunc });
}

/**
 * One fused Adam update, or undefined when the active backend has no fused kernel (or a tensor is
 * not float32, or the fast paths are switched off with `setFastKernelsEnabled(false)`): then the
 * caller runs the op-by-op version. Returns `[θ', m', v']`.
 */
export function fusedAdam(param: tf.Tensor, grad: tf.Tensor, m: tf.Tensor, v: tf.Tensor, attrs: AdamAttrs): tf.Tensor[] | undefined {
  register();
  if (!fastKernelsEnabled() || tf.getKernel(ADAM, tf.getBackend()) == null) return undefined;
  if ([param, grad, m, v].some((t) => t.dtype !== 'float32')) return undefined;
  return tf.engine().runKernel(ADAM, { param, grad, m, v }, attrs as unknown as tf.NamedAttrMap) as unknown as tf.Tensor[];
}
