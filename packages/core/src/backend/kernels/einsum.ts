/**
 * `Einsum` for the WASM backend, which tfjs-backend-wasm 4.22 lacks.
 *
 * Implementation: the usual reduction of a two-operand einsum to one batched matrix product,
 * composed from the backend's own C++ kernels (`Sum`, `Transpose`, `Reshape`, `BatchMatMul`).
 * Each label is one of: batch (both operands and the output), contracted (both operands, not the
 * output), free (one operand and the output) or summed-alone (one operand only). Summed-alone
 * axes are summed first; then `A → [batch, freeA, contracted]`, `B → [batch, contracted, freeB]`,
 * one batched matrix product (see `batchMatMulFast`: the WASM `BatchMatMul` is fast only for a
 * single untransposed matrix, so batches are multiplied matrix by matrix), and a final transpose
 * to the output order. The CPU backend instead multiplies
 * broadcast operands and then sums — for attention scores (`bhqd,bhkd->bhqk`) that materialises a
 * `b·h·q·k·d` intermediate; this path never builds anything larger than the operands and output.
 * One operand: `Sum` over the dropped labels, then `Transpose`.
 *
 * Accepts what `tf.einsum` accepts (it validates with tfjs's own `decodeEinsumEquation`): one or
 * two operands, no repeated label within an operand, no ellipsis. Non-float32 operands take the
 * CPU backend's multiply-and-sum algorithm on the WASM kernels, since `BatchMatMul` is float32 only.
 */
import * as tf from '@tensorflow/tfjs-core';
import { batchMatMulFast, disposeIntermediate, reshapeInfo, runWasmKernel, transposeInfo, type WasmBackend } from './wasm-util.js';

/** An einsum equation split into its terms (whitespace removed). */
export interface EinsumTerms {
  inputs: string[];
  output: string;
}

/** Splits a (tfjs-validated) equation into input terms and output term. */
export function parseEinsumTerms(equation: string): EinsumTerms {
  const [lhs, output] = equation.replace(/\s/g, '').split('->');
  const inputs = lhs.split(',');
  if (new Set(output).size !== output.length) {
    throw new Error(`Einsum: repeated label in the output term '${output}' is not supported`);
  }
  return { inputs, output };
}

/** Sums `x` (with `labels`) over every label not in `keep`; returns the new tensor and labels. */
function sumAway(backend: WasmBackend, x: tf.TensorInfo, labels: string, keep: (label: string) => boolean): [tf.TensorInfo, string] {
  const axes: number[] = [];
  let kept = '';
  for (let i = 0; i < labels.length; i++) {
    if (keep(labels[i])) kept += labels[i];
    else axes.push(i);
  }
  if (axes.length === 0) return [reshapeInfo(backend, x, x.shape.slice()), labels];
  const summed = runWasmKernel(backend, tf.Sum, { x }, { axis: axes, keepDims: false });
  // The WASM Sum leaves its output unwritten when the input is empty.
  if (tf.util.sizeFromShape(x.shape) === 0) backend.typedArrayFromHeap(summed).fill(0);
  return [summed, kept];
}

function permutation(from: string, to: string): number[] {
  return Array.from(to, (label) => from.indexOf(label));
}

function unaryEinsum(backend: WasmBackend, x: tf.TensorInfo, input: string, output: string): tf.TensorInfo {
  const [reduced, labels] = sumAway(backend, x, input, (l) => output.includes(l));
  const out = transposeInfo(backend, reduced, permutation(labels, output));
  disposeIntermediate(backend, reduced);
  return out;
}

function binaryEinsum(backend: WasmBackend, a0: tf.TensorInfo, b0: tf.TensorInfo, terms: EinsumTerms): tf.TensorInfo {
  const [ta, tb] = terms.inputs;
  const out = terms.output;
  const [a, la] = sumAway(backend, a0, ta, (l) => tb.includes(l) || out.includes(l));
  const [b, lb] = sumAway(backend, b0, tb, (l) => la.includes(l) || out.includes(l));
  const size = (x: tf.TensorInfo, labels: string, l: string): number => x.shape[labels.indexOf(l)];

  const batch = [...la].filter((l) => lb.includes(l) && out.includes(l)).join('');
  const contracted = [...la].filter((l) => lb.includes(l) && !out.includes(l)).join('');
  const freeA = [...la].filter((l) => !lb.includes(l)).join('');
  const freeB = [...lb].filter((l) => !la.includes(l)).join('');
  const batchSize = [...batch].reduce((s, l) => s * size(a, la, l), 1);
  const m = [...freeA].reduce((s, l) => s * size(a, la, l), 1);
  const k = [...contracted].reduce((s, l) => s * size(a, la, l), 1);
  const n = [...freeB].reduce((s, l) => s * size(b, lb, l), 1);

  // A as [batch, freeA, contracted], B as [batch, contracted, freeB]. Transposes are materialised
  // rather than left to BatchMatMul's transposeA/B flags, which are ~10x slower on WASM.
  const aT = transposeInfo(backend, a, permutation(la, batch + freeA + contracted));
  const bT = transposeInfo(backend, b, permutation(lb, batch + contracted + freeB));
  disposeIntermediate(backend, a);
  disposeIntermediate(backend, b);
  const a3 = reshapeInfo(backend, aT, [batchSize, m, k]);
  const b3 = reshapeInfo(backend, bT, [batchSize, k, n]);
  disposeIntermediate(backend, aT);
  disposeIntermediate(backend, bT);

  let product: tf.TensorInfo;
  if (k === 0 || batchSize * m * n === 0) {
    product = backend.makeOutput([batchSize, m, n], 'float32');
    backend.typedArrayFromHeap(product).fill(0);
  } else {
    product = batchMatMulFast(backend, a3, b3);
  }
  disposeIntermediate(backend, a3);
  disposeIntermediate(backend, b3);

  const productLabels = batch + freeA + freeB;
  const productShape = [...productLabels].map((l) => (la.includes(l) ? size(a, la, l) : size(b, lb, l)));
  const shaped = reshapeInfo(backend, product, productShape);
  disposeIntermediate(backend, product);
  const result = transposeInfo(backend, shaped, permutation(productLabels, out));
  disposeIntermediate(backend, shaped);
  return result;
}

/** The CPU backend's algorithm (broadcast multiply, then sum), on the WASM kernels; any dtype. */
function multiplySumEinsum(backend: WasmBackend, tensors: tf.TensorInfo[], equation: string): tf.TensorInfo {
  const { allDims, summedDims, idDims } = tf.backend_util.decodeEinsumEquation(equation, tensors.length);
  const { path, steps } = tf.backend_util.getEinsumComputePath(summedDims, idDims);
  let out: tf.TensorInfo | null = null;
  let remaining = allDims.length;
  const owned: tf.TensorInfo[] = [];
  for (let i = 0; i < steps.length; i++) {
    for (const term of steps[i]) {
      const { permutationIndices: perm, expandDims } = tf.backend_util.getEinsumPermutation(remaining, idDims[term]);
      let x = transposeInfo(backend, tensors[term], perm);
      owned.push(x);
      const shape = x.shape.slice();
      for (const d of expandDims) shape.splice(d, 0, 1);
      x = reshapeInfo(backend, x, shape);
      owned.push(x);
      if (out === null) out = x;
      else {
        out = runWasmKernel(backend, tf.Multiply, { a: x, b: out });
        owned.push(out);
      }
    }
    if (i < steps.length - 1) {
      if (path[i] >= 0 && out) {
        out = runWasmKernel(backend, tf.Sum, { x: out }, { axis: path[i] - (allDims.length - remaining), keepDims: false });
        owned.push(out);
      }
      remaining--;
    }
  }
  if (out === null) throw new Error(`Einsum: nothing to compute for '${equation}'`);
  for (const info of owned) if (info !== out) disposeIntermediate(backend, info);
  return out;
}

function einsum({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const { equation } = attrs as unknown as tf.EinsumAttrs;
  const tensors = Object.keys(inputs)
    .sort((p, q) => Number(p) - Number(q))
    .map((key) => inputs[key] as tf.TensorInfo);
  const wasm = backend as WasmBackend;
  // tfjs's own validation: same errors as the CPU backend.
  const { allDims, idDims } = tf.backend_util.decodeEinsumEquation(equation, tensors.length);
  tf.backend_util.checkEinsumDimSizes(allDims.length, idDims, tensors as unknown as tf.Tensor[]);
  const terms = parseEinsumTerms(equation);
  if (tensors.some((t) => t.dtype !== 'float32')) return multiplySumEinsum(wasm, tensors, equation);
  if (tensors.length === 1) return unaryEinsum(wasm, tensors[0], terms.inputs[0], terms.output);
  return binaryEinsum(wasm, tensors[0], tensors[1], terms);
}

/** Kernel config: `Einsum` on `wasm`. */
export const einsumWasmConfig: tf.KernelConfig = {
  kernelName: tf.Einsum,
  backendName: 'wasm',
  kernelFunc: einsum,
};
