/**
 * HyperLab's kernels for the WASM backend, registered only where tfjs has none.
 *
 * Audit (tfjs-backend-wasm 4.22.0 against tfjs-backend-cpu 4.22.0, `tf.getKernel(name, 'wasm')`):
 * the CPU backend registers 172 kernels, WASM 157. Missing on WASM:
 * - training-relevant: `UnsortedSegmentSum` (gradient of gather → embeddings, prompt tuning),
 *   `Conv2DBackpropFilter` (conv2d filter gradient), `Einsum`,
 *   `DepthwiseConv2dNativeBackpropFilter` and `DepthwiseConv2dNativeBackpropInput` (depthwise /
 *   separable conv training — not provided here yet);
 * - others: `Complex`, `ComplexAbs`, `Real`, `Imag`, `FFT`, `IFFT`, `Draw`, `RaggedGather`,
 *   `RaggedRange`, `RaggedTensorToTensor`, `StaticRegexReplace`.
 * Present on WASM (checked): `Conv2DBackpropInput`, `BatchMatMul`, `Transpose`, `Sum`, `Slice`,
 * `GatherV2`, `Conv3DBackpropFilterV2`, `MaxPoolGrad`, `AvgPoolGrad`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { conv2DBackpropFilterWasmConfig } from './conv2d-backprop-filter.js';
import { einsumWasmConfig } from './einsum.js';
import { installGatherBatchDimsFix } from './gather-batch-dims.js';
import { unsortedSegmentSumWasmConfig } from './unsorted-segment-sum.js';

/** The kernels HyperLab provides for `wasm`. */
export const HYPERLAB_WASM_KERNELS: readonly tf.KernelConfig[] = [
  unsortedSegmentSumWasmConfig,
  conv2DBackpropFilterWasmConfig,
  einsumWasmConfig,
];

/** What {@link registerWasmKernels} found and did. */
export interface KernelInstallReport {
  /** Kernels registered by HyperLab (by this call or an earlier one). */
  hyperlab: string[];
  /** Kernels tfjs (or someone else) already provides for `wasm`; HyperLab's stayed unregistered. */
  native: string[];
}

const ours = new Set<tf.KernelConfig>();

/**
 * Registers each HyperLab WASM kernel whose name has no `wasm` kernel yet, so a future
 * tfjs-backend-wasm that ships its own keeps it. Idempotent.
 */
export function registerWasmKernels(): KernelInstallReport {
  const report: KernelInstallReport = { hyperlab: [], native: [] };
  installGatherBatchDimsFix();
  for (const config of HYPERLAB_WASM_KERNELS) {
    const existing = tf.getKernel(config.kernelName, config.backendName);
    if (existing == null) {
      tf.registerKernel(config);
      ours.add(config);
      report.hyperlab.push(config.kernelName);
    } else if (ours.has(config) || existing.kernelFunc === config.kernelFunc) {
      report.hyperlab.push(config.kernelName);
    } else {
      report.native.push(config.kernelName);
    }
  }
  return report;
}
