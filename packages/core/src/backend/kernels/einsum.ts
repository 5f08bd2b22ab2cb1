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
 * two operands, no repeated label within an operand, no ellipsis. int32 operands contract with a
 * broadcast `Multiply` and `Sum` instead of `BatchMatMul` (float32 only); mixed dtypes are cast to
 * the wider one. Unlike the CPU backend's kernel (tfjs 4.22), it also handles a label that occurs
 * in one operand only on both sides (`'ik,jl->ij'`) and returns a new tensor for `'ij->ij'`.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  assertNumeric,
  batchMatMulFast,
  disposeIntermediate,
  privateMatMulOperand,
  reshapeInfo,
  runWasmKernel,
  transposeInfo,
  type WasmBackend,
} from './wasm-util.js';

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

/**
 * `[batch, m, k] · [batch, k, n]`: the batched matrix product for float32, else (int32) a
 * broadcast multiply `[batch, m, k, 1] · [batch, 1, k, n]` summed over `k`.
 */
function contract(backend: WasmBackend, a3: tf.TensorInfo, b3: tf.TensorInfo): tf.TensorInfo {
  const [batch, m, k] = a3.shape;
  const n = b3.shape[2];
  if (k === 0 || batch * m * n === 0) {
    const zeros = backend.makeOutput([batch, m, n], a3.dtype);
    backend.typedArrayFromHeap(zeros).fill(0);
    return zeros;
  }
  if (a3.dtype === 'float32') return batchMatMulFast(backend, a3, b3);
  const a4 = reshapeInfo(backend, a3, [batch, m, k, 1]);
  const b4 = reshapeInfo(backend, b3, [batch, 1, k, n]);
  const products = runWasmKernel(backend, tf.Multiply, { a: a4, b: b4 });
  disposeIntermediate(backend, a4);
  disposeIntermediate(backend, b4);
  const summed = runWasmKernel(backend, tf.Sum, { x: products }, { axis: [2], keepDims: false });
  disposeIntermediate(backend, products);
  return summed;
}

function binaryEinsum(backend: WasmBackend, a0: tf.TensorInfo, b0: tf.TensorInfo, terms: EinsumTerms): tf.TensorInfo {
  const [ta, tb] = terms.inputs;
  const out = terms.output;
  const [a, la] = sumAway(backend, a0, ta, (l) => tb.includes(l) || out.includes(l));
  const [b, lb] = sumAway(backend, b0, tb, (l) => la.includes(l) || out.includes(l));
  const size = (l: string): number => (la.includes(l) ? a.shape[la.indexOf(l)] : b.shape[lb.indexOf(l)]);
  const volume = (labels: string): number => [...labels].reduce((s, l) => s * size(l), 1);

  const batch = [...la].filter((l) => lb.includes(l) && out.includes(l)).join('');
  const contracted = [...la].filter((l) => lb.includes(l) && !out.includes(l)).join('');
  const freeA = [...la].filter((l) => !lb.includes(l)).join('');
  const freeB = [...lb].filter((l) => !la.includes(l)).join('');
  const productLabels = batch + freeA + freeB;
  const productShape = [...productLabels].map(size);

  // A as [batch, freeA, contracted], B as [batch, contracted, freeB]. Transposes are materialised
  // rather than left to BatchMatMul's transposeA/B flags, which are ~10x slower on WASM.
  const aT = transposeInfo(backend, a, permutation(la, batch + freeA + contracted));
  const bT = transposeInfo(backend, b, permutation(lb, batch + contracted + freeB));
  disposeIntermediate(backend, a);
  disposeIntermediate(backend, b);
  const a3 = reshapeInfo(backend, aT, [volume(batch), volume(freeA), volume(contracted)]);
  const b3Alias = reshapeInfo(backend, bT, [volume(batch), volume(contracted), volume(freeB)]);
  const b3 = privateMatMulOperand(backend, b3Alias, b0);
  disposeIntermediate(backend, b3Alias);
  disposeIntermediate(backend, aT);
  disposeIntermediate(backend, bT);

  const product = contract(backend, a3, b3);
  disposeIntermediate(backend, a3);
  disposeIntermediate(backend, b3);
  const shaped = reshapeInfo(backend, product, productShape);
  disposeIntermediate(backend, product);
  const result = transposeInfo(backend, shaped, permutation(productLabels, out));
  disposeIntermediate(backend, shaped);
  return result;
}

function einsum({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const { equation } = attrs as unknown as tf.EinsumAttrs;
  const wasm = backend as WasmBackend;
  const given = Object.keys(inputs)
    .sort((p, q) => Number(p) - Number(q))
    .map((key) => inputs[key] as tf.TensorInfo);
  // tfjs's own validation: same errors as the CPU backend.
  const { allDims, idDims } = tf.backend_util.decodeEinsumEquation(equation, given.length);
  tf.backend_util.checkEinsumDimSizes(allDims.length, idDims, given as unknown as tf.Tensor[]);
  const terms = parseEinsumTerms(equation);
  for (const t of given) assertNumeric('Einsum', t);
  // Mixed dtypes compute in the wider one.
  const dtype = given.reduce<tf.DataType>((d, t) => tf.upcastType(d, t.dtype), given[0].dtype);
  const tensors = given.map((t) => (t.dtype === dtype ? t : runWasmKernel(wasm, tf.Cast, { x: t }, { dtype })));
  const result =
    tensors.length === 1
      ? unaryEinsum(wasm, tensors[0], terms.inputs[0], terms.output)
      : binaryEinsum(wasm, tensors[0], tensors[1], terms);
  tensors.forEach((t, i) => {
    if (t !== given[i]) disposeIntermediate(wasm, t);
  });
  return result;
}

/** Kernel config: `Einsum` on `wasm`. */
export const einsumWasmConfig: tf.KernelConfig = {
  kernelName: tf.Einsum,
  backendName: 'wasm',
  kernelFunc: einsum,
};
